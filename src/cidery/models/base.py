"""Declarative base and the columns every table repeats.

Constraint and index names follow PostgreSQL's own defaults (``<table>_pkey``,
``<table>_<cols>_fkey``, ``<table>_<cols>_key``, ``<table>_<cols>_idx``), so
what ``\\d`` shows and what migrations name agree, and a downgrade can drop a
constraint by name.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Enum,
    FetchedValue,
    ForeignKey,
    FromClause,
    MetaData,
    Table,
    and_,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION: dict[str, str] = {
    "pk": "%(table_name)s_pkey",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ix": "%(table_name)s_%(column_0_N_name)s_idx",
    "ck": "%(table_name)s_%(constraint_name)s_check",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def pg_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """A PostgreSQL enum type that stores the Python enum's *values* (``'L'``, not ``'LITRE'``)."""
    return Enum(
        enum_class,
        name=name,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def positive(column: str) -> str:
    """CHECK expression: ``column`` > 0 and a number.

    PostgreSQL's numeric accepts 'NaN' and orders it above every number, so a
    bare ``> 0`` lets NaN through.
    """
    return f"{column} > 0 AND {column} <> 'NaN'"


def nonnegative(column: str) -> str:
    """CHECK expression: ``column`` >= 0 and a number (see :func:`positive`)."""
    return f"{column} >= 0 AND {column} <> 'NaN'"


def added_later() -> dict[str, Any]:
    """Options of a nullable column a later revision added to an existing table.

    Left out of an INSERT that gives it no value (``FetchedValue``: "the server has a
    default", without any DDL), and loaded only when read (deferred), so the ORM still
    writes rows into a database at an earlier revision, which lacks the column — the
    sample data does, over every parent revision, in the migration tests. The class
    must also turn ``eager_defaults`` off, or the INSERT would fetch the column back.
    Use after the column type: ``mapped_column(Numeric(10, 3), **added_later())``.
    """
    return {"server_default": FetchedValue(), "deferred": True}


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=text("gen_random_uuid()"), sort_order=-100
    )


class Timestamps:
    """``created_at``/``updated_at``; the database keeps ``updated_at`` current.

    A trigger (``set_updated_at``) sets ``updated_at`` on every UPDATE, whoever
    issues it, so the ORM only reads the value back.
    """

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), sort_order=100
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        server_default=func.now(),
        server_onupdate=FetchedValue(),
        sort_order=101,
    )


class SoftDelete:
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), sort_order=102)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


# --- live rows ---------------------------------------------------------------------------
# A soft-deleted row is kept for the record but is gone for every workflow. The filter is
# written here once, in the three forms the code needs: SQL text (index predicates, the
# smoke checks' plain SQL), a Core/ORM criterion, and a criterion over several tables.

_LIVE_SQL = "deleted_at IS NULL"


def live_sql(alias: str | None = None) -> str:
    """The live-row predicate as SQL text, optionally qualified: ``live_sql("r")``."""
    return f"{alias}.{_LIVE_SQL}" if alias else _LIVE_SQL


def live(*sources: type[SoftDelete] | Table | FromClause) -> ColumnElement[bool]:
    """The live-row criterion of each mapped class or table, joined by AND."""
    columns = [
        source.deleted_at if isinstance(source, type) else source.c.deleted_at for source in sources
    ]
    return and_(*(column.is_(None) for column in columns))


class Authored:
    """Who created and last changed a row (``users``); null for system writes."""

    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id"), index=True, sort_order=103
    )
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id"), index=True, sort_order=104
    )


class Entity(UUIDPrimaryKey, Timestamps, SoftDelete):
    """Mixin for the usual table: uuid key, timestamps, soft delete."""

    __tablename__: Any

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        # updated_at is produced by the trigger: fetch it after UPDATE instead of
        # leaving the attribute expired (which would trip lazy="raise" loads).
        return {"eager_defaults": True}


# Tables with a ``set_updated_at`` trigger; migrations and tests read this list.
def tables_with_updated_at() -> list[str]:
    return sorted(
        table.name for table in Base.metadata.sorted_tables if "updated_at" in table.columns
    )
