"""What ``cidery db status`` and ``make run`` report about a database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from cidery.migrations import scripts
from cidery.migrations.checks.catalog import IGNORED_TABLES


@dataclass(frozen=True)
class TableCount:
    name: str
    rows: int


@dataclass(frozen=True)
class DatabaseStatus:
    current: str | None
    head: str
    pending: list[str]
    tables: list[TableCount]


def table_counts(connection: Connection) -> list[TableCount]:
    """Rows of each table of the current schema; the bookkeeping tables
    (``alembic_version``, the revision checksums) are left out."""
    names = list(
        connection.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                "AND NOT (c.relname = ANY(:ignored)) ORDER BY c.relname"
            ),
            {"ignored": list(IGNORED_TABLES)},
        ).scalars()
    )
    if not names:
        return []
    # Every table counted by one statement: a round trip per table took longer than
    # counting the rows of a small database.
    quote = connection.dialect.identifier_preparer.quote
    counted = ", ".join(f"(SELECT count(*) FROM {quote(name)})" for name in names)
    counts = connection.execute(text(f"SELECT {counted}")).one()
    return [TableCount(name, int(rows)) for name, rows in zip(names, counts, strict=True)]


def database_status(connection: Connection) -> DatabaseStatus:
    return DatabaseStatus(
        current=scripts.current_revision(connection),
        head=scripts.head(),
        pending=scripts.pending(connection),
        tables=table_counts(connection),
    )
