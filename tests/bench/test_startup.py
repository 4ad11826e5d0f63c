"""The start-up benchmark's plumbing: ``python -m benchmarks startup`` once, briefly.

One timed run of each command on the test server, then what the results and the
report hold: every command timed, the databases dropped, the targets evaluated, the
section and its source named in docs/benchmarks.md regenerated from a full run. No
figure is compared with a target here: the machine decides those.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from benchmarks import report, startup, suite
from benchmarks.cli import app
from benchmarks.options import StartupOptions
from benchmarks.results import CommandTimes, Latency, Results, StartupResults
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from cidery.config import Settings
from cidery.migrations import scripts

ROOT = Path(__file__).resolve().parents[2]
# A full run's results as committed, for the report to take every other section from.
FULL = sorted((ROOT / "benchmarks" / "results").glob("*-full.json"))[-1]
ONCE = StartupOptions(runs=1, warmup=0)


@pytest.fixture(scope="module")
def measured(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A run alone beside a copy of the newest committed full run: the JSON and the docs."""
    root = tmp_path_factory.mktemp("startup")
    results_dir = root / "benchmarks" / "results"
    results_dir.mkdir(parents=True)
    shutil.copy(FULL, results_dir / FULL.name)
    settings = Settings(
        database_url=server_url,
        data_dir=root / "unused",
        lock_timeout="5s",
        statement_timeout="5min",
    )
    json_path, markdown = suite.run_startup_only(
        settings,
        results_dir=results_dir,
        docs_dir=root / "docs",
        options=ONCE,
        clock=lambda: datetime(2030, 1, 1, tzinfo=UTC),
    )
    return json_path, markdown


def test_every_command_is_run_and_timed(measured: tuple[Path, Path]) -> None:
    json_path, _ = measured
    results = Results.read(json_path)
    assert results.kind == "startup"
    assert results.scales == {}
    assert results.plan.startup == ONCE
    found = results.startup
    assert found is not None
    assert [c.key for c in found.commands] == list(startup.COMMANDS)
    for command in found.commands:
        assert command.latency.n == 1
        assert len(command.samples_ms) == 1
        assert command.samples_ms[0] > 0
    assert found.revisions == len(scripts.revision_files())
    assert found.psql.startswith("psql")
    assert found.migrate_over_psql is not None
    assert found.migrate_over_psql > 0
    assert Results.from_json(results.to_json()) == results


def test_its_databases_are_dropped(measured: tuple[Path, Path], server_url: str) -> None:
    admin = make_url(server_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'cidery\\_bench\\_startup\\_%%'"
        ).fetchall()
    assert not left


def test_the_docs_take_the_section_and_its_targets_from_the_run_alone(
    measured: tuple[Path, Path],
) -> None:
    json_path, markdown = measured
    text = markdown.read_text()
    assert f"from `{FULL.name}`" in text
    assert f"the start-up section: from `{json_path.name}`, a later run of it alone" in text
    # The section describes the run it comes from, not the full run's plan.
    assert "each command run 1 time(s) after 0 untimed run(s)" in text
    assert "## Command line start-up" in text
    assert "## Reads" in text, "the full run's sections stay"
    for command in ("cidery --help", "cidery version", "cidery db status"):
        assert f"| `{command}` under" in text
    assert "| `cidery db migrate` of an empty database within 3" in text


def test_the_report_command_regenerates_the_docs_from_it(
    measured: tuple[Path, Path], tmp_path: Path
) -> None:
    json_path, _ = measured
    docs = tmp_path / "docs"
    result = CliRunner().invoke(
        app, ["run", "--report-from", str(json_path), "--docs-dir", str(docs)]
    )
    assert result.exit_code == 0, result.output
    text = (docs / "benchmarks.md").read_text()
    assert "## Command line start-up" in text
    assert "## Reads" in text


def _times(key: str, median: float, *samples: float) -> CommandTimes:
    return CommandTimes(key, startup.COMMANDS[key], Latency(len(samples), median), samples)


def test_targets_are_met_or_missed_by_the_medians() -> None:
    measured = StartupResults(
        commands=(
            _times("help", 120.0, 110.0, 120.0, 130.0),
            _times("version", 310.0, 300.0, 310.0, 320.0),
            _times("status", 590.0, 580.0, 590.0, 900.0),
            _times("migrate", 400.0, 400.0),
            _times("psql", 100.0, 100.0),
            _times("imports", 250.0, 250.0),
        ),
        revisions=6,
        psql="psql (PostgreSQL) 18.6",
        migrate_over_psql=4.0,
    )
    rows = {
        target.split("`")[1]: (figure, met)
        for target, figure, met in report.startup_targets(measured)
    }
    assert rows["cidery --help"] == ("median 120 ms (runs 110\u2013130 ms)", True)
    assert rows["cidery version"][1] is False
    assert rows["cidery db status"][1] is True
    figure, met = rows["cidery db migrate"]
    assert met is False
    assert figure.startswith(f"4.0{report.TIMES} (400 vs 100 ms)")
    assert f"Alembic alone: 250 ms, 2.5{report.TIMES} psql" in figure
