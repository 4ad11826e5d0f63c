"""Engines and sessions, built from explicit settings, never at import time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from cidery.config import Settings
from cidery.db import server
from cidery.errors import ConfigError, DatabaseUnavailable
from cidery.urls import describe_url, mask_secrets

log = logging.getLogger(__name__)


def resolve_url(settings: Settings) -> str:
    """The database URL: DATABASE_URL, or the embedded server (started if needed)."""
    if settings.database_url is not None:
        return settings.database_url
    return server.start(settings.data_dir)


def make_engine(url: str, **kwargs: object) -> Engine:
    try:
        return create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"application_name": "cidery", "connect_timeout": 10},
            **kwargs,
        )
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(
            f"invalid database URL {describe_url(url)}: {mask_secrets(str(exc))}"
        ) from exc


def driver_error(exc: DBAPIError) -> str:
    """The first line of what the driver said, its connection strings masked."""
    origin = exc.orig if exc.orig is not None else exc
    lines = str(origin).strip().splitlines()
    return mask_secrets(lines[0] if lines else type(origin).__name__)


def check_connection(engine: Engine) -> str:
    """Connect once and return the server version, or raise a one-line error."""
    where = describe_url(engine.url.render_as_string(hide_password=False))
    log.info("connecting to %s", where)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
    except DBAPIError as exc:
        raise DatabaseUnavailable(f"cannot connect to {where}: {driver_error(exc)}") from exc
    log.info("connected: PostgreSQL %s", version)
    major = int(str(version).split(".")[0])
    if major < 14:
        raise DatabaseUnavailable(f"PostgreSQL {version} is too old: cidery needs 14 or newer")
    return str(version)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed when the block ends without error."""
    with session_factory(engine)() as session, session.begin():
        yield session
