"""``python -m benchmarks run``: generate each scale into a fresh database, run every benchmark,
keep the raw JSON and regenerate the report.

Each scale gets a database of its own on the configured server (the embedded
one, or ``DATABASE_URL``'s, whose role must then be allowed to create
databases), created, migrated to head, filled by
:func:`benchmarks.generate.generate`, measured, and dropped at the end even
when a benchmark fails. The database cidery itself uses is never touched.

Full run: reads at S, M and L; writes at S and L; migration impact at L (each
revision after ``0001`` applied under a concurrent writer to the L database
downgraded, with ``allow_data_loss``, to the revision before it:
:mod:`benchmarks.impact`); first, the command line's start-up in databases of its own
(:mod:`benchmarks.startup`). ``--quick``: everything at S only, with fewer iterations and
one-second runs.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
from sqlalchemy import text

from benchmarks.api import run_api
from benchmarks.databases import scratch_database
from benchmarks.generate import generate
from benchmarks.impact import run_impact
from benchmarks.options import FULL, QUICK, ApiOptions, Plan, StartupOptions
from benchmarks.reads import run_reads
from benchmarks.report import write_report
from benchmarks.results import ApiResults, Machine, Results, ScaleResults
from benchmarks.scales import SCALES
from benchmarks.startup import run_startup
from benchmarks.stats import Progress, quiet
from benchmarks.writes import libpq_url_of, run_writes
from cidery.config import Settings
from cidery.db.engine import make_engine, resolve_url
from cidery.errors import CideryError
from cidery.migrations import runner
from cidery.urls import describe_url

__all__ = [
    "FULL",
    "QUICK",
    "Plan",
    "check_may_create_databases",
    "regenerate_docs",
    "run",
    "run_api_benchmark",
    "run_api_only",
    "run_scale",
    "run_startup_only",
]

# The API benchmark's database: its own operators, growers and runs on TINY's catalog.
API_SCALE = "TINY"


def check_may_create_databases(url: str) -> None:
    """Refuse early, in one line, when the role cannot create the scratch databases."""
    with psycopg.connect(libpq_url_of(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    if not row or not row[0]:
        raise CideryError(
            f"the role of {describe_url(url)} may not create databases, and each benchmark "
            "scale runs in a database of its own: grant it CREATEDB, or unset DATABASE_URL "
            "to use the embedded server"
        )


def machine(url: str) -> Machine:
    """Where the figures come from."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            settings = {
                name: str(conn.execute(text(f"SHOW {name}")).scalar_one())
                for name in (
                    "server_version",
                    "shared_buffers",
                    "work_mem",
                    "synchronous_commit",
                    "fsync",
                    "jit",
                    "max_parallel_workers_per_gather",
                )
            }
    finally:
        engine.dispose()
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = None
    if hasattr(os, "sysconf"):
        try:
            memory_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
        except (ValueError, OSError):
            memory_gib = None
    return Machine(
        cores=os.cpu_count(),
        cpu=cpu,
        memory_gib=memory_gib,
        platform=platform.platform(),
        python=platform.python_version(),
        postgresql=settings.pop("server_version"),
        postgresql_settings=settings,
        sqlalchemy=sqlalchemy.__version__,
        psycopg=psycopg.__version__,
    )


def _database_name(scale: str) -> str:
    return f"cidery_bench_{scale.lower()}_{os.getpid()}"


def run_scale(url: str, scale: str, plan: Plan, progress: Progress = quiet) -> ScaleResults:
    """Generate ``scale`` into a fresh database and run what ``plan`` asks there."""
    with scratch_database(url, _database_name(scale)) as scratch:
        engine = make_engine(scratch)
        try:
            runner.upgrade(engine, "head")
            progress(f"scale {scale}: generating")
            generated = generate(engine, SCALES[scale], seed=plan.seed)
            progress(f"scale {scale}: generated in {generated.seconds:.1f} s")
            reads = run_reads(engine, plan.reads, progress)
            writes = None
            if scale in plan.write_scales:
                writes = run_writes(scratch, plan.writes, progress)
            impact = None
            if scale == plan.impact_scale:
                # Last: it downgrades the database it measures.
                impact = run_impact(engine, plan.impact, progress)
            return ScaleResults(
                scale=scale,
                rows=generated.rows,
                generate_s=round(generated.seconds, 2),
                reads=reads,
                writes=writes,
                impact=impact,
                generate_phases={name: round(s, 2) for name, s in generated.phases.items()},
            )
        finally:
            engine.dispose()


def run_api_benchmark(
    url: str, options: ApiOptions, seed: int, progress: Progress = quiet
) -> ApiResults:
    """The API benchmark (:mod:`benchmarks.api`) in a fresh database of its own."""
    with scratch_database(url, _database_name("api")) as scratch:
        engine = make_engine(scratch)
        try:
            runner.upgrade(engine, "head")
            generate(engine, SCALES[API_SCALE], seed=seed)
        finally:
            engine.dispose()
        progress(f"api: serving the app on a database of generated {API_SCALE} data")
        return run_api(scratch, options, progress)


