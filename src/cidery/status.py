"""What ``cidery db status`` and ``make run`` report about a database."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, text

from cidery import migrator
from cidery.catalog import IGNORED_TABLES


@dataclass(frozen=True)
class TableCount:
    name: str
    rows: int


@dataclass(frozen=True)
class PressTotals:
    status: str
    runs: int
    loads: int
    kg_pressed: Decimal
    litres: Decimal


@dataclass(frozen=True)
class DatabaseStatus:
    current: str | None
    head: str
    pending: list[str]
    tables: list[TableCount]
    press: list[PressTotals]


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
        current=migrator.current_revision(connection),
        head=migrator.head(),
        pending=[script.revision for script in migrator.pending(connection)],
        tables=table_counts(connection),
        press=press_totals(connection),
    )


def press_totals(connection: Connection) -> list[PressTotals]:
    """Live press runs by status: how many, their loads, kg pressed and litres of juice."""
    if connection.execute(text("SELECT to_regclass('press_runs')")).scalar() is None:
        return []
    rows = connection.execute(
        text(
            "SELECT r.status::text AS status, count(*) AS runs, "
            "coalesce(sum(l.loads), 0) AS loads, "
            "coalesce(sum(r.total_apple_weight_kg), 0) AS kg, "
            "coalesce(sum(r.total_juice_volume_l), 0) AS litres "
            "FROM press_runs r LEFT JOIN LATERAL (SELECT count(*) AS loads "
            "FROM press_run_loads WHERE press_run_id = r.id AND deleted_at IS NULL) l ON true "
            "WHERE r.deleted_at IS NULL GROUP BY r.status ORDER BY r.status"
        )
    )
    return [PressTotals(r.status, r.runs, r.loads, r.kg, r.litres) for r in rows]
