"""The audit log: one row per change to a business record, never updated."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cidery.models.base import Base, UUIDPrimaryKey, pg_enum
from cidery.models.enums import AuditOperation


class AuditLog(UUIDPrimaryKey, Base):
    __tablename__ = "audit_logs"

    table_name: Mapped[str] = mapped_column(String(63))
    record_id: Mapped[uuid.UUID] = mapped_column()
    operation: Mapped[AuditOperation] = mapped_column(pg_enum(AuditOperation, "audit_operation"))
    # none_as_null: Python None is SQL NULL, not the JSON value null, which the
    # data_matches_operation CHECK would (rightly) refuse for an insert's old_data.
    old_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    new_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        # An insert has no old row and a delete no new one; an update has both.
        CheckConstraint(
            "(operation = 'insert' AND old_data IS NULL AND new_data IS NOT NULL)"
            " OR (operation = 'update' AND old_data IS NOT NULL AND new_data IS NOT NULL)"
            " OR (operation = 'delete' AND old_data IS NOT NULL AND new_data IS NULL)",
            name="data_matches_operation",
        ),
        Index("audit_logs_table_name_record_id_idx", "table_name", "record_id", "changed_at"),
        Index("audit_logs_changed_at_idx", "changed_at"),
    )
