"""``python -m benchmarks``: season-scale data, and the benchmarks measured on it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from benchmarks.generate import DEFAULT_SEED, GenerationReport, generate
from benchmarks.scales import SCALES, Scale
from cidery.cli.output import console
from cidery.cli.runtime import Runtime
from cidery.errors import CideryError

app = typer.Typer(
    help="Generate season-scale data and run the benchmarks on it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def parse_scale(name: str) -> Scale:
    """A scale by name (TINY, S, M, L; any case), or a one-line error."""
    scale = SCALES.get(name.strip().upper())
    if scale is None:
        raise CideryError(f"unknown scale {name!r}: choose one of {', '.join(SCALES)}")
    return scale


ScaleOption = Annotated[
    str,
    typer.Option(
        "--scale",
        help="How big: " + ", ".join(f"{s.name} ({s.loads:,} loads)" for s in SCALES.values()),
    ),
]


def _progress_since(began: float) -> Callable[[str], None]:
    """A progress line printer that stamps each message with the seconds since ``began``."""

    def progress(message: str) -> None:
        console.print(f"[{time.perf_counter() - began:6.0f}s] {message}", soft_wrap=True)

    return progress


# --- python -m benchmarks generate ----------------------------------------------------------------


@app.command("generate")
def generate_command(
    scale: ScaleOption,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same data.")] = DEFAULT_SEED,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help=(
                "Empty the generated tables first (TRUNCATE ... CASCADE: tables referencing "
                "them, such as batches, packages and the audit log, are emptied too)."
            ),
        ),
    ] = False,
) -> None:
    """Fill the database (migrated to head, no data yet) with a generated cidery, by COPY."""
    chosen = parse_scale(scale)
    runtime = Runtime()
    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        report = generate(runtime.engine, chosen, seed=seed, progress=progress, replace=replace)
    print_report(report)


def print_report(report: GenerationReport) -> None:
    if report.replaced:
        emptied = ", ".join(
            f"{table} ({rows:,})" for table, rows in report.replaced.items() if rows
        )
        console.print(f"replaced: emptied {emptied or 'nothing (the tables were empty)'}")
    table = Table()
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in report.rows.items():
        table.add_row(name, f"{rows:,}")
    table.add_section()
    table.add_row("total", f"{sum(report.rows.values()):,}")
    table.add_row("seconds", f"{report.seconds:.1f}")
    console.print(f"generated scale {report.scale} with seed {report.seed}")
    console.print(table)
    phases = ", ".join(f"{name} {seconds:.1f}" for name, seconds in report.phases.items())
    console.print(f"seconds per phase: {phases}")


# --- python -m benchmarks run ---------------------------------------------------------------------


@app.command("run")
def run_command(
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="S only, fewer iterations, one-second runs; the report goes beside its JSON "
            "instead of replacing docs/benchmarks.md.",
        ),
    ] = False,
    results_dir: Annotated[
        Path, typer.Option("--results-dir", help="Where the raw JSON goes.")
    ] = Path("benchmarks/results"),
    docs_dir: Annotated[
        Path, typer.Option("--docs-dir", help="Where a full run writes benchmarks.md and plots.")
    ] = Path("docs"),
    report_from: Annotated[
        Path | None,
        typer.Option(
            "--report-from",
            help="Measure nothing: regenerate the report from this results JSON.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Every benchmark at S, M and L (each in a fresh database), then the report.

    The command line's start-up; reads at S, M, L; writes at S and L; migration impact
    at L. Creates and drops databases cidery_bench_* on the server; with DATABASE_URL its
    role needs CREATEDB.
    """
    from benchmarks import report, suite
    from benchmarks.results import ResultsFormatError

    if report_from is not None:
        try:
            results = report.load(report_from)
        except ResultsFormatError as exc:
            raise CideryError(f"cannot report from it: {exc}") from None
        latest = suite.latest_full(report_from.parent)
        if results.kind.endswith("quick"):
            stem = report_from.with_suffix("")
            written = report.write_report(results, report_from, stem.with_suffix(".md"), stem)
        elif results.kind in ("api", "startup") and latest is not None:
            # A benchmark alone: with the newest full run's figures, as its command wrote it.
            written = (
                suite.regenerate_docs(
                    report_from.parent,
                    docs_dir,
                    api_from=report_from if results.kind == "api" else None,
                    startup_from=report_from if results.kind == "startup" else None,
                )
                or []
            )
        else:
            written = report.write_report(
                results, report_from, docs_dir / "benchmarks.md", docs_dir / "benchmarks"
            )
        for path in written:
            console.print(f"wrote {path}")
        return
    began = time.perf_counter()
    progress = _progress_since(began)

    json_path, markdown = suite.run(
        Runtime().settings,
        quick=quick,
        results_dir=results_dir,
        docs_dir=docs_dir,
        progress=progress,
    )
    console.print(f"wrote {json_path} and {markdown} in {time.perf_counter() - began:.0f} s")


# --- python -m benchmarks api ---------------------------------------------------------------------


@app.command("api")
def api_command(
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="One uvicorn worker, four-second points; the report goes beside its JSON "
            "instead of into docs/benchmarks.md.",
        ),
    ] = False,
    results_dir: Annotated[
        Path, typer.Option("--results-dir", help="Where the raw JSON goes.")
    ] = Path("benchmarks/results"),
    docs_dir: Annotated[
        Path, typer.Option("--docs-dir", help="Where a full run writes benchmarks.md and plots.")
    ] = Path("docs"),
) -> None:
    """The HTTP API alone: the served app and a minimal ASGI endpoint, 1, 10 and 50
    operators, paced and flat out (``make bench`` runs it too).

    A full run regenerates docs/benchmarks.md from the newest full results with these
    API figures. Creates and drops a database cidery_bench_api_* on the server.
    """
    from benchmarks import suite

    began = time.perf_counter()
    progress = _progress_since(began)

    json_path, markdown = suite.run_api_only(
        Runtime().settings,
        quick=quick,
        results_dir=results_dir,
        docs_dir=docs_dir,
        progress=progress,
    )
    console.print(f"wrote {json_path} and {markdown} in {time.perf_counter() - began:.0f} s")


# --- python -m benchmarks startup -----------------------------------------------------------------


@app.command("startup")
def startup_command(
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Five timed runs of each command; the report goes beside its JSON instead "
            "of into docs/benchmarks.md.",
        ),
    ] = False,
    results_dir: Annotated[
        Path, typer.Option("--results-dir", help="Where the raw JSON goes.")
    ] = Path("benchmarks/results"),
    docs_dir: Annotated[
        Path, typer.Option("--docs-dir", help="Where a full run writes benchmarks.md and plots.")
    ] = Path("docs"),
) -> None:
    """The command line's start-up alone: --help, version, db status, and db migrate of an
    empty database against psql applying the committed SQL (``make bench`` runs it too).

    A full run regenerates docs/benchmarks.md from the newest full results with these
    figures. Creates and drops databases cidery_bench_startup_* on the server.
    """
    from benchmarks import suite

    began = time.perf_counter()
    progress = _progress_since(began)

    json_path, markdown = suite.run_startup_only(
        Runtime().settings,
        quick=quick,
        results_dir=results_dir,
        docs_dir=docs_dir,
        progress=progress,
    )
    console.print(f"wrote {json_path} and {markdown} in {time.perf_counter() - began:.0f} s")
