"""The season-scale generator at TINY scale: counts, invariants, determinism, schema, CLI.

Timing is not measured here (see docs/benchmarks.md); these tests only make
sure the generator keeps producing data the schema and the service accept.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from benchmarks.generate import (
    DRAW_TRIGGER,
    LATEST_SEASON,
    STEP_FOREIGN_KEYS,
    STEP_INDEXES,
    STEP_VACUUM,
    TABLES,
    GenerationReport,
    generate,
)
from benchmarks.scales import SCALES
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from cidery import press
from cidery.db.engine import make_engine
from cidery.errors import CideryError
from cidery.migrations import runner
from cidery.migrations.checks import smoke
from cidery.migrations.checks.catalog import schema_snapshot, snapshot_differences
from cidery.models.enums import UserRole
from cidery.press import queries
from cidery.sample.seed import seed

TINY = SCALES["TINY"]
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Generated:
    engine: Engine
    report: GenerationReport
    before: dict[str, Any]
    progress: list[tuple[str, int, int]]


@pytest.fixture(scope="module")
def generated(template_name: str, create_database: Callable[..., str]) -> Iterator[Generated]:
    """One TINY data set in a migrated database of this module's own, read by most tests."""
    url = create_database("cidery_bench", template=template_name)
    engine = make_engine(url)
    with engine.connect() as conn:
        before = schema_snapshot(conn)
    calls: list[tuple[str, int, int]] = []
    report = generate(engine, TINY, progress=lambda *call: calls.append(call))
    yield Generated(engine, report, before, calls)
    engine.dispose()  # create_database drops it at the end of the session


@pytest.fixture
def conn(generated: Generated) -> Iterator[Connection]:
    with generated.engine.connect() as connection:
        yield connection


def rows(conn: Connection, query: str) -> list[Any]:
    return list(conn.execute(text(query)).all())


def scalar(conn: Connection, query: str) -> Any:
    return conn.execute(text(query)).scalar_one()


def content_hash(engine: Engine) -> dict[str, str]:
    """md5 of every generated table's rows, ordered by id."""
    with engine.connect() as conn:
        return {
            table: scalar(
                conn, f"SELECT md5(string_agg(t::text, E'\\n' ORDER BY t.id)) FROM {table} t"
            )
            for table in TABLES
        }


# --- what was written ------------------------------------------------------------------


def test_rows_per_table_match_the_scale(generated: Generated, conn: Connection) -> None:
    expected = {
        "users": TINY.operators + 2,
        "vendors": TINY.vendors,
        "apple_varieties": TINY.varieties,
        "vessels": TINY.vessels,
        "purchase_items": TINY.purchase_items,
        "press_runs": TINY.runs,
        "press_run_loads": TINY.loads,
    }
    report = generated.report
    assert {table: report.rows[table] for table in expected} == expected
    assert TINY.purchase_items / 4 <= report.rows["purchases"] <= TINY.purchase_items
    actual = {table: scalar(conn, f"SELECT count(*) FROM {table}") for table in TABLES}
    assert actual == report.rows
    assert report.seconds > 0
    assert report.replaced == {}


def test_progress_is_reported_per_table_then_per_step(generated: Generated) -> None:
    last: dict[str, tuple[int, int]] = {}
    for name, done, total in generated.progress:
        previous = last.get(name, (0, total))[0]
        assert previous <= done <= total, (name, done, total)
        last[name] = (done, total)
    assert set(last) == {*TABLES, STEP_INDEXES, STEP_FOREIGN_KEYS, STEP_VACUUM}
    assert all(done == total for done, total in last.values())
    assert {table: last[table][0] for table in TABLES} == generated.report.rows


def test_schema_is_exactly_the_migrated_one(generated: Generated, conn: Connection) -> None:
    assert snapshot_differences(generated.before, schema_snapshot(conn)) == []
    assert scalar(conn, "SELECT count(*) FROM pg_constraint WHERE NOT convalidated") == 0
    assert (
        scalar(
            conn,
            "SELECT count(*) FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relnamespace = current_schema()::regnamespace "
            "AND NOT (x.indisvalid AND x.indisready)",
        )
        == 0
    )


# --- invariants, checked in SQL even where a constraint already guarantees them ------------


