"""Database refusals turned into the press workflow's typed errors.

A refused call must leave the caller's transaction as it was, and no raw driver
error may reach a caller: :func:`writing` wraps a call's writes in a savepoint
and both context managers map what PostgreSQL says to a
:class:`~cidery.press.errors.PressError`, by SQLSTATE class and constraint name
(from the driver's diagnostics, never by matching message text).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from cidery.press.errors import (
    Conflict,
    ConstraintViolation,
    DatabaseFailure,
    InvalidInput,
    NotFound,
    PressError,
)

log = logging.getLogger(__name__)

_CONTENTION = (
    pg_errors.LockNotAvailable,
    pg_errors.DeadlockDetected,
    pg_errors.SerializationFailure,
    pg_errors.QueryCanceled,
)
_AUTHOR_KEYS = ("_created_by_fkey", "_updated_by_fkey", "_changed_by_fkey")


def _first_line(exc: DBAPIError) -> str:
    lines = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc.orig).__name__


def _constraint(exc: DBAPIError) -> str:
    diag = getattr(exc.orig, "diag", None)
    return str(getattr(diag, "constraint_name", "") or "")


def translate(exc: DBAPIError, actor_id: uuid.UUID | None) -> PressError:
    """The typed error for a database error raised by a service call."""
    origin = type(exc.orig) if exc.orig is not None else None
    if isinstance(exc, IntegrityError):
        origin = pg_errors.IntegrityError
    return _classify(
        origin, _constraint(exc), _first_line(exc), actor_id, invalidated=exc.connection_invalidated
    )


def from_sqlstate(
    sqlstate: str, constraint: str | None, message: str, actor_id: uuid.UUID | None
) -> PressError:
    """The typed error for a database error that a server-side function caught and
    returned (its SQLSTATE, constraint and message) instead of raising it."""
    try:
        origin: type[BaseException] = pg_errors.lookup(sqlstate)
    except KeyError:
        origin = pg_errors.DatabaseError
    first = message.strip().splitlines()[0] if message.strip() else sqlstate
    return _classify(origin, constraint or "", first, actor_id, invalidated=False)


def _classify(
    origin: type[BaseException] | None,
    constraint: str,
    first_line: str,
    actor_id: uuid.UUID | None,
    *,
    invalidated: bool,
) -> PressError:
    if origin is not None and issubclass(origin, pg_errors.IntegrityError):
        if constraint.endswith(_AUTHOR_KEYS):
            return NotFound("user", str(actor_id))
        return ConstraintViolation(
            f"the database refused the change ({constraint or 'a constraint'})",
            constraint=constraint,
        )
    if origin is not None and issubclass(origin, _CONTENTION):
        return Conflict(
            "another operator's change held this record; try again", reason=origin.__name__
        )
    if origin is not None and issubclass(origin, pg_errors.DataError):
        # A value the checks before the call let through and PostgreSQL cannot store.
        return InvalidInput.of("value", first_line)
    if (origin is not None and issubclass(origin, pg_errors.OperationalError)) or invalidated:
        return DatabaseFailure(f"the database failed: {first_line}", retryable=True)
    return DatabaseFailure(f"the database failed: {first_line}", retryable=False)


@contextmanager
def reading(actor_id: uuid.UUID | None = None) -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        raise translate(exc, actor_id) from exc


@contextmanager
def writing(session: Session, actor_id: uuid.UUID | None) -> Iterator[None]:
    """A savepoint around one call's writes; a refusal rolls back to it."""
    try:
        with session.begin_nested():
            yield
    except DBAPIError as exc:
        error = translate(exc, actor_id)
        log.info("press call refused by the database: %s", error.code)
        raise error from exc
