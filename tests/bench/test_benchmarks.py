"""Every benchmark once, at TINY scale, through ``python -m benchmarks run``'s runner.

These tests keep the benchmarks from rotting: the runner generates TINY into a
database of its own on the test server, runs the reads, the writes and the
migration impact once each (one iteration, runs of a fraction of a second),
writes the JSON, the markdown and the plots into a temporary directory, and
drops its database. Nothing here asserts a timing: only that the results are
well formed (keys present, numbers positive, plans read, targets evaluated).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from benchmarks import report, suite
from benchmarks.cli import app
from benchmarks.impact import ImpactOptions
from benchmarks.reads import SERVICE_FRUIT, ReadOptions
from benchmarks.writes import WriteOptions
from psycopg import sql
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from cidery.config import Settings
from cidery.errors import CideryError
from cidery.migrations import runner
from cidery.press.queries import PATTERNS

TINY_PLAN = suite.Plan(
    scales=("TINY",),
    write_scales=("TINY",),
    impact_scale="TINY",
    reads=ReadOptions(
        iterations=1, warmup=0, explained=1, pk_only_iterations=1, pk_only_budget_s=5.0
    ),
    writes=WriteOptions(
        iterations=1,
        warmup=0,
        operator_counts=(1, 2),
        duration_s=0.2,
        contention_operators=2,
        pace_s=0.05,
    ),
    impact=ImpactOptions(baseline_s=0.1, settle_s=0.05),
)
NOTES = "## Notes\n\nWritten by hand, appended verbatim."


@dataclass
class Run:
    json_path: Path
    markdown: Path
    results: dict[str, Any]
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
    return Run(json_path, markdown, json.loads(json_path.read_text()), root / "docs", messages)


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
    machine = run.results["machine"]
    assert machine["cores"] == os.cpu_count()
    assert machine["postgresql"]
    assert machine["python"]
    assert run.results["started"] <= run.results["finished"]
    assert run.results["plan"]["scales"] == ["TINY"]
    assert _positive(run.results["seconds"])


def test_the_scratch_database_is_dropped(run: Run, server_url: str) -> None:
    admin = make_url(server_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'cidery\\_bench\\_tiny\\_%%'"
        ).fetchall()
    assert not left


def test_reads_time_and_explain_every_pattern(run: Run) -> None:
    reads = run.results["scales"]["TINY"]["reads"]
    patterns = {p["key"]: p for p in reads["patterns"]}
    assert set(patterns) == {p.key for p in PATTERNS} | {SERVICE_FRUIT}
    for key, result in patterns.items():
        assert result["n"] == 1
        assert _positive(result["median_ms"]), key
        assert result["p95_ms"] >= result["median_ms"]
        assert result["plan"]["summary"]
        assert result["plan"]["node_types"]
        assert isinstance(result["plan"]["indexes"], list)
    # With the indexes, the plans use some; the declared ones are what PK-only drops.
    assert any(p["plan"]["indexes"] for p in patterns.values())
    declared = {p.index for p in PATTERNS}
    assert declared <= set(reads["pk_only_dropped_indexes"])
    for key, result in patterns.items():
        if key == SERVICE_FRUIT:
            assert result["pk_only"] is None
            continue
        pk_only = result["pk_only"]
        assert _positive(pk_only["median_ms"]), key
        assert not set(pk_only["plan"]["indexes"]) & declared, key
        assert _positive(result["ratio_pk_only"])


def test_writes_measure_service_floor_operators_and_contention(run: Run) -> None:
    writes = run.results["scales"]["TINY"]["writes"]
    for name in ("single", "floor"):
        assert writes[name]["n"] == 1
        assert _positive(writes[name]["median_ms"])
    assert _positive(writes["service_over_floor"])
    assert [m["operators"] for m in writes["operators"]] == [1, 2]
    crews = [*writes["operators"], writes["floor_operators"], writes["paced"]]
    crews.append(writes["contention"])
    for measured in crews:
        assert measured["errors"] == 0, measured["errors_by_type"]
        assert measured["loads"] >= 1
        assert _positive(measured["throughput_per_s"])
        assert _positive(measured["p99_ms"])
    assert writes["floor_operators"]["operators"] == 2
    assert writes["paced"]["pace_s"] == TINY_PLAN.writes.pace_s
    assert writes["contention"]["operators"] == 2


def test_migration_impact_applies_every_later_revision(run: Run) -> None:
    impact = run.results["scales"]["TINY"]["impact"]
    later = [s.revision for s in runner.revisions_in_order()][1:]
    assert impact["start_revision"] == suite.BASELINE_REVISION
    assert [r["revision"] for r in impact["revisions"]] == later
    for revision in impact["revisions"]:
        assert _positive(revision["duration_ms"])
        assert revision["writer"]["n"] >= 0
    assert impact["writer_statements"] > 0
    assert not impact["writer_errors"]
    assert impact["table_rows"]["purchase_items"] > 0


def test_targets_are_evaluated(run: Run) -> None:
    rows = report.targets(run.results)
    assert len(rows) == 4  # flat-out p99, paced p99, service/floor, migration stall
    for target, measured, _met in rows:
        assert target
        assert measured


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