def test_no_purchase_line_is_over_pressed(conn: Connection) -> None:
    # The service's rule: live loads of live, uncancelled runs.
    over = rows(
        conn,
        """
        SELECT i.id, i.quantity_kg, sum(l.weight_kg)
        FROM purchase_items i
        JOIN press_run_loads l ON l.purchase_item_id = i.id AND l.deleted_at IS NULL
        JOIN press_runs r ON r.id = l.press_run_id
             AND r.status <> 'cancelled' AND r.deleted_at IS NULL
        GROUP BY i.id, i.quantity_kg
        HAVING sum(l.weight_kg) > i.quantity_kg
        """,
    )
    assert over == []
    # Stronger, by construction: every load ever drawn, voided and cancelled included.
    over_all = rows(
        conn,
        """
        SELECT i.id FROM purchase_items i JOIN press_run_loads l ON l.purchase_item_id = i.id
        GROUP BY i.id, i.quantity_kg HAVING sum(l.weight_kg) > i.quantity_kg
        """,
    )
    assert over_all == []
    # The lines are really drawn on: past seasons mostly pressed out.
    pressed_share = scalar(
        conn,
        "SELECT sum(l.weight_kg) / (SELECT sum(quantity_kg) FROM purchase_items) "
        "FROM press_run_loads l",
    )
    assert Decimal("0.4") < pressed_share <= 1


def test_pressed_kg_is_what_the_triggers_keep(conn: Connection) -> None:
    # The generator writes pressed_kg itself, with the loads' trigger off for their COPY:
    # it must hold exactly the triggers' figure, recomputed from the loads.
    recomputed = {
        row.purchase_item_id: row.pressed_kg for row in conn.execute(queries.PRESSED_BY_LINE)
    }
    stored = dict(rows(conn, "SELECT id, pressed_kg FROM purchase_items"))
    assert stored == {line: recomputed.get(line, Decimal(0)) for line in stored}
    assert set(recomputed) <= set(stored)
    # Loads of cancelled or deleted runs, and voided loads, exist and are not counted.
    drawn = scalar(conn, "SELECT sum(weight_kg) FROM press_run_loads")
    assert sum(stored.values()) < drawn
    assert len(recomputed) > len(stored) / 2


def test_the_draw_trigger_is_enabled_again(generated: Generated, conn: Connection) -> None:
    table, name = DRAW_TRIGGER
    enabled = scalar(
        conn,
        f"SELECT tgenabled FROM pg_trigger WHERE tgname = '{name}' "
        f"AND tgrelid = '{table}'::regclass",
    )
    assert enabled == "O"  # fires, in origin (ordinary) sessions
    # And keeps the generated figure: a load added through the service draws on it.
    with Session(generated.engine) as session:  # rolled back: the data set stays as generated
        run_id, vendor_id, operator_id = session.execute(
            text(
                "SELECT r.id, r.vendor_id, r.created_by FROM press_runs r "
                "WHERE r.status = 'in_progress' ORDER BY r.id LIMIT 1"
            )
        ).one()
        line = session.execute(*queries.available_fruit(vendor_id)).first()
        assert line is not None
        actor = press.Actor(user_id=operator_id, role=UserRole.OPERATOR)
        press.add_load(
            session,
            actor,
            run_id,
            {"purchase_item_id": line.purchase_item_id, "weight": "1.5", "weight_unit": "kg"},
        )
        after = session.execute(
            text("SELECT pressed_kg FROM purchase_items WHERE id = :id"),
            {"id": line.purchase_item_id},
        ).scalar_one()
        assert after == line.pressed_kg + Decimal("1.5")
        session.rollback()


def test_fruit_is_left_for_the_open_runs(generated: Generated) -> None:
    with Session(generated.engine) as session:
        open_vendors = session.execute(
            text("SELECT DISTINCT vendor_id FROM press_runs WHERE status = 'in_progress'")
        ).scalars()
        for vendor_id in open_vendors:
            available = session.execute(*queries.available_fruit(vendor_id)).all()
            assert sum(row.remaining_kg for row in available) > 1000, vendor_id


def test_run_totals_are_their_live_loads(conn: Connection) -> None:
    wrong = rows(
        conn,
        """
        SELECT r.id FROM press_runs r
        LEFT JOIN press_run_loads l ON l.press_run_id = r.id AND l.deleted_at IS NULL
        GROUP BY r.id, r.total_apple_weight_kg
        HAVING r.total_apple_weight_kg <> coalesce(sum(l.weight_kg), 0)
        """,
    )
    assert wrong == []
    assert scalar(conn, "SELECT count(*) FROM press_runs WHERE total_apple_weight_kg = 0") == 0


def test_load_numbers_run_from_one_without_gaps(conn: Connection) -> None:
    gaps = rows(
        conn,
        """
        SELECT press_run_id FROM press_run_loads GROUP BY press_run_id
        HAVING min(load_sequence) <> 1 OR max(load_sequence) <> count(*)
            OR count(DISTINCT load_sequence) <> count(*)
        """,
    )
    assert gaps == []
    assert scalar(
        conn, "SELECT count(*) FROM press_runs r WHERE NOT EXISTS "
        "(SELECT 1 FROM press_run_loads l WHERE l.press_run_id = r.id)"
    ) == 0  # fmt: skip


