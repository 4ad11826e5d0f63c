"""What ``cidery db status`` and ``make run`` report about a database, read with a
:data:`~cidery.db.plain.Fetch` (the command reads it on psycopg alone)."""

from __future__ import annotations

from dataclasses import dataclass

from cidery.db.plain import Fetch
from cidery.migrations import applied
from cidery.migrations.files import head


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


_TABLES = (
    "SELECT c.relname AS name, quote_ident(c.relname) AS quoted "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
)


def table_counts(fetch: Fetch) -> list[TableCount]:
    """Rows of each table of the current schema; the bookkeeping tables
    (``alembic_version``, the revision checksums) are left out."""
    tables = [row for row in fetch(_TABLES) if row["name"] not in applied.IGNORED_TABLES]
    if not tables:
        return []
    # Every table counted by one statement: a round trip per table took longer than
    # counting the rows of a small database.
    counted = ", ".join(
        f"(SELECT count(*) FROM {row['quoted']}) AS c{i}" for i, row in enumerate(tables)
    )
    counts = fetch(f"SELECT {counted}")[0]
    return [TableCount(str(row["name"]), int(counts[f"c{i}"])) for i, row in enumerate(tables)]


def database_status(fetch: Fetch) -> DatabaseStatus:
    current = applied.current_revision(fetch)
    return DatabaseStatus(
        current=current,
        head=head(),
        pending=applied.pending(current),
        tables=table_counts(fetch),
    )
