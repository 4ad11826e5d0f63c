"""Writing the audit log: one ``audit_logs`` row per change, in the caller's transaction."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from cidery.models import AuditLog
from cidery.models.enums import AuditOperation


def to_json(value: Any) -> Any:
    """A column value as JSON: exact decimals as strings, times in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def snapshot(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(key): to_json(value) for key, value in row.items()}


def entry(
    *,
    table: str,
    record_id: uuid.UUID,
    operation: AuditOperation,
    actor: uuid.UUID | None,
    old: Mapping[Any, Any] | None = None,
    new: Mapping[Any, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """One ``audit_logs`` row; ``diff`` holds ``[old, new]`` for each column that changed
    (``updated_at`` aside, which changes with every update)."""
    old_data = snapshot(old) if old is not None else None
    new_data = snapshot(new) if new is not None else None
    diff = None
    if old_data is not None and new_data is not None:
        diff = {
            key: [old_data.get(key), value]
            for key, value in new_data.items()
            if old_data.get(key) != value and key != "updated_at"
        }
    return {
        "table_name": table,
        "record_id": record_id,
        "operation": operation,
        "old_data": old_data,
        "new_data": new_data,
        "diff": diff,
        "reason": reason,
        "changed_by": actor,
    }


_INSERT = insert(cast(Table, AuditLog.__table__))


def write(session: Session, *entries: dict[str, Any]) -> None:
    """Insert the entries (from :func:`entry`) in one round trip, in the session's transaction."""
    session.connection().execute(_INSERT, list(entries))


def record(session: Session, **change: Any) -> None:
    """Log one change: :func:`entry`'s keyword arguments."""
    write(session, entry(**change))
