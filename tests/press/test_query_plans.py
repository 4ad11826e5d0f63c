"""Each press-run query pattern is served by the index ``PATTERNS`` declares for it.

One database of this module's own is filled with a season's worth of generated
press data (50,000 runs, 150,000 loads; every CHECK holds and every foreign
key is validated) and vacuumed/analysed; then each pattern's ``Select``,
compiled with realistic arguments, is EXPLAINed: the declared index must
appear in the plan, and the index's table must not be scanned sequentially.
The test is parametrized over ``PATTERNS``, so a new pattern is checked as
soon as it is declared: its builder's required arguments are looked up by
name in ``_samples`` (``EXTRA_ARGUMENTS`` adds optional ones per pattern key),
and a name missing there fails loudly.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.dialects import postgresql

from cidery.db.engine import make_engine
from cidery.migrations.checks.catalog import schema_snapshot, snapshot_differences
from cidery.press.queries import PATTERNS, Pattern
from tests.conftest import drop_database

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
           20000, 'kg', 20000
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
    # (90%, into a vessel, with juice at an extraction of 0.55-0.75). Runs start
    # every 15 minutes over the seasons; one run in 50 is soft-deleted.
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
                    THEN round(w.total_kg * (0.55 + (g % 21) * 0.01), 3)
               END AS juice,
               CASE WHEN g % 100 >= 10 THEN 'L' END AS juice_unit
        FROM (SELECT g, sum(weight_kg) AS total_kg FROM generated_loads GROUP BY g) w
    ) runs
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
            for statement in GENERATE:
                conn.execute(text(statement))
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
        engine.dispose()
        drop_database(server_url, url)


def _samples(conn: Connection) -> dict[str, Any]:
    """Realistic arguments: rows the patterns would be asked about in the app."""
    vendor_id = conn.execute(
        text(
            "SELECT vendor_id FROM press_runs WHERE status = 'in_progress' "
            "AND deleted_at IS NULL GROUP BY vendor_id ORDER BY count(*) DESC, vendor_id LIMIT 1"
        )
    ).scalar_one()
    run_id = conn.execute(
        text("SELECT id FROM press_runs WHERE status = 'completed' ORDER BY start_time LIMIT 1")
    ).scalar_one()
    vessel_id = conn.execute(
        text("SELECT vessel_id FROM press_runs WHERE vessel_id IS NOT NULL LIMIT 1")
    ).scalar_one()
    # The lines of one purchase invoice, as the purchase screen asks for them.
    item_ids = list(
        conn.execute(
            text(
                "SELECT id FROM purchase_items WHERE purchase_id = "
                "(SELECT purchase_id FROM purchase_items GROUP BY purchase_id "
                "ORDER BY count(*) DESC, purchase_id LIMIT 1)"
            )
        ).scalars()
    )
    return {
        "vendor_id": vendor_id,
        "run_id": run_id,
        "vessel_id": vessel_id,
        "purchase_item_ids": item_ids,
        # One month of the second season.
        "since": datetime(2024, 10, 1, tzinfo=UTC),
        "until": datetime(2024, 11, 1, tzinfo=UTC),
    }


# Arguments a pattern receives beyond its builder's required ones, by pattern key.
EXTRA_ARGUMENTS: dict[str, tuple[str, ...]] = {"a-vendor": ("vendor_id",)}


def _arguments(pattern: Pattern, samples: dict[str, Any]) -> dict[str, Any]:
    parameters = inspect.signature(pattern.build).parameters
    names = [name for name, p in parameters.items() if p.default is inspect.Parameter.empty]
    names += EXTRA_ARGUMENTS.get(pattern.key, ())
    unknown = [name for name in names if name not in samples]
    assert not unknown, f"pattern {pattern.key}: add sample values for {unknown} in _samples"
    return {name: samples[name] for name in names}


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


@pytest.mark.parametrize("pattern", PATTERNS, ids=[p.key for p in PATTERNS])
def test_pattern_is_served_by_its_index(plan_db: PlanDatabase, pattern: Pattern) -> None:
    stmt = pattern.build(**_arguments(pattern, plan_db.samples))
    compiled = stmt.compile(
        dialect=postgresql.dialect(),
        compile_kwargs={"render_postcompile": True},
    )
    with plan_db.engine.connect() as conn:
        table = conn.execute(
            text("SELECT tablename FROM pg_indexes WHERE indexname = :name"),
            {"name": pattern.index},
        ).scalar_one_or_none()
        assert table is not None, f"index {pattern.index} does not exist"
        # The sample really selects rows, or the plan would prove little.
        assert conn.exec_driver_sql(str(compiled), compiled.params).first() is not None
        (explained,) = conn.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
        ).scalar_one()

    nodes = list(_nodes(explained["Plan"]))
    summary = _summary(nodes)
    used = [node for node in nodes if node.get("Index Name") == pattern.index]
    assert used, f"pattern {pattern.key} does not use {pattern.index}: {summary}"
    assert all(node.get("Relation Name", table) == table for node in used)
    seq_scans = [
        node
        for node in nodes
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == table
    ]
    assert not seq_scans, f"pattern {pattern.key} scans all of {table}: {summary}"


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
    assert Decimal("0.55") <= min_rate <= max_rate <= Decimal("0.75")
    assert mismatched == 0