def run(
    settings: Settings,
    *,
    quick: bool = False,
    results_dir: Path = Path("benchmarks/results"),
    docs_dir: Path = Path("docs"),
    progress: Progress = quiet,
    plan: Plan | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[Path, Path]:
    """Every benchmark; returns the JSON written and the markdown report.

    A full run's report is ``docs_dir/benchmarks.md`` (plots in
    ``docs_dir/benchmarks/``); a quick run's goes beside its JSON, so it never
    replaces the full figures.
    """
    plan = plan or (QUICK if quick else FULL)
    url = resolve_url(settings)
    if settings.database_url is not None:
        check_may_create_databases(url)
    began = time.perf_counter()
    # Whole seconds, as the results file keeps them.
    started = clock().replace(microsecond=0)
    measured_on = machine(url)
    # First, on a server not yet busy with the scales' databases: seconds, not minutes.
    startup = run_startup(url, plan.startup, progress) if plan.startup else None
    scales = {scale: run_scale(url, scale, plan, progress) for scale in plan.scales}
    api = run_api_benchmark(url, plan.api, plan.seed, progress) if plan.api else None
    results = Results(
        kind="quick" if quick else "full",
        started=started,
        finished=clock().replace(microsecond=0),
        seconds=round(time.perf_counter() - began, 1),
        machine=measured_on,
        plan=plan,
        scales=scales,
        api=api,
        startup=startup,
    )

    results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{started.strftime('%Y%m%d-%H%M%S')}-{results.kind}"
    json_path = results_dir / f"{stem}.json"
    results.write(json_path)
    if quick:
        markdown = results_dir / f"{stem}.md"
        plots = results_dir / stem
    else:
        markdown = docs_dir / "benchmarks.md"
        plots = docs_dir / "benchmarks"
    write_report(results, json_path, markdown, plots)
    return json_path, markdown


def run_api_only(
    settings: Settings,
    *,
    quick: bool = False,
    results_dir: Path = Path("benchmarks/results"),
    docs_dir: Path = Path("docs"),
    progress: Progress = quiet,
    options: ApiOptions | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[Path, Path]:
    """The API benchmark alone (``python -m benchmarks api``); returns the JSON written and
    the markdown report (see :func:`_run_alone`; kind ``api`` or ``api-quick``)."""
    plan = QUICK if quick else FULL
    chosen = options or plan.api or ApiOptions()
    return _run_alone(
        settings,
        "api",
        replace(plan, api=chosen),
        lambda url: {"api": run_api_benchmark(url, chosen, plan.seed, progress)},
        quick=quick,
        results_dir=results_dir,
        docs_dir=docs_dir,
        clock=clock,
    )


def run_startup_only(
    settings: Settings,
    *,
    quick: bool = False,
    results_dir: Path = Path("benchmarks/results"),
    docs_dir: Path = Path("docs"),
    progress: Progress = quiet,
    options: StartupOptions | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[Path, Path]:
    """The command line's start-up alone (``python -m benchmarks startup``); returns the
    JSON written and the markdown report (see :func:`_run_alone`; kind ``startup`` or
    ``startup-quick``)."""
    plan = QUICK if quick else FULL
    chosen = options or plan.startup or StartupOptions()
    return _run_alone(
        settings,
        "startup",
        replace(plan, startup=chosen),
        lambda url: {"startup": run_startup(url, chosen, progress)},
        quick=quick,
        results_dir=results_dir,
        docs_dir=docs_dir,
        clock=clock,
    )


def _run_alone(
    settings: Settings,
    kind: str,
    plan: Plan,
    measure: Callable[[str], dict[str, Any]],
    *,
    quick: bool,
    results_dir: Path,
    docs_dir: Path,
    clock: Callable[[], datetime],
) -> tuple[Path, Path]:
    """One benchmark alone: ``measure`` returns its figures, by field of :class:`Results`.

    The JSON holds no scales. A quick run's report goes beside it; a full run's figures
    replace their section of ``docs_dir/benchmarks.md``, regenerated by
    :func:`regenerate_docs` (from the run alone when there is no full run yet).
    """
    url = resolve_url(settings)
    if settings.database_url is not None:
        check_may_create_databases(url)
    began = time.perf_counter()
    started = clock().replace(microsecond=0)
    measured_on = machine(url)
    figures = measure(url)
    results = Results(
        kind=f"{kind}-quick" if quick else kind,
        started=started,
        finished=clock().replace(microsecond=0),
        seconds=round(time.perf_counter() - began, 1),
        machine=measured_on,
        plan=plan,
        scales={},
        **figures,
    )
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{started.strftime('%Y%m%d-%H%M%S')}-{results.kind}"
    json_path = results_dir / f"{stem}.json"
    results.write(json_path)
    if quick:
        markdown = results_dir / f"{stem}.md"
        write_report(results, json_path, markdown, results_dir / stem)
        return json_path, markdown
    markdown = docs_dir / "benchmarks.md"
    if regenerate_docs(results_dir, docs_dir) is None:
        write_report(results, json_path, markdown, docs_dir / "benchmarks")
    return json_path, markdown


def latest_full(results_dir: Path) -> Path | None:
    """The newest full run's JSON in ``results_dir`` (their names start with the time)."""
    found = sorted(results_dir.glob("*-full.json"))
    return found[-1] if found else None


def _alone_after(results_dir: Path, kind: str, full: Path) -> Path | None:
    """The newest run of one benchmark alone (``*-<kind>.json``) made after ``full``."""
    found = sorted(results_dir.glob(f"*-{kind}.json"))
    return found[-1] if found and found[-1].name > full.name else None


def regenerate_docs(
    results_dir: Path,
    docs_dir: Path,
    *,
    api_from: Path | None = None,
    startup_from: Path | None = None,
) -> list[Path] | None:
    """``docs_dir/benchmarks.md`` and its plots from the newest full run in ``results_dir``,
    with the API and start-up sections of the newest runs of those benchmarks alone made
    after it (or of the files given); None, writing nothing, when there is no full run."""
    latest = latest_full(results_dir)
    if latest is None:
        return None
    return write_report(
        Results.read(latest),
        latest,
        docs_dir / "benchmarks.md",
        docs_dir / "benchmarks",
        api_from=api_from or _alone_after(results_dir, "api", latest),
        startup_from=startup_from or _alone_after(results_dir, "startup", latest),
    )
