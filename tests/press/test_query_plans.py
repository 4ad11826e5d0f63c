"""Each statement the press service runs is served by the index ``PATTERNS`` declares for it.

One database of this module's own is filled with a season's worth of generated
press data (50,000 runs, 150,000 loads; every CHECK holds and every foreign
key is validated) and vacuumed/analysed; then each pattern's statement — the
very ``Select`` the service executes, built by :meth:`Pattern.statement` with
realistic values — is EXPLAINed: the declared index must appear in the plan,
and the index's table must not be scanned sequentially. The test is
parametrized over ``PATTERNS``, so a new statement is checked as soon as it is
declared; a sample value it names and ``_samples`` lacks fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Select, text, update
from sqlalchemy.dialects import postgresql

from cidery.db.engine import make_engine
from cidery.migrations.checks.catalog import schema_snapshot, snapshot_differences
from cidery.models import PurchaseItem
from cidery.press import lots, queries
from cidery.press.queries import PATTERNS, Pattern
from cidery.press.rules import YIELD_HIGH, YIELD_LOW

VENDORS = 200
VARIETIES = 20
PURCHASES = 1_000
PURCHASE_ITEMS = 2_000
VESSELS = 20
RUNS = 50_000
LOADS_PER_RUN = 3
SEASON_START = datetime(2023, 9, 1, tzinfo=UTC)
_START = f"TIMESTAMPTZ '{SEASON_START.isoformat()}'"

# Deterministic ids: md5(kind || n)::uuid, so later statements can refer to
# rows by number without joining. hashint4 scatters a number over 0..2^31.
_H = "(hashint4({0}) & 2147483647)"

GENERATE = (
    f"""
    INSERT INTO vendors (id, name)
    SELECT md5('vendor' || i)::uuid, 'Grower ' || i FROM generate_series(1, {VENDORS}) i
    """,
    f"""
    INSERT INTO apple_varieties (id, name)
    SELECT md5('variety' || i)::uuid, 'Variety ' || i FROM generate_series(1, {VARIETIES}) i
    """,
    f"""
    INSERT INTO vessels (id, name, type, capacity_l)
    SELECT md5('vessel' || i)::uuid, 'Tank ' || i, 'fermenter', 10000
    FROM generate_series(1, {VESSELS}) i
    """,
    f"""
    INSERT INTO purchases (id, vendor_id, purchase_date)
    SELECT md5('purchase' || i)::uuid,
           md5('vendor' || (1 + {_H.format("i")} % {VENDORS}))::uuid,
           DATE '2023-09-01' + (i % 400)
    FROM generate_series(1, {PURCHASES}) i
    """,
    # Item i is of variety 1 + i % VARIETIES: the loads below rely on it.
    f"""
    INSERT INTO purchase_items (id, purchase_id, apple_variety_id, quantity, unit, quantity_kg)
    SELECT md5('item' || i)::uuid,
           md5('purchase' || (1 + i % {PURCHASES}))::uuid,
           md5('variety' || (1 + i % {VARIETIES}))::uuid,
           100000, 'kg', 100000
    FROM generate_series(1, {PURCHASE_ITEMS}) i
    """,
    # The loads' amounts first, so each run's total is the sum of its loads.
    # Every third load is weighed in pounds.
    f"""
    CREATE TEMPORARY TABLE generated_loads ON COMMIT DROP AS
    SELECT g, s, item, weight, unit,
           round(weight * CASE unit WHEN 'lb' THEN 0.45359237 ELSE 1 END, 3) AS weight_kg
    FROM (
        SELECT g, s,
               1 + {_H.format("g * 3 + s")} % {PURCHASE_ITEMS} AS item,
               (200 + {_H.format("g * 7 + s")} % 800)::numeric(10, 3) AS weight,
               CASE WHEN s = 2 THEN 'lb' ELSE 'kg' END::unit AS unit
        FROM generate_series(1, {RUNS}) g, generate_series(1, {LOADS_PER_RUN}) s
    ) amounts
    """,
    # Status by g % 100: 0 in progress (1%), 1-9 cancelled (9%), else completed
    # (90%, into a vessel, with juice at an extraction of 0.55-0.75, and one in 50
    # an outlier at 0.30 or 0.95). Runs start every 15 minutes over the seasons;
    # one run in 50 is soft-deleted.
    f"""
    INSERT INTO press_runs (
        id, vendor_id, vessel_id, status, start_time, end_time, total_apple_weight_kg,
        juice_volume, juice_volume_unit, total_juice_volume_l, deleted_at
    )
    SELECT md5('run' || g)::uuid, vendor_id, vessel_id, status::press_run_status,
           start_time, end_time, total_kg, juice, juice_unit::unit, juice,
           CASE WHEN g % 50 = 7 THEN start_time + interval '1 day' END
    FROM (
        SELECT g, w.total_kg,
               md5('vendor' || (1 + {_H.format("g")} % {VENDORS}))::uuid AS vendor_id,
               CASE WHEN g % 100 >= 10
                    THEN md5('vessel' || (1 + {_H.format("-g")} % {VESSELS}))::uuid
               END AS vessel_id,
               CASE WHEN g % 100 = 0 THEN 'in_progress'
                    WHEN g % 100 < 10 THEN 'cancelled'
                    ELSE 'completed' END AS status,
               {_START} + g * interval '15 minutes'
                   AS start_time,
               CASE WHEN g % 100 <> 0
                    THEN {_START}
                         + g * interval '15 minutes' + interval '3 hours'
               END AS end_time,
               CASE WHEN g % 100 >= 10
                    THEN round(w.total_kg * CASE g % 97 WHEN 3 THEN 0.30 WHEN 5 THEN 0.95
                                                ELSE 0.55 + (g % 21) * 0.01 END, 3)
               END AS juice,
               CASE WHEN g % 100 >= 10 THEN 'L' END AS juice_unit
        FROM (SELECT g, sum(weight_kg) AS total_kg FROM generated_loads GROUP BY g) w
    ) runs
    """,
    # Each completed run's juice in one lot in its vessel, linked when the run ended, so
    # the lots list (newest link first) has a season of links to page through.
    """
    INSERT INTO batches (id, batch_number, vessel_id, start_date, initial_volume_l,
                         current_volume_l)
    SELECT md5('batch' || id)::uuid, 'LOT-' || left(id::text, 8) || '-' || row_number() OVER (),
           vessel_id, end_time::date, total_juice_volume_l, total_juice_volume_l
    FROM press_runs WHERE status = 'completed'
    """,
    """
    INSERT INTO press_run_batches (press_run_id, batch_id, volume_l, created_at)
    SELECT id, md5('batch' || id)::uuid, total_juice_volume_l, end_time
    FROM press_runs WHERE status = 'completed'
    """,
    # A load's variety is its purchase item's: item i is of variety 1 + i % VARIETIES.
    # One load in 100 is voided (soft-deleted).
    f"""
    INSERT INTO press_run_loads (
        press_run_id, purchase_item_id, apple_variety_id, load_sequence,
        weight, weight_unit, weight_kg, juice_volume_l, brix, pressed_at, deleted_at
    )
    SELECT md5('run' || g)::uuid, md5('item' || item)::uuid,
           md5('variety' || (1 + item % {VARIETIES}))::uuid, s,
           weight, unit, weight_kg, round(weight_kg * 0.65, 3), 11 + (g % 50) / 10.0,
           {_START} + g * interval '15 minutes' + s * interval '20 minutes',
           CASE WHEN (g + s) % 100 = 0 THEN now() END
    FROM generated_loads
    """,
)


# Bulk loading as pg_restore does it: the secondary indexes and foreign keys of
# the press tables are dropped, the rows inserted, then the indexes rebuilt and
# the foreign keys added back, which checks every row against its parent in
# one pass. Three times faster than checking and indexing row by row.
_SECONDARY = text(
    """
    SELECT 1 AS step,
           format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
           format('ALTER TABLE %s ADD CONSTRAINT %I %s',
                  conrelid::regclass, conname, pg_get_constraintdef(oid)) AS create
    FROM pg_constraint
    WHERE contype = 'f' AND conrelid = ANY(CAST(:tables AS regclass[]))
    UNION ALL
    SELECT 2, format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid = ANY(CAST(:tables AS regclass[]))
      AND NOT EXISTS (
          SELECT 1 FROM pg_constraint k
          WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x')
      )
    ORDER BY 1, 2
    """
)
PRESS_TABLES = ["press_runs", "press_run_loads"]
DRAW_TRIGGER = "press_run_loads_draw_fruit"


@dataclass(frozen=True)
class PlanDatabase:
    engine: Engine
    samples: dict[str, Any]


@pytest.fixture(scope="module")
def plan_db(
    create_database: Callable[..., str], template_name: str, server_url: str
) -> Iterator[PlanDatabase]:
    url = create_database("cidery_plans", template=template_name)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            before = schema_snapshot(conn)
            secondary = conn.execute(_SECONDARY, {"tables": PRESS_TABLES}).all()
            # Foreign keys come first: dropped first, added back last.
            for _step, drop, _create in secondary:
                conn.execute(text(drop))
            # One UPDATE of every line's pressed_kg afterwards, instead of the
            # trigger's update per load.
            conn.execute(text(f"ALTER TABLE press_run_loads DISABLE TRIGGER {DRAW_TRIGGER}"))
            for statement in GENERATE:
                conn.execute(text(statement))
            conn.execute(text(f"ALTER TABLE press_run_loads ENABLE TRIGGER {DRAW_TRIGGER}"))
            pressed = queries.PRESSED_BY_LINE.subquery()
            conn.execute(
                update(PurchaseItem)
                .where(PurchaseItem.id == pressed.c.purchase_item_id)
                .values(pressed_kg=pressed.c.pressed_kg)
            )
            for _step, _drop, create in reversed(secondary):
                conn.execute(text(create))
            differences = snapshot_differences(before, schema_snapshot(conn))
            assert not differences, "the bulk load changed the schema: " + "; ".join(differences)
        with engine.connect() as conn:
            # VACUUM too, not only ANALYZE: autovacuum would have set the visibility
            # map of a season-old table, which index-only scans depend on.
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM (ANALYZE)"))
            samples = _samples(conn)
        yield PlanDatabase(engine, samples)
    finally:
        # create_database drops the database at the end of the test session.
        engine.dispose()


def _samples(conn: Connection) -> dict[str, Any]:
    """Realistic values: rows the statements would be asked about in the app."""
    vendor_id = conn.execute(
        text(
            "SELECT vendor_id FROM press_runs WHERE status = 'in_progress' "
            "AND deleted_at IS NULL GROUP BY vendor_id ORDER BY count(*) DESC, vendor_id LIMIT 1"
        )
    ).scalar_one()
    run_id, start_time = conn.execute(
        text(
            "SELECT id, start_time FROM press_runs WHERE status = 'completed' "
            "AND deleted_at IS NULL ORDER BY start_time DESC LIMIT 1 OFFSET 500"
        )
    ).one()
    item_id, variety_id = conn.execute(
        text(
            "SELECT i.id, i.apple_variety_id FROM purchase_items i JOIN purchases p "
            "ON p.id = i.purchase_id WHERE p.vendor_id = :vendor ORDER BY i.id LIMIT 1"
        ),
        {"vendor": vendor_id},
    ).one()
    return {
        "vendor_id": vendor_id,
        "run_id": run_id,
        "item_id": item_id,
        "variety_id": variety_id,
        # The cursor of a page a few pages down the list.
        "after": (start_time, run_id),
        # One month of the second season.
        "since": datetime(2024, 10, 1, tzinfo=UTC),
        "until": datetime(2024, 11, 1, tzinfo=UTC),
    }


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _summary(nodes: list[dict[str, Any]]) -> str:
    return "; ".join(
        " ".join(
            str(part)
            for part in (
                node["Node Type"],
                node.get("Index Name", ""),
                f"on {node['Relation Name']}" if "Relation Name" in node else "",
            )
            if part
        )
        for node in nodes
    )


def _explain(plan_db: PlanDatabase, pattern: Pattern) -> list[dict[str, Any]]:
    return _explain_statement(plan_db, pattern.statement(plan_db.samples))


def _explain_statement(plan_db: PlanDatabase, stmt: Select[Any]) -> list[dict[str, Any]]:
    compiled = stmt.compile(
        dialect=postgresql.dialect(), compile_kwargs={"render_postcompile": True}
    )
    with plan_db.engine.connect() as conn:
        # The sample really selects rows, or the plan would prove little.
        assert conn.exec_driver_sql(str(compiled), compiled.params).first() is not None
        (explained,) = conn.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
        ).scalar_one()
        conn.rollback()
    return list(_nodes(explained["Plan"]))


INDEXED = [p for p in PATTERNS if p.index is not None]


@pytest.mark.parametrize("pattern", INDEXED, ids=[p.key for p in INDEXED])
def test_statement_is_served_by_its_index(plan_db: PlanDatabase, pattern: Pattern) -> None:
    with plan_db.engine.connect() as conn:
        table = conn.execute(
            text("SELECT tablename FROM pg_indexes WHERE indexname = :name"),
            {"name": pattern.index},
        ).scalar_one_or_none()
    assert table is not None, f"index {pattern.index} does not exist"
    nodes = _explain(plan_db, pattern)
    summary = _summary(nodes)
    serving = {pattern.index, *pattern.equivalent}
    used = [node for node in nodes if node.get("Index Name") in serving]
    assert used, f"{pattern.key} does not use {pattern.index}: {summary}"
    assert all(node.get("Relation Name", table) == table for node in used)
    seq_scans = [
        node
        for node in nodes
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == table
    ]
    assert not seq_scans, f"{pattern.key} scans all of {table}: {summary}"


SUMMARIES = [p for p in PATTERNS if p.index is None]


@pytest.mark.parametrize("pattern", SUMMARIES, ids=[p.key for p in SUMMARIES])
def test_summaries_read_each_run_once(plan_db: PlanDatabase, pattern: Pattern) -> None:
    """A summary over every run reads the runs once: no nested loop that scans a whole
    table for each run."""
    nodes = _explain(plan_db, pattern)
    summary = _summary(nodes)
    for node in nodes:
        if node["Node Type"] != "Nested Loop":
            continue
        inner = node["Plans"][1]
        assert inner["Node Type"] != "Seq Scan", f"{pattern.key}: {summary}"


def test_the_service_runs_every_declared_statement() -> None:
    """Each module-level statement of queries.py is declared in PATTERNS (so its plan is
    proven), apart from the row locks read by primary key and the smoke check's sum."""
    declared = {id(p.build()) for p in PATTERNS if not p.arguments and not p.fixed}
    by_key = {
        "VENDOR",
        "LOCK_VESSEL",
        "LOAD_RUN",
        "LOCK_LOAD",
        "LOCK_LINES",
        "LOCK_RUN",
        "PRESSED_BY_LINE",
    }
    statements = {
        name: value
        for name, value in vars(queries).items()
        if name.isupper() and isinstance(value, Select)
    }
    unproven = sorted(
        name
        for name, value in statements.items()
        if id(value) not in declared and name not in by_key
    )
    assert unproven == []


