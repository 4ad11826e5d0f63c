"""How the app is served: its database account, cookies, pool."""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal

from cidery.config import DEFAULT_LABOR_RATE, DEFAULT_LOCK_TIMEOUT, labor_rate
from cidery.errors import ConfigError


@dataclass(frozen=True)
class ApiSettings:
    # The app's own database account (row access only), not the schema owner's.
    database_url: str
    # Secure cookies when served over TLS. Behind a TLS proxy the app sees plain
    # HTTP, so this is set explicitly (CIDERY_SECURE_COOKIES=1), not guessed.
    secure_cookies: bool = False
    pool_size: int = 10
    # Origins besides the app's own from which signed-in browsers may send writes.
    trusted_origins: tuple[str, ...] = ()
    # A request waiting longer than this for a row another holds is answered 503 with
    # Retry-After rather than left hanging (CIDERY_LOCK_TIMEOUT); no statement of a
    # request may run longer than STATEMENT_TIMEOUT.
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT
    statement_timeout: str = "30s"
    # What an hour of labor costs when a run is completed without a rate of its own
    # (CIDERY_LABOR_RATE).
    labor_rate: Decimal = DEFAULT_LABOR_RATE


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a yes/no value (1, 0, true, false)")


def from_environment(database_url: str, lock_timeout: str = DEFAULT_LOCK_TIMEOUT) -> ApiSettings:
    origins = os.environ.get("CIDERY_TRUSTED_ORIGINS", "")
    return ApiSettings(
        database_url=database_url,
        lock_timeout=lock_timeout,
        secure_cookies=flag("CIDERY_SECURE_COOKIES"),
        labor_rate=labor_rate(),
        trusted_origins=tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip()),
    )
