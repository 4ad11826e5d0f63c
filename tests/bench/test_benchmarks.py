"""Every benchmark once, at TINY scale, through ``python -m benchmarks run``'s runner.

These tests keep the benchmarks from rotting: the runner generates TINY into a
database of its own on the test server, runs the reads, the writes and the
migration impact once each (one iteration, runs of a fraction of a second),
writes the JSON, the markdown and the plots into a temporary directory, and
drops its database. Nothing here asserts a timing: only that the results are
well formed (keys present, numbers positive, plans read, targets evaluated).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from benchmarks import report, suite
from benchmarks.cli import app
from benchmarks.options import ImpactOptions, ReadOptions, WriteOptions
from benchmarks.reads import RAW_FRUIT, RAW_RUN, SERVICE_FRUIT, SERVICE_RUN, THEIR_INDEXES
from benchmarks.results import Results
from benchmarks.scales import SCALES
from psycopg import sql
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from cidery.config import Settings
from cidery.errors import CideryError
from cidery.migrations import scripts
from cidery.press.queries import PATTERNS

TINY = SCALES["TINY"]

TINY_PLAN = suite.Plan(
    scales=("TINY",),
    write_scales=("TINY",),
    impact_scale="TINY",
    reads=ReadOptions(
        iterations=1,
        service_iterations=1,
        warmup=0,
        explained=1,
        pk_only_iterations=1,
        pk_only_budget_s=5.0,
    ),
    writes=WriteOptions(
        iterations=1,
        warmup=0,
        operator_counts=(1, 2),
        duration_s=0.2,
        contention_operators=2,
        pace_s=0.05,
        # Two client processes: the crew of two runs one operator in each.
        client_processes=2,
    ),
    impact=ImpactOptions(baseline_s=0.1, settle_s=0.05),
    # The API benchmark serves the app, and the start-up benchmark runs the program:
    # tests/bench/test_api.py and test_startup.py run them on their own.
    api=None,
    startup=None,
)
NOTES = "## Notes\n\nWritten by hand, appended verbatim."


@dataclass
class Run:
    json_path: Path
    markdown: Path
    results: Results
    docs: Path
    progress: list[str]


@pytest.fixture(scope="module")
def run(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("bench")
    (root / "benchmarks").mkdir()
    (root / "benchmarks" / "notes.md").write_text(NOTES)
    settings = Settings(
        database_url=server_url,
        data_dir=root / "unused",
        lock_timeout="5s",
        statement_timeout="5min",
    )
    messages: list[str] = []
    json_path, markdown = suite.run(
        settings,
        results_dir=root / "benchmarks" / "results",
        docs_dir=root / "docs",
        progress=messages.append,
        plan=TINY_PLAN,
    )
    return Run(json_path, markdown, Results.read(json_path), root / "docs", messages)


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and value > 0


def test_the_runner_writes_json_markdown_and_plots(run: Run) -> None:
    assert run.json_path.parent.name == "results"
    assert run.json_path.name.endswith("-full.json")
    assert run.markdown == run.docs / "benchmarks.md"
    for plot in (report.LATENCY_PLOT, report.OPERATORS_PLOT):
        path = run.docs / "benchmarks" / plot
        assert path.read_bytes().startswith(b"\x89PNG")
    text = run.markdown.read_text()
    for heading in ("## Targets", "## Data", "## Reads", "## Writes", "## Migration impact"):
        assert heading in text
    assert f"](benchmarks/{report.LATENCY_PLOT})" in text
    assert text.rstrip().endswith(NOTES.splitlines()[-1])
    assert run.progress, "the runner reports progress"


def test_machine_and_plan_are_recorded(run: Run) -> None:
    machine = run.results.machine
    assert machine.cores == os.cpu_count()
    assert machine.postgresql
    assert machine.python
    assert run.results.started <= run.results.finished
    assert run.results.plan == TINY_PLAN
    assert _positive(run.results.seconds)


def test_the_results_file_reads_back_as_written(run: Run) -> None:
    assert Results.from_json(run.results.to_json()) == run.results
    scale = run.results.scales["TINY"]
    assert scale.generate_phases["load"] > 0


def test_the_scratch_database_is_dropped(run: Run, server_url: str) -> None:
    admin = make_url(server_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'cidery\\_bench\\_tiny\\_%%'"
        ).fetchall()
    assert not left


def test_reads_time_and_explain_every_pattern(run: Run) -> None:
    reads = run.results.scales["TINY"].reads
    patterns = {p.key: p for p in reads.patterns}
    services = {SERVICE_FRUIT, SERVICE_RUN, RAW_FRUIT, RAW_RUN}
    assert set(patterns) == {p.key for p in PATTERNS} | services
    for key, result in patterns.items():
        assert result.latency.n == 1
        assert _positive(result.latency.median_ms), key
        assert result.latency.p95_ms is not None
        assert result.latency.p95_ms >= result.latency.median_ms
    # Bound from the samples: a run and a purchase line that exist, found by id.
    assert patterns["run"].rows_mean == 1
    assert patterns["run-loads"].rows_mean >= 1
    assert patterns[SERVICE_RUN].rows_mean == patterns["run-loads"].rows_mean
    for pattern in PATTERNS:
        plan = patterns[pattern.key].plan
        assert plan is not None
        assert plan.summary
        assert plan.node_types
        # Whether the index is chosen on TINY's few rows is the planner's call.
        if pattern.index is None:
            assert plan.uses_expected_index is None
    # The declared indexes are what PK-only drops (primary keys stay).
    dropped = set(reads.pk_only_dropped_indexes)
    declared = {p.index for p in PATTERNS if p.index}
    assert {index for index in declared if not index.endswith("_pkey")} <= dropped
    assert {"purchases", "purchase_items"} <= set(reads.pk_only_tables)
    for key, result in patterns.items():
        if key in services:
            assert result.plan is None
            assert result.pk_only is None
            assert result.theirs is None
            assert result.wraps
            assert set(result.wraps) <= set(patterns)
            continue
        pk_only = result.pk_only
        assert pk_only is not None
        assert _positive(pk_only.latency.median_ms), key
        assert not set(pk_only.plan.indexes) & dropped, key
        assert _positive(result.ratio_pk_only)


def test_service_reads_are_compared_with_their_raw_sql(run: Run) -> None:
    reads = run.results.scales["TINY"].reads
    for service, raw in ((SERVICE_FRUIT, RAW_FRUIT), (SERVICE_RUN, RAW_RUN)):
        measured = reads.pattern(service)
        replayed = reads.pattern(raw)
        assert measured is not None
        assert replayed is not None
        assert measured.raw_key == raw
        assert _positive(measured.ratio_over_raw)
        assert _positive(replayed.latency.median_ms)
        assert replayed.wraps == measured.wraps
    # get_run's three statements replayed: the run, its loads, their varieties' names.
    run_raw = reads.pattern(RAW_RUN)
    loads = reads.pattern("run-loads")
    assert run_raw is not None
    assert loads is not None
    assert run_raw.rows_mean >= loads.rows_mean + 1


def test_every_pattern_is_timed_with_the_original_apps_indexes(run: Run) -> None:
    reads = run.results.scales["TINY"].reads
    assert reads.theirs_indexes == THEIR_INDEXES
    ours = {p.key: p for p in PATTERNS}
    # Ours of the press tables made room for theirs; the other tables' were kept.
    assert "press_runs_start_time_idx" in reads.theirs_dropped_indexes
    assert "press_run_loads_press_run_id_idx" in reads.theirs_dropped_indexes
    assert not any(name.startswith("purchase") for name in reads.theirs_dropped_indexes)
    for key in ours:
        result = reads.pattern(key)
        assert result is not None
        theirs = result.theirs
        assert theirs is not None, key
        # Once with each connection on each copy.
        assert theirs.latency.n == 2
        assert theirs.ours_again is not None
        assert theirs.ours_again.n == 2
        interval = result.ratio_theirs_interval
        assert interval is not None, key
        assert 0 < interval[0] <= interval[1], key
        assert _positive(theirs.latency.median_ms), key
        assert _positive(result.ratio_theirs), key
        assert theirs.ours_again is not None
        assert _positive(theirs.ours_again.median_ms), key
        # Nothing of ours on the press tables was left to use.
        assert not set(theirs.plan.indexes) & set(reads.theirs_dropped_indexes), key
    # A run's loads in order: the original app's index on them serves it.
    run_loads = reads.pattern("run-loads")
    assert run_loads is not None
    assert run_loads.theirs is not None
    assert any(name.startswith("theirs_") for name in run_loads.theirs.plan.indexes) or (
        "Seq Scan" in run_loads.theirs.plan.node_types
    )
    # Our plan of the first pass, on the database itself.
    assert run_loads.plan is not None


def test_writes_measure_service_floor_operators_and_contention(run: Run) -> None:
    writes = run.results.scales["TINY"].writes
    assert writes is not None
    for measured in (writes.single, writes.floor):
        assert measured.n == 1
        assert _positive(measured.median_ms)
    assert _positive(writes.service_over_floor)
    assert [m.operators for m in writes.operators] == [1, 2]
    assert [m.operators for m in writes.floor_crews] == [1, 2]
    assert writes.floor_operators == writes.floor_crews[-1]
    assert writes.single_cpu is not None
    assert writes.single_cpu.n == 1
    assert writes.floor_cpu is not None
    assert writes.paced is not None
    assert writes.contention is not None
    crews = [*writes.operators, *writes.floor_crews, writes.paced, writes.contention]
    for crew in crews:
        assert crew.errors == 0, crew.errors_by_type
        assert crew.loads >= 1
        assert _positive(crew.throughput_per_s)
        assert _positive(crew.latency.p99_ms)
        # Client processes, not threads of this one; never more than operators.
        assert crew.processes == min(TINY_PLAN.writes.client_processes, crew.operators)
        assert _positive(crew.client_cpu_ms_per_load)
    assert writes.floor_operators.operators == 2
    assert writes.paced.pace_s == TINY_PLAN.writes.pace_s
    assert writes.contention.operators == 2


def test_migration_impact_applies_each_revision_on_the_one_before(run: Run) -> None:
    impact = run.results.scales["TINY"].impact
    assert impact is not None
    order = [s.revision for s in scripts.revisions_in_order()]
    later = order[order.index(TINY_PLAN.impact.since) + 1 :]
    assert [r.revision for r in impact.revisions] == later
    for revision in impact.revisions:
        assert revision.from_revision == order[order.index(revision.revision) - 1]
        assert _positive(revision.duration_ms)
        assert revision.writer.latency.n >= 0
        assert revision.baseline_writer is not None
        assert revision.baseline_writer.latency.n > 0
        assert revision.table_rows["purchase_items"] > 0
    # A revision after the press tables' is applied with every load still there.
    by_revision = {r.revision: r for r in impact.revisions}
    assert "press_run_loads" not in by_revision["0002"].table_rows
    assert by_revision["0003"].table_rows["press_run_loads"] >= TINY.loads
    assert impact.writer_statements > 0
    assert not impact.writer_errors


def test_targets_are_evaluated(run: Run) -> None:
    rows = report.targets(run.results)
    # Flat-out p99, paced p99, service/floor, client CPU, the two service reads against
    # their raw SQL, ours against the original app's indexes, migration stall.
    assert len(rows) == 8
    for target, measured, _met in rows:
        assert target
        assert measured


def test_the_report_shows_every_entry_and_revision(run: Run) -> None:
    text = run.markdown.read_text()
    for key in [p.key for p in PATTERNS] + [SERVICE_FRUIT, SERVICE_RUN, RAW_FRUIT, RAW_RUN]:
        assert f"| `{key}` |" in text
    assert "### Our indexes against the original app's" in text
    assert "### Service reads against their raw SQL" in text
    impact = run.results.scales["TINY"].impact
    assert impact is not None
    for revision in impact.revisions:
        assert f"| {revision.revision} | {revision.from_revision} |" in text


def test_report_can_be_regenerated_from_the_json(run: Run, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    result = CliRunner().invoke(
        app, ["run", "--report-from", str(run.json_path), "--docs-dir", str(docs)]
    )
    assert result.exit_code == 0, result.output
    assert (docs / "benchmarks.md").read_text().startswith("# Benchmarks")
    assert (docs / "benchmarks" / report.OPERATORS_PLOT).exists()


def test_a_role_that_cannot_create_databases_is_refused(server_url: str) -> None:
    url = make_url(server_url)
    admin = url.set(drivername="postgresql").render_as_string(False)
    role = f"cidery_bench_nocreate_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'x'").format(sql.Identifier(role)))
    try:
        limited = url.set(username=role, password="x").render_as_string(False)
        with pytest.raises(CideryError, match="may not create databases"):
            suite.check_may_create_databases(limited)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