def test_generated_data_has_the_intended_shape(plan_db: PlanDatabase) -> None:
    """The plans above are only evidence if the data looks like a real season."""
    with plan_db.engine.connect() as conn:
        runs = dict(
            conn.execute(text("SELECT status::text, count(*) FROM press_runs GROUP BY 1")).all()
        )
        shape = conn.execute(
            text(
                """
                SELECT (SELECT count(*) FROM press_run_loads),
                       (SELECT count(*) FROM press_runs WHERE deleted_at IS NOT NULL),
                       (SELECT count(DISTINCT vendor_id) FROM press_runs
                        WHERE status = 'in_progress'),
                       (SELECT min(extraction_rate) FROM press_runs),
                       (SELECT max(extraction_rate) FROM press_runs),
                       (SELECT count(*) FROM press_runs r
                        WHERE total_apple_weight_kg <> (SELECT sum(weight_kg)
                            FROM press_run_loads l WHERE l.press_run_id = r.id))
                """
            )
        ).one()
    loads, deleted, vendors_in_progress, min_rate, max_rate, mismatched = shape
    assert runs == {
        "in_progress": RUNS // 100,
        "cancelled": RUNS * 9 // 100,
        "completed": RUNS * 90 // 100,
    }
    assert loads == RUNS * LOADS_PER_RUN
    assert deleted == RUNS // 50
    assert vendors_in_progress > VENDORS // 2
    assert Decimal("0.30") <= min_rate < YIELD_LOW < YIELD_HIGH < max_rate <= Decimal("0.95")
    assert mismatched == 0


LOTS_INDEX = "press_run_batches_created_at_batch_id_idx"


@pytest.mark.parametrize("page", ["first", "later"])
def test_the_lots_list_pages_by_its_index(plan_db: PlanDatabase, page: str) -> None:
    """``GET /api/v1/lots`` (``lots.lot_list``): newest link first, a page at a time,
    read from the index on (created_at, batch_id), never a sort of every link."""
    after = None
    if page == "later":
        with plan_db.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT created_at, batch_id FROM press_run_batches "
                    "ORDER BY created_at DESC, batch_id DESC OFFSET 500 LIMIT 1"
                )
            ).one()
        after = (row.created_at, row.batch_id)
    nodes = _explain_statement(plan_db, lots.lot_list(limit=50, after=after))
    summary = _summary(nodes)
    assert any(node.get("Index Name") == LOTS_INDEX for node in nodes), summary
    assert not any(
        node["Node Type"] == "Seq Scan" and node.get("Relation Name") == "press_run_batches"
        for node in nodes
    ), summary