def test_every_status_and_some_soft_deleted_rows(conn: Connection) -> None:
    statuses = dict(rows(conn, "SELECT status::text, count(*) FROM press_runs GROUP BY 1"))
    assert set(statuses) == {"in_progress", "completed", "cancelled"}
    assert statuses["in_progress"] == max(1, round(TINY.runs * 0.01))
    assert statuses["cancelled"] == max(1, round(TINY.runs * 0.08))
    counts = rows(
        conn,
        """
        SELECT (SELECT count(*) FROM vendors WHERE deleted_at IS NOT NULL),
               (SELECT count(*) FROM vendors WHERE NOT is_active AND deleted_at IS NULL),
               (SELECT count(*) FROM users WHERE deleted_at IS NOT NULL),
               (SELECT count(*) FROM press_runs WHERE deleted_at IS NOT NULL),
               (SELECT count(*) FROM press_run_loads WHERE deleted_at IS NOT NULL)
        """,
    )[0]
    assert all(count >= 1 for count in counts), counts
    roles = {role for (role,) in rows(conn, "SELECT DISTINCT role::text FROM users")}
    assert roles == {"admin", "operator", "viewer"}


def test_runs_are_consistent_with_their_status(conn: Connection) -> None:
    assert (
        rows(
            conn,
            f"""
            SELECT r.id FROM press_runs r JOIN vendors v ON v.id = r.vendor_id
            WHERE r.status = 'in_progress'
              AND (r.end_time IS NOT NULL OR r.juice_volume IS NOT NULL OR r.deleted_at IS NOT NULL
                   OR NOT v.is_active OR v.deleted_at IS NOT NULL
                   OR extract(year FROM r.start_time) <> {LATEST_SEASON})
            """,
        )
        == []
    )
    # The open runs are the newest of the latest season.
    assert scalar(
        conn,
        "SELECT min(start_time) FROM press_runs WHERE status = 'in_progress'",
    ) >= scalar(
        conn,
        "SELECT max(start_time) FROM press_runs r JOIN vendors v ON v.id = r.vendor_id "
        "WHERE status <> 'in_progress' AND v.is_active",
    )
    assert (
        rows(
            conn,
            """
            SELECT id FROM press_runs
            WHERE status = 'completed' AND NOT (end_time > start_time AND vessel_id IS NOT NULL
                  AND total_juice_volume_l IS NOT NULL AND worker_count > 0 AND labor_hours > 0)
               OR status = 'cancelled' AND NOT (end_time > start_time AND vessel_id IS NULL
                  AND juice_volume IS NULL AND notes LIKE 'Cancelled: %')
               OR start_time::date NOT BETWEEN
                  make_date(extract(year FROM start_time)::int, 9, 1)
                  AND make_date(extract(year FROM start_time)::int, 11, 30)
            """,
        )
        == []
    )
    seasons = scalar(conn, "SELECT count(DISTINCT extract(year FROM start_time)) FROM press_runs")
    assert seasons == TINY.seasons


def test_yields_are_plausible(conn: Connection) -> None:
    rates = [
        rate
        for (rate,) in rows(
            conn, "SELECT extraction_rate FROM press_runs WHERE status = 'completed'"
        )
    ]
    assert rates
    assert all(Decimal("0.3") < rate < Decimal("1.0") for rate in rates), rates
    usual = [rate for rate in rates if Decimal("0.55") <= rate <= Decimal("0.75")]
    assert len(usual) >= 0.9 * len(rates)
    # Completed runs' juice fits the vessel it went into.
    assert (
        scalar(
            conn,
            "SELECT count(*) FROM press_runs r JOIN vessels v ON v.id = r.vessel_id "
            "WHERE r.total_juice_volume_l > v.capacity_l",
        )
        == 0
    )


def test_amounts_match_their_units(conn: Connection) -> None:
    # No CHECK ties quantity_kg to the entry on purchase_items: this does.
    wrong = rows(
        conn,
        """
        SELECT id FROM purchase_items WHERE quantity_kg IS DISTINCT FROM round(quantity *
            CASE unit WHEN 'kg' THEN 1 WHEN 'lb' THEN 0.45359237 WHEN 'bushel' THEN 19.05087954
            END, 3)
        """,
    )
    assert wrong == []
    units = rows(
        conn,
        """
        SELECT (SELECT array_agg(DISTINCT unit::text ORDER BY unit::text) FROM purchase_items),
               (SELECT array_agg(DISTINCT weight_unit::text ORDER BY weight_unit::text)
                FROM press_run_loads),
               (SELECT array_agg(DISTINCT juice_volume_unit::text ORDER BY juice_volume_unit::text)
                FROM press_runs WHERE juice_volume_unit IS NOT NULL)
        """,
    )[0]
    assert units == (["bushel", "kg", "lb"], ["kg", "lb"], ["L", "gal"])


