"""Engines and sessions, built from explicit settings, never at import time."""

from __future__ import annotations

import logging
import select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg.pq import ConnStatus
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from cidery.db import server
from cidery.errors import ConfigError
from cidery.urls import describe_url, mask_secrets

log = logging.getLogger(__name__)


# Where it is documented; it lives with the server, for the commands that need no SQLAlchemy.
resolve_url = server.resolve_url


# Liveness without a round trip per checkout. pool_pre_ping would send a query every time
# a session takes a connection from the pool: a round trip as long as a short read. The
# pool checks instead, on checkout, whether the server has said anything on the socket
# of the idle connection: a healthy idle connection has nothing to read, while a backend
# that was terminated or a server that shut down leaves its last message and the end of
# the stream there. Only then is the connection pinged (and replaced if it is dead). What
# the socket cannot show, a peer that vanished without closing (a host or network gone),
# TCP keepalives detect within about a minute (libpq's keepalives_*; not used on a Unix
# socket, where the peer is local), and pool_recycle bounds a connection's age for
# firewalls and proxies that drop idle connections quietly. A connection that dies in the
# instant between the check and its first statement fails that statement: SQLAlchemy
# then invalidates it and every connection of the pool older than it, and the press
# service reports a retryable DatabaseFailure.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
_RECYCLE_S = 1800


def _spoke_while_idle(dbapi_connection: Any) -> bool:
    """Whether the server sent something on an idle connection's socket (psycopg only)."""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:
        return True  # another driver: no socket to look at, so always ping
    if pgconn.status != ConnStatus.OK:
        return True
    ready, _, _ = select.select([pgconn.socket], [], [], 0)
    return bool(ready)


def _check_on_checkout(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkout")
    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if not _spoke_while_idle(dbapi_connection):
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception:
            alive = False
        if not alive:
            # The pool discards the connection and checks out another (a new one if needed).
            raise DisconnectionError("the server closed the pooled connection")


def make_engine(
    url: str, *, server_settings: dict[str, str] | None = None, **kwargs: Any
) -> Engine:
    """An engine on ``url``; ``server_settings`` (say ``{"lock_timeout": "5s"}``) are set
    on each of its connections when it opens (libpq's ``options``)."""
    connect_args: dict[str, Any] = {
        "application_name": "cidery",
        "connect_timeout": 10,
        **_KEEPALIVES,
    }
    if server_settings:
        connect_args["options"] = " ".join(
            f"-c {name}={value}" for name, value in server_settings.items()
        )
    try:
        engine = create_engine(
            url,
            pool_pre_ping=False,
            pool_recycle=kwargs.pop("pool_recycle", _RECYCLE_S),
            connect_args=connect_args,
            **kwargs,
        )
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(
            f"invalid database URL {describe_url(url)}: {mask_secrets(str(exc))}"
        ) from exc
    _check_on_checkout(engine)
    return engine


def driver_error(exc: DBAPIError) -> str:
    """The first line of what the driver said, its connection strings masked."""
    return server.said(exc.orig if exc.orig is not None else exc)


def check_connection(engine: Engine) -> str:
    """Connect once and return the server version, or raise a one-line error."""
    where = describe_url(engine.url.render_as_string(hide_password=False))
    log.info("connecting to %s", where)
    try:
        with engine.connect() as conn:
            number, version = conn.execute(
                text(
                    "SELECT current_setting('server_version_num'), "
                    "current_setting('server_version')"
                )
            ).one()
    except DBAPIError as exc:
        raise server.cannot_connect(where, driver_error(exc)) from exc
    log.info("connected: PostgreSQL %s", version)
    refused = server.too_old(int(number), str(version))
    if refused is not None:
        raise refused
    return str(version)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed when the block ends without error."""
    with session_factory(engine)() as session, session.begin():
        yield session
