"""Users of the app: who records, who approves, who may only read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from cidery.models.base import Base, Entity, live_sql, pg_enum
from cidery.models.enums import UserRole


class User(Entity, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[UserRole] = mapped_column(
        pg_enum(UserRole, "user_role"), server_default=UserRole.VIEWER.value
    )
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("position('@' in email) > 1", name="email_format"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        # One live account per address, whatever its case; a deleted account frees it.
        Index(
            "users_email_key",
            func.lower(text("email")),
            unique=True,
            postgresql_where=text(live_sql()),
        ),
    )
