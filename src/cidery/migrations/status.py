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
    names = connection.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND NOT (c.relname = ANY(:ignored)) ORDER BY c.relname"
        ),
        {"ignored": list(IGNORED_TABLES)},
    ).scalars()
    counts = []
    for name in names:
        quoted = connection.dialect.identifier_preparer.quote(name)
        rows = connection.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one()
        counts.append(TableCount(name, int(rows)))
    return counts


def database_status(connection: Connection) -> DatabaseStatus:
    return DatabaseStatus(
        current=scripts.current_revision(connection),
        head=scripts.head(),
        pending=[script.revision for script in scripts.pending(connection)],
        tables=table_counts(connection),
    )