def test_smoke_checks_pass(conn: Connection) -> None:
    # Among them: purchase totals are the sums of their live lines, quantities match units.
    failed = [(result.name, result.detail) for result in smoke.run(conn) if not result.ok]
    assert failed == []


def test_loads_draw_on_their_growers_fruit_bought_before(conn: Connection) -> None:
    wrong = rows(
        conn,
        """
        SELECT l.id FROM press_run_loads l
        JOIN press_runs r ON r.id = l.press_run_id
        JOIN purchase_items i ON i.id = l.purchase_item_id
        JOIN purchases p ON p.id = i.purchase_id
        WHERE p.vendor_id <> r.vendor_id
           OR p.purchase_date > l.pressed_at::date
           OR l.pressed_at < r.start_time
           OR l.pressed_at > r.end_time
           OR i.deleted_at IS NOT NULL
           OR l.created_by IS NULL OR r.created_by IS NULL
        """,
    )
    assert wrong == []


def test_vessels_of_every_type_and_status(conn: Connection) -> None:
    types, statuses = rows(
        conn,
        "SELECT count(DISTINCT type), count(DISTINCT status) FROM vessels",
    )[0]
    assert (types, statuses) == (5, 4)


# --- determinism, refusals and --replace ---------------------------------------------------


def test_same_seed_same_data_and_replace(generated: Generated, clone_url: str) -> None:
    engine = make_engine(clone_url)
    try:
        with Session(engine) as session, session.begin():
            seed(session)
        with pytest.raises(CideryError, match=r"already holds data in users.*--replace"):
            generate(engine, TINY)
        report = generate(engine, TINY, replace=True)
        # The sample data and whatever referenced it are gone; the counts say what was there.
        assert report.replaced["batches"] == 5  # three, and two juice lots of a split run
        assert report.replaced["press_runs"] == 5
        assert content_hash(engine) == content_hash(generated.engine)
        assert report.rows == generated.report.rows

        generate(engine, TINY, seed=7, replace=True)
        other = content_hash(engine)
        assert all(other[t] != value for t, value in content_hash(generated.engine).items())
        with engine.connect() as conn:
            assert snapshot_differences(generated.before, schema_snapshot(conn)) == []
            assert scalar(conn, "SELECT count(*) FROM batches") == 0
    finally:
        engine.dispose()


def test_refuses_a_database_not_at_head(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        with pytest.raises(CideryError, match="no cidery schema"):
            generate(engine, TINY)
        runner.upgrade(engine, "0001")
        with pytest.raises(CideryError, match=r"at revision 0001, not at head .*cidery db migrate"):
            generate(engine, TINY)
    finally:
        engine.dispose()


def test_a_refused_generation_changes_nothing(generated: Generated, conn: Connection) -> None:
    before = content_hash(generated.engine)
    with pytest.raises(CideryError, match="already holds data"):
        generate(generated.engine, TINY)
    assert content_hash(generated.engine) == before
    assert snapshot_differences(generated.before, schema_snapshot(conn)) == []


# --- the command line ---------------------------------------------------------------------


def bench(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def outcome(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def assert_one_error_line(result: tuple[int, str, str], *fragments: str) -> None:
    returncode, stdout, stderr = result
    assert returncode == 1, result
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("error: "), result
    assert "Traceback" not in stdout + stderr
    for fragment in fragments:
        assert fragment in stderr, result


def test_cli_generate(
    clone_url: str, tmp_path: Path, cli_env: Callable[..., dict[str, str]]
) -> None:
    env = cli_env(clone_url, tmp_path / "pgdata", PYTHONPATH=str(ROOT))
    first = bench(["generate", "--scale", "TINY"], env, tmp_path)
    unknown = bench(["generate", "--scale", "XL"], env, tmp_path)
    assert_one_error_line(outcome(unknown), "unknown scale 'XL'", "TINY, S, M, L")

    returncode, stdout, stderr = outcome(first)
    assert returncode == 0, (stdout, stderr)
    assert "generated scale TINY with seed 20261125" in stdout
    for table in TABLES:
        assert table in stdout
    assert f"{TINY.loads}" in stdout

    again = outcome(bench(["generate", "--scale", "TINY"], env, tmp_path))
    assert_one_error_line(again, "already holds data", "--replace")
