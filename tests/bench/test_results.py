"""The results files: typed, written and read back, older layouts still readable.

No database here: the results of a real run are checked in test_benchmarks.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from benchmarks import report
from benchmarks.cli import app
from benchmarks.options import FULL
from benchmarks.results import (
    FORMAT,
    Latency,
    Machine,
    OtherIndexesResult,
    PatternResult,
    PlanSummary,
    ReadResults,
    Results,
    ResultsFormatError,
    ScaleResults,
)
from typer.testing import CliRunner

from cidery.errors import CideryError

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = sorted((ROOT / "benchmarks" / "results").glob("*.json"))

LATENCY = {"n": 2, "median_ms": 1.5, "p95_ms": 2.0, "p99_ms": 2.0, "mean_ms": 1.5, "max_ms": 2.0}
PLAN = {
    "node_types": ["Index Scan"],
    "indexes": ["press_runs_pkey"],
    "seq_scans": [],
    "summary": "Index Scan using press_runs_pkey",
    "total_cost": 8.3,
    "uses_expected_index": True,
    "other_plans": [],
}
MACHINE = {
    "cores": 2,
    "cpu": "test",
    "memory_gib": 1.0,
    "platform": "test",
    "python": "3.11",
    "postgresql": "18",
    "postgresql_settings": {"jit": "on"},
    "sqlalchemy": "2",
    "psycopg": "3",
}


PATTERN_1 = {
    "key": "a",
    "description": "runs",
    "expected_index": "press_runs_pkey",
    **LATENCY,
    "rows_mean": 1,
    "plan": PLAN,
    "pk_only": {**LATENCY, "timed_out_ms": None, "plan": PLAN},
    "ratio_pk_only": 1.0,
    "ratio_pk_only_is_lower_bound": False,
}


def format_1() -> dict[str, Any]:
    """A results file as the first benchmarks wrote it: latency keys beside the others."""
    crew = {"operators": 1, "pace_s": None, "duration_s": 1, "loads": 2,
            "throughput_per_s": 2.0, **LATENCY, "errors": 0, "errors_by_type": {}}  # fmt: skip
    writer = {**LATENCY, "longest_stall_ms": 2.0, "longest_stall_statement": "update vendors",
              "longest_stall_at_ms": 5.0}  # fmt: skip
    return {
        "kind": "full",
        "started": "2026-11-25T13:17:17+00:00",
        "finished": "2026-11-25T13:21:23+00:00",
        "seconds": 246.0,
        "machine": MACHINE,
        "plan": {"scales": ["S"], "impact": {"target": "head", "baseline_s": 2.0}, "seed": 1},
        "scales": {
            "S": {
                "scale": "S",
                "rows": {"press_runs": 10},
                "generate_s": 0.4,
                "reads": {
                    "iterations": 2,
                    "pk_only_dropped_indexes": ["press_runs_status_idx"],
                    "patterns": [PATTERN_1],
                },
                "writes": {
                    "single": LATENCY,
                    "floor": LATENCY,
                    "service_over_floor": 1.0,
                    "service_over_floor_p99": 1.0,
                    "operators": [crew],
                    "floor_operators": crew,
                    "paced": {**crew, "pace_s": 1.0},
                    "contention": crew,
                },
                "impact": {
                    "start_revision": "0001",
                    "table_rows": {"vendors": 20},
                    "writer_pause_ms": 2.0,
                    "baseline_writer": writer,
                    "revisions": [{"revision": "0002", "duration_ms": 100.0, "writer": writer}],
                    "worst_stall_ms": 2.0,
                    "writer_errors": {},
                    "writer_statements": 10,
                },
            }
        },
    }


def test_format_1_is_regrouped_with_its_figures_unchanged() -> None:
    results = Results.from_json(format_1())
    scale = results.scales["S"]
    pattern = scale.reads.patterns[0]
    assert pattern.latency == Latency(**LATENCY)
    assert pattern.pk_only is not None
    assert pattern.pk_only.latency.median_ms == 1.5
    assert scale.writes is not None
    assert scale.writes.paced is not None
    assert scale.writes.paced.latency.p99_ms == 2.0
    assert scale.impact is not None
    assert scale.impact.start_revision == "0001"
    assert scale.impact.revisions[0].writer.longest_stall_statement == "update vendors"
    # What format 1 did not record takes its default; removed options are ignored.
    assert results.plan.reads == FULL.reads
    assert results.plan.impact.since == "0001"
    assert scale.generate_phases == {}
    assert results.started == datetime(2026, 11, 25, 13, 17, 17, tzinfo=UTC)
    # Written again, it is format 2 and reads back the same.
    assert results.to_json()["format"] == FORMAT
    assert Results.from_json(json.loads(json.dumps(results.to_json()))) == results


@pytest.mark.parametrize("path", COMMITTED, ids=[p.name for p in COMMITTED])
def test_every_committed_results_file_loads_and_renders(path: Path) -> None:
    results = report.load(path)
    text = report.render(results, path.name, {})
    assert text.startswith("# Benchmarks")
    # A run of the API benchmark alone (``python -m benchmarks api``) has no scales.
    assert ("## Reads" in text) == bool(results.scales)
    assert ("## API" in text) == (results.api is not None)


def _minimal(**changes: Any) -> dict[str, Any]:
    pattern = PatternResult("run", "a run", "press_runs_pkey", Latency(1, 1.0), 1.0, None)
    results = Results(
        kind="quick",
        started=datetime(2026, 11, 30, tzinfo=UTC),
        finished=datetime(2026, 11, 30, 0, 1, tzinfo=UTC),
        seconds=60.0,
        machine=Machine(**MACHINE),
        plan=FULL,
        scales={"S": ScaleResults("S", {"press_runs": 1}, 0.1, ReadResults(1, (), (pattern,)))},
    )
    return {**results.to_json(), **changes}


def test_a_later_format_is_refused_not_misread() -> None:
    with pytest.raises(ResultsFormatError, match=f"format 99.*formats 1 to {FORMAT}"):
        Results.from_json(_minimal(format=99))


def test_a_missing_or_mistyped_figure_is_named() -> None:
    data = _minimal()
    del data["scales"]["S"]["reads"]["patterns"][0]["latency"]
    with pytest.raises(ResultsFormatError, match=r"results\.scales\.S\.reads\.patterns\[0\]"):
        Results.from_json(data)
    with pytest.raises(ResultsFormatError, match=r"results\.seconds: expected float"):
        Results.from_json(_minimal(seconds="fast"))


def test_the_report_command_refuses_a_file_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"kind": "full"}))
    result = CliRunner().invoke(app, ["run", "--report-from", str(path)])
    assert isinstance(result.exception, CideryError)
    assert "cannot report from it" in str(result.exception)
    assert "results.json" in str(result.exception)


def _summary(*nodes: str, indexes: tuple[str, ...] = ()) -> PlanSummary:
    return PlanSummary(
        summary=" → ".join(nodes),
        node_types=nodes,
        indexes=indexes,
        seq_scans=(),
        total_cost=1.0,
        uses_expected_index=None,
    )


def _compared(
    ours: PlanSummary,
    theirs: PlanSummary,
    ratio: float,
    interval: tuple[float, float] | None = None,
) -> PatternResult:
    """A pattern timed on both copies: ``ratio`` is their median over ours."""
    measured = Latency(n=400, median_ms=1.0)
    return PatternResult(
        key="runs",
        description="runs",
        expected_index="press_runs_start_time_idx",
        latency=measured,
        rows_mean=50,
        plan=ours,
        theirs=OtherIndexesResult(latency=measured, plan=theirs),
        ratio_theirs=ratio,
        ratio_theirs_interval=interval,
    )


@pytest.mark.parametrize(
    ("ratio", "their_nodes", "slower"),
    [
        (1.4, ("Sort", "Bitmap Heap Scan", "Bitmap Index Scan"), False),
        # Below the noise band with the same nodes: another index of the same shape.
        (0.6, ("Limit", "Index Scan"), False),
        (0.95, ("Limit", "Sort", "Seq Scan"), False),
        (0.5, ("Limit", "Sort", "Seq Scan"), True),
    ],
)
def test_ours_counts_as_slower_only_below_the_noise_with_another_plan(
    ratio: float, their_nodes: tuple[str, ...], slower: bool
) -> None:
    pattern = _compared(_summary("Limit", "Index Scan"), _summary(*their_nodes), ratio)
    assert report.slower_with_ours(pattern) is slower


@pytest.mark.parametrize(
    ("interval", "their_index", "slower"),
    [
        # The whole interval below 1, on another index: measurably slower.
        ((0.85, 0.97), "theirs_press_runs_status", True),
        # The same interval on the same index (the primary key): the machine's noise.
        ((0.6, 0.8), "press_runs_pkey", False),
        # An interval that reaches 1: not shown to be slower, even far below 0.9.
        ((0.5, 1.02), "theirs_press_runs_status", False),
        # Below 1 throughout, but by less than the margin: within what A/A runs spread to.
        ((0.93, 0.99), "theirs_press_runs_status", False),
    ],
)
def test_with_an_interval_ours_is_slower_only_when_all_of_it_is_below_one_on_another_plan(
    interval: tuple[float, float], their_index: str, slower: bool
) -> None:
    pattern = _compared(
        _summary("Limit", "Index Scan", indexes=("press_runs_pkey",)),
        _summary("Limit", "Index Scan", indexes=(their_index,)),
        round(sum(interval) / 2, 3),
        interval,
    )
    assert report.slower_with_ours(pattern) is slower
    assert report.same_plan(pattern) is (their_index == "press_runs_pkey")
