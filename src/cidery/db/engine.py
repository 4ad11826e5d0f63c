"""Engines and sessions, built from explicit settings, never at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from cidery.config import Settings
from cidery.db import server
from cidery.errors import ConfigError, DatabaseUnavailable


def resolve_url(settings: Settings) -> str:
    """The database URL: DATABASE_URL, or the embedded server (started if needed)."""
    if settings.database_url is not None:
        return settings.database_url
    return server.start(settings.data_dir)


def describe_url(url: str) -> str:
    """The URL with its password hidden, for messages and status tables."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def make_engine(url: str, **kwargs: object) -> Engine:
    try:
        return create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"application_name": "cidery", "connect_timeout": 10},
            **kwargs,
        )
    except ArgumentError as exc:
        raise ConfigError(f"invalid database URL {describe_url(url)}: {exc}") from exc


def check_connection(engine: Engine) -> str:
    """Connect once and return the server version, or raise a one-line error."""
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"cannot connect to {describe_url(str(engine.url))}: {reason}"
        ) from exc
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
