"""Read-only validation queries against the live database (``cidery db smoke``).

Each check is a small function from a connection to ``(ok, detail)``, listed in
:data:`CHECKS`; a new check is one more function and one more entry.

:func:`run_check` runs every check in a savepoint of its own, made read-only
with ``SET TRANSACTION READ ONLY`` and given short timeouts, and rolls the
savepoint back afterwards. So a check can never write, a check that fails with
a database error is reported as a failed check instead of aborting the run, and
the caller's transaction continues exactly as it was: rolling back the savepoint
also undoes the read-only mode and the timeouts. Because the savepoint sees the
caller's transaction, a test can break data without committing and check it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from cidery.db import server
from cidery.errors import CideryError
from cidery.migrations import scripts
from cidery.models import Base
from cidery.models.base import live_sql
from cidery.models.costing import cost_known_sql
from cidery.models.enums import Unit
from cidery.units import CANONICAL_PLACES, exact_canonical, is_weight, to_canonical

# A smoke run must finish quickly even when a migration holds a lock it waits for.
STATEMENT_TIMEOUT = "30s"
LOCK_TIMEOUT = "5s"
# How many offending rows a failed check names before summarising the rest.
SHOWN = 5


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


CheckFunction = Callable[[Connection], tuple[bool, str]]


@dataclass(frozen=True)
class Check:
    name: str
    function: CheckFunction


def _listing(problems: Sequence[str]) -> str:
    shown = "; ".join(problems[:SHOWN])
    rest = len(problems) - SHOWN
    return shown + (f"; and {rest} more" if rest > 0 else "")


def _verdict(problems: Sequence[str], what: str, passed: str) -> tuple[bool, str]:
    if problems:
        return False, f"{len(problems)} {what}: {_listing(problems)}"
    return True, passed


# --- the checks ---------------------------------------------------------------------


def server_version(connection: Connection) -> tuple[bool, str]:
    number, version = connection.execute(
        text("SELECT current_setting('server_version_num')::int, current_setting('server_version')")
    ).one()
    refused = server.too_old(number, version)
    if refused is not None:
        return False, str(refused)
    return True, f"PostgreSQL {version}"


def migration_revision(connection: Connection) -> tuple[bool, str]:
    expected = scripts.head()
    current = scripts.current_revision(connection)
    if current is None:
        return False, f"no revision applied (code head {expected}): run `cidery db migrate`"
    if current != expected:
        return False, f"database at {current}, code head {expected}"
    return True, f"at {current} (head)"


def tables_exist(connection: Connection) -> tuple[bool, str]:
    expected = sorted(Base.metadata.tables)
    found = set(
        connection.execute(
            text(
                "SELECT c.relname FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
                " AND c.relname = ANY(:names)"
            ),
            {"names": expected},
        ).scalars()
    )
    missing = [name for name in expected if name not in found]
    return _verdict(missing, "table(s) missing", f"all {len(expected)} tables present")


def purchase_item_quantities(connection: Connection) -> tuple[bool, str]:
    """The canonical kg (fruit) or L (juice) of every line agrees with what was entered.

    The factors come from :mod:`cidery.units`, the one place they are defined,
    and the comparison is exact: PostgreSQL's ``round`` rounds half away from
    zero as :func:`cidery.units.to_canonical` does.
    """
    units = list(Unit)
    rows = connection.execute(
        text(
            "SELECT pi.id, coalesce(p.invoice_number, p.id::text) AS invoice, v.name AS variety,"
            " pi.quantity, pi.unit::text AS unit, pi.quantity_kg, pi.quantity_l, f.is_weight"
            " FROM purchase_items pi"
            " JOIN purchases p ON p.id = pi.purchase_id"
            " JOIN apple_varieties v ON v.id = pi.apple_variety_id"
            " LEFT JOIN unnest(CAST(:units AS text[]), CAST(:factors AS numeric[]),"
            "   CAST(:weights AS boolean[])) AS f(unit, factor, is_weight)"
            "   ON f.unit = pi.unit::text"
            " WHERE f.unit IS NULL"
            "  OR (f.is_weight"
            "      AND pi.quantity_kg IS DISTINCT FROM round(pi.quantity * f.factor, :places))"
            "  OR (NOT f.is_weight"
            "      AND pi.quantity_l IS DISTINCT FROM round(pi.quantity * f.factor, :places))"
            " ORDER BY p.purchase_date, p.id, pi.id"
        ),
        {
            "units": [unit.value for unit in units],
            "factors": [exact_canonical(Decimal(1), unit) for unit in units],
            "weights": [is_weight(unit) for unit in units],
            "places": CANONICAL_PLACES,
        },
    ).all()
    problems = []
    for row in rows:
        line = f"{row.invoice} {row.variety} ({row.id})"
        if row.is_weight is None:
            problems.append(f"{line}: unit {row.unit!r} unknown to cidery.units")
            continue
        canonical, stored = ("kg", row.quantity_kg) if row.is_weight else ("L", row.quantity_l)
        expected = to_canonical(row.quantity, Unit(row.unit))
        problems.append(
            f"{line}: {row.quantity} {row.unit} stored as {stored} {canonical}, expected {expected}"
        )
    total = connection.execute(text("SELECT count(*) FROM purchase_items")).scalar_one()
    return _verdict(problems, "purchase item(s) disagree with their unit", f"{total} line(s) agree")


def purchase_totals(connection: Connection) -> tuple[bool, str]:
    """Each live purchase costs the sum of its live lines (a deleted line no longer counts)."""
    rows = connection.execute(
        text(
            "SELECT p.id, p.invoice_number, p.total_cost,"
            " coalesce(sum(pi.total_cost), 0) AS lines_total"
            " FROM purchases p"
            f" LEFT JOIN purchase_items pi ON pi.purchase_id = p.id AND {live_sql('pi')}"
            f" WHERE {live_sql('p')}"
            " GROUP BY p.id"
            " HAVING p.total_cost IS DISTINCT FROM coalesce(sum(pi.total_cost), 0)"
            " ORDER BY p.purchase_date, p.id"
        )
    ).all()
    problems = [
        f"{row.invoice_number or row.id}: total {row.total_cost}, lines sum to {row.lines_total}"
        for row in rows
    ]
    total = connection.execute(
        text(f"SELECT count(*) FROM purchases WHERE {live_sql()}")
    ).scalar_one()
    return _verdict(
        problems, "purchase total(s) differ from their lines", f"{total} purchase(s) agree"
    )


def vessel_capacity(connection: Connection) -> tuple[bool, str]:
    rows = connection.execute(
        text(
            "SELECT name, capacity_l FROM vessels"
            " WHERE capacity_l IS NULL OR capacity_l <= 0 ORDER BY name"
        )
    ).all()
    problems = [f"{row.name}: {row.capacity_l} L" for row in rows]
    total = connection.execute(text("SELECT count(*) FROM vessels")).scalar_one()
    return _verdict(
        problems, "vessel(s) without a positive capacity", f"{total} vessel(s) have a capacity"
    )


def foreign_key_indexes(connection: Connection) -> tuple[bool, str]:
    """Every foreign key has an index led by its columns.

    Without one, deleting or re-keying a referenced row scans the whole
    referencing table under lock. A partial or invalid index does not serve
    that lookup for every row, so only complete, valid indexes count; a unique
    constraint's index does.
    """
    rows = connection.execute(
        text(
            "SELECT c.conrelid::regclass::text AS table_name, c.conname,"
            " (SELECT string_agg(a.attname, ', ' ORDER BY k.ord)"
            "  FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)"
            "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
            " ) AS columns"
            " FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE c.contype = 'f' AND n.nspname = current_schema()"
            " AND NOT EXISTS ("
            "  SELECT 1 FROM pg_index i"
            "  WHERE i.indrelid = c.conrelid AND i.indpred IS NULL AND i.indisvalid"
            "  AND i.indnkeyatts >= cardinality(c.conkey)"
            # indkey as an array starts at 0; its first n entries, key columns
            # rather than INCLUDE ones, must be the foreign key's n columns in any order.
            "  AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey"
            " )"
            " ORDER BY 1, 2"
        )
    ).all()
    problems = [f"{row.table_name}({row.columns}) [{row.conname}]" for row in rows]
    total = connection.execute(
        text(
            "SELECT count(*) FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE c.contype = 'f' AND n.nspname = current_schema()"
        )
    ).scalar_one()
    return _verdict(
        problems, "foreign key(s) without an index", f"all {total} foreign keys indexed"
    )


def updated_at_triggers(connection: Connection) -> tuple[bool, str]:
    """Every table with ``updated_at`` has an enabled BEFORE UPDATE row trigger on set_updated_at.

    The tables come from the catalog rather than the models, so a table added by
    hand without its trigger is caught too.
    """
    # tgtype bits: 1 = FOR EACH ROW, 2 = BEFORE, 16 = UPDATE.
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid"
            "  AND a.attname = 'updated_at' AND NOT a.attisdropped"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
            " AND NOT EXISTS ("
            "  SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
            "  WHERE t.tgrelid = c.oid AND p.proname = 'set_updated_at'"
            "  AND NOT t.tgisinternal AND t.tgenabled <> 'D'"
            "  AND t.tgtype::int & 19 = 19"
            " )"
            " ORDER BY 1"
        )
    ).scalars()
    problems = list(rows)
    total = connection.execute(
        text(
            "SELECT count(*) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid"
            "  AND a.attname = 'updated_at' AND NOT a.attisdropped"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        )
    ).scalar_one()
    return _verdict(
        problems,
        "table(s) with updated_at lack the set_updated_at trigger",
        f"all {total} tables with updated_at have the trigger",
    )


def constraints_validated(connection: Connection) -> tuple[bool, str]:
    """No constraint is left NOT VALID: existing rows were never checked against it."""
    rows = connection.execute(
        text(
            "SELECT CASE WHEN c.conrelid <> 0 THEN c.conrelid::regclass::text"
            "  ELSE c.contypid::regtype::text END AS owner, c.conname"
            " FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE NOT c.convalidated AND n.nspname = current_schema()"
            " ORDER BY 1, 2"
        )
    ).all()
    problems = [f"{row.owner}.{row.conname}" for row in rows]
    return _verdict(problems, "constraint(s) NOT VALID", "all constraints validated")


def _absent(connection: Connection, table: str) -> bool:
    found = connection.execute(text("SELECT to_regclass(:table)"), {"table": table}).scalar()
    return found is None


def juice_lot_litres(connection: Connection) -> tuple[bool, str]:
    """Each run's juice lots hold exactly its juice, and only a completed run has lots.

    The deferred constraint trigger ``press_run_batches_match_juice`` refuses a commit
    that breaks this; checked again here because a trigger can be disabled and rows can
    be loaded with triggers off (``session_replication_role = replica``).
    """
    if _absent(connection, "press_run_batches"):
        return True, "no juice lots before revision 0007"
    rows = connection.execute(
        text(
            "SELECT r.id, r.status::text AS status, r.total_juice_volume_l AS juice,"
            " sum(b.volume_l) AS linked"
            " FROM press_run_batches b JOIN press_runs r ON r.id = b.press_run_id"
            " GROUP BY r.id"
            " HAVING sum(b.volume_l) IS DISTINCT FROM r.total_juice_volume_l"
            "  OR r.status <> 'completed'"
            " ORDER BY r.id"
        )
    ).all()
    problems = [
        f"run {row.id} ({row.status}): its lots hold {row.linked} L, the run gave {row.juice} L"
        for row in rows
    ]
    total = connection.execute(
        text("SELECT count(DISTINCT press_run_id) FROM press_run_batches")
    ).scalar_one()
    return _verdict(
        problems,
        "run(s) whose juice lots disagree with their juice",
        f"the lots of {total} run(s) hold their juice",
    )


def juice_lot_costs(connection: Connection) -> tuple[bool, str]:
    """Juice lots whose cost is incomplete, listed; a finding, never a failure.

    A purchase line without a price (or a run without labor hours) leaves its lots'
    cost NULL on purpose: it is known to be unknown, and an admin recomputes it once
    the price is in. The check passes and names them, so ``cidery db smoke`` shows
    what is left to price.
    """
    if _absent(connection, "press_run_batches"):
        return True, "no juice lots before revision 0007"
    rows = connection.execute(
        text(
            "SELECT b.batch_number, c.id IS NULL AS uncosted, c.labor_cost IS NULL AS no_labor,"
            " (SELECT count(*) FROM cogs_items i WHERE i.batch_id = b.id"
            f"  AND i.item_type = 'apples' AND i.cost IS NULL AND {live_sql('i')}) AS unpriced"
            " FROM press_run_batches l"
            " JOIN batches b ON b.id = l.batch_id"
            " LEFT JOIN batch_costs c ON c.batch_id = l.batch_id"
            f" WHERE NOT {cost_known_sql('c')} AND {live_sql('b')}"
            " ORDER BY b.batch_number"
        )
    ).all()
    total = connection.execute(
        text(
            "SELECT count(*) FROM press_run_batches l JOIN batches b ON b.id = l.batch_id"
            f" WHERE {live_sql('b')}"
        )
    ).scalar_one()
    if not rows:
        return True, f"all {total} juice lot(s) costed"
    found = []
    for row in rows:
        if row.uncosted:
            found.append(f"{row.batch_number}: not costed")
            continue
        why = [f"{row.unpriced} line(s) without a price"] if row.unpriced else []
        if row.no_labor:
            why.append("no labor hours")
        found.append(f"{row.batch_number}: {', '.join(why) or 'cost unknown'}")
    return True, (
        f"{len(rows)} of {total} juice lot(s) with an incomplete cost (listed, not a "
        f"failure): {_listing(found)}"
    )


CHECKS: list[Check] = [
    Check("server_version", server_version),
    Check("migration_revision", migration_revision),
    Check("tables_exist", tables_exist),
    Check("purchase_item_quantities", purchase_item_quantities),
    Check("purchase_totals", purchase_totals),
    Check("vessel_capacity", vessel_capacity),
    Check("foreign_key_indexes", foreign_key_indexes),
    Check("updated_at_triggers", updated_at_triggers),
    Check("constraints_validated", constraints_validated),
    Check("juice_lot_litres", juice_lot_litres),
    Check("juice_lot_costs", juice_lot_costs),
]


# --- running them -------------------------------------------------------------------


def _describe_error(exc: Exception) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    message = str(cause).strip().splitlines()
    return f"error: {type(cause).__name__}: {message[0] if message else ''}"


def run_check(connection: Connection, check: Check) -> CheckResult:
    """One check in a read-only savepoint that is rolled back whatever happens."""
    try:
        savepoint = connection.begin_nested()
    except SQLAlchemyError as exc:
        return CheckResult(check.name, False, _describe_error(exc))
    try:
        connection.execute(text("SET TRANSACTION READ ONLY"))
        connection.execute(
            text(
                "SELECT set_config('statement_timeout', :statement, true),"
                " set_config('lock_timeout', :lock, true)"
            ),
            {"statement": STATEMENT_TIMEOUT, "lock": LOCK_TIMEOUT},
        )
        ok, detail = check.function(connection)
    except (SQLAlchemyError, CideryError) as exc:
        ok, detail = False, _describe_error(exc)
    finally:
        try:
            if savepoint.is_active:
                savepoint.rollback()
        except SQLAlchemyError as exc:
            # The connection is gone; the next check reports that on its own.
            ok, detail = False, _describe_error(exc)
    return CheckResult(check.name, ok, detail)


def run(connection: Connection, extra: Sequence[Check] = ()) -> list[CheckResult]:
    """Every check, then ``extra`` (checks of other packages' data), in order; begins a
    transaction on ``connection`` if none is open."""
    return [run_check(connection, check) for check in (*CHECKS, *extra)]
