"""``cidery db``: the Python side of the original ``pnpm db:*`` scripts.

Imported by every run of the program, whatever the command, to build the command
tree: a command imports the database, migration and press modules, and Rich, inside
its function (see :mod:`cidery.cli.main`); the signatures and docstrings Typer
reads stay free of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cidery.cli.groups import command_group
from cidery.cli.runtime import Runtime
from cidery.config import DEFAULT_LOCK_WAIT
from cidery.errors import CideryError
from cidery.urls import describe_url

if TYPE_CHECKING:
    from cidery.press.report import PressSummary

app = command_group("Migrate, seed, check and inspect the cidery database.")
server_app = command_group("The embedded PostgreSQL server.")
app.add_typer(server_app, name="server")


def _runtime() -> Runtime:
    return Runtime()


# --- the embedded server -------------------------------------------------------------


def _embedded_data_dir(runtime: Runtime) -> Path:
    if not runtime.settings.uses_embedded_server:
        raise CideryError("DATABASE_URL is set: the embedded server is not in use")
    return runtime.settings.data_dir


@server_app.command("start")
def server_start() -> None:
    """Start the embedded server (or reuse the running one)."""
    from cidery.cli.output import console
    from cidery.db import server

    runtime = _runtime()
    url = server.start(_embedded_data_dir(runtime))
    console.print(f"embedded PostgreSQL running: {describe_url(url)}", soft_wrap=True)


@server_app.command("stop")
def server_stop() -> None:
    """Stop the embedded server."""
    from cidery.cli.output import console
    from cidery.db import server

    data_dir = _embedded_data_dir(_runtime())
    if server.stop(data_dir):
        console.print(f"stopped the embedded server in {data_dir}")
    else:
        console.print(f"the embedded server in {data_dir} was not running")


@server_app.command("status")
def server_status() -> None:
    """Show whether the embedded server is initialised and running."""
    from cidery.cli.output import console
    from cidery.db import server

    current = server.status(_embedded_data_dir(_runtime()))
    state = "running" if current.running else "stopped"
    if not current.initialised:
        state = "not initialised (started on first use)"
    console.print(f"data directory: {current.data_dir}")
    console.print(f"state: {state}" + (f" (pid {current.pid})" if current.pid else ""))
    if current.running:
        raise typer.Exit(0)
    raise typer.Exit(3)


@server_app.command("url")
def server_url() -> None:
    """Print the URL of the database in use (starts the embedded server if needed).

    The password of a DATABASE_URL is shown as ***.
    """
    from cidery.cli.output import console, note

    runtime = _runtime()
    shown = describe_url(runtime.url)
    console.print(shown, soft_wrap=True)
    if shown != runtime.url:
        note("note: the password is shown as ***; DATABASE_URL itself has it")


# --- migrations ---------------------------------------------------------------------


@app.command()
def generate(
    message: Annotated[
        str, typer.Option("-m", "--message", metavar="TEXT", help="What the revision does.")
    ],
) -> None:
    """Autogenerate the next revision from the models, then write its SQL files."""
    from cidery.cli.output import console
    from cidery.migrations import scripts

    runtime = _runtime()
    script = scripts.generate(runtime.engine, message)
    up, down = scripts.sql_file_paths(script)
    console.print(f"created revision {script.revision}: {script.path}", soft_wrap=True)
    console.print(f"SQL for review: {up.name}, {down.name}")
    console.print("read it, fix it, then regenerate the SQL with the tests' help (make test)")


Wait = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        metavar="SECONDS",
        help="Seconds to wait for another migration runner to finish.",
    ),
]


Retries = Annotated[
    int,
    typer.Option(
        "--retries",
        min=0,
        metavar="N",
        help="Times to retry, with backoff, when a revision times out waiting for a lock.",
    ),
]


def _notify_retry(attempt: int, delay: float, reason: str) -> None:
    from cidery.cli.output import note

    note(f"retry {attempt} in {delay:g}s: {reason}")


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    wait: Wait = DEFAULT_LOCK_WAIT,
    retries: Retries = 0,
) -> None:
    """Apply revisions up to REVISION (default: head)."""
    apply_migrations(_runtime(), revision, wait, retries)


def apply_migrations(
    runtime: Runtime,
    revision: str = "head",
    wait: float = DEFAULT_LOCK_WAIT,
    retries: int = 0,
) -> None:
    from cidery.cli.output import console
    from cidery.migrations import fresh

    # An empty database is built by the committed SQL, without loading Alembic.
    built = fresh.upgrade(runtime.url, revision, runtime.settings)
    if built is not None:
        console.print(f"database at revision {built[-1]} ({len(built)} revision(s) applied)")
        return

    from cidery.migrations import runner, scripts

    target = scripts.resolve(revision)
    # Counted under the migration lock: a runner that waited for another reports 0.
    applied = len(
        runner.upgrade(
            runtime.engine,
            target,
            timeouts=runtime.timeouts,
            wait=wait,
            retries=retries,
            on_retry=_notify_retry,
        )
    )
    with runtime.engine.connect() as conn:
        now = scripts.current_revision(conn)
    console.print(f"database at revision {now} ({applied} revision(s) applied)")


def _pending(runtime: Runtime) -> list[str]:
    from cidery.migrations import scripts

    with runtime.engine.connect() as conn:
        return scripts.pending(conn)


@app.command()
def rollback(
    revision: Annotated[
        str, typer.Argument(help="Revision to return to (default: one step back).")
    ] = "-1",
    allow_data_loss: Annotated[
        bool,
        typer.Option(
            "--allow-data-loss",
            help="Drop the rows of removed tables instead of archiving them.",
        ),
    ] = False,
    wait: Wait = DEFAULT_LOCK_WAIT,
    retries: Retries = 0,
) -> None:
    """Undo revisions down to REVISION (default: the last one applied).

    Rows in tables the rollback removes are kept in a schema cidery_archive_<rev>
    and put back by the next migrate, unless --allow-data-loss is given.
    """
    from cidery.cli.output import console
    from cidery.migrations import runner, scripts

    runtime = _runtime()
    runner.downgrade(
        runtime.engine,
        revision,
        timeouts=runtime.timeouts,
        allow_data_loss=allow_data_loss,
        wait=wait,
        retries=retries,
        on_retry=_notify_retry,
    )
    with runtime.engine.connect() as conn:
        now = scripts.current_revision(conn)
    console.print(f"database at revision {now or 'base (empty)'}")
    with runtime.engine.connect() as conn:
        for table, rows in runner.archived_rows(conn):
            console.print(
                f"kept {rows:,} row(s) in {table}: the next migrate restores them", soft_wrap=True
            )


@app.command()
def status() -> None:
    """Current revision, pending revisions and row counts."""
    print_status(_runtime())


def print_status(runtime: Runtime) -> None:
    # On psycopg alone (cidery.db.plain): this is all the command does, and SQLAlchemy
    # took longer to import than the rest of it.
    from rich.table import Table

    from cidery.cli.output import cell, console
    from cidery.db.plain import on_psycopg
    from cidery.db.server import connect
    from cidery.migrations.status import database_status

    summary = None
    conn, server_version = connect(runtime.url)
    with conn:
        fetch = on_psycopg(conn)
        current = database_status(fetch)
        if "press_runs" in {table.name for table in current.tables}:
            from cidery.press.report import summarise

            summary = summarise(fetch)
    where = (
        f"embedded, {runtime.settings.data_dir}"
        if runtime.settings.uses_embedded_server
        else describe_url(runtime.url)
    )
    overview = Table(show_header=False, title="cidery database")
    overview.add_row("server", cell(f"PostgreSQL {server_version} ({where})"))
    overview.add_row("revision", cell(f"{current.current or 'none'} (head {current.head})"))
    overview.add_row("pending", cell(", ".join(current.pending) or "none"))
    console.print(overview)
    tables = Table(title="tables")
    tables.add_column("table")
    tables.add_column("rows", justify="right")
    for table in current.tables:
        tables.add_row(cell(table.name), f"{table.rows:,}")
    console.print(tables)
    if summary is not None:
        print_press_summary(summary)


def print_press_summary(summary: PressSummary) -> None:
    from rich.table import Table

    from cidery.cli.output import cell, console
    from cidery.press.rules import YIELD_BAND

    by_status = Table(title="press runs")
    for column in ("status", "runs", "loads", "kg pressed", "juice L"):
        by_status.add_column(column, justify="left" if column == "status" else "right")
    for row in summary.by_status:
        by_status.add_row(
            cell(row.status),
            f"{row.runs:,}",
            f"{row.loads:,}",
            f"{row.kg_pressed:,}",
            f"{row.litres:,}",
        )
    console.print(by_status)
    by_variety = Table(title="yield per variety (completed runs)")
    for column in ("variety", "kg pressed", "juice L", "L/kg"):
        by_variety.add_column(column, justify="left" if column == "variety" else "right")
    for variety in summary.by_variety:
        rate = variety.yield_l_per_kg
        by_variety.add_row(
            cell(variety.variety),
            f"{variety.kg_pressed:,}",
            f"{variety.litres:,}",
            "-" if rate is None else str(rate),
        )
    console.print(by_variety)
    if summary.outliers:
        console.print(f"{len(summary.outliers)} run(s) with a yield outside {YIELD_BAND}:")
        for run in summary.outliers:
            console.print(
                f"  {run.start_time:%Y-%m-%d} {run.vendor_name}: {run.extraction_rate} L/kg "
                f"({run.total_apple_weight_kg} kg, {run.total_juice_volume_l} L)",
                soft_wrap=True,
            )
    else:
        console.print(f"no run with a yield outside {YIELD_BAND}")


@app.command()
def history() -> None:
    """Every revision, oldest first."""
    from rich.table import Table

    from cidery.cli.output import cell, console
    from cidery.migrations import scripts

    table = Table()
    for column in ("revision", "parent", "description"):
        table.add_column(column)
    for script in scripts.revisions_in_order():
        parent = script.down_revision or "base"
        table.add_row(cell(script.revision), cell(parent), cell((script.doc or "").splitlines()[0]))
    console.print(table)


@app.command()
def check() -> None:
    """Compare the live database with the models; exit 1 on any difference."""
    from cidery.cli.output import console
    from cidery.migrations import scripts
    from cidery.migrations.checks import checksums, drift

    runtime = _runtime()
    with runtime.engine.connect() as conn:
        behind = scripts.pending(conn)
        found = drift.differences(conn) + checksums.verify(conn)
        unverified = checksums.unrecorded(conn)
    if behind:
        console.print(f"{len(behind)} revision(s) not applied: run `cidery db migrate`")
    for line in found:
        console.print(f"- {line}", soft_wrap=True)
    if unverified:
        console.print(
            f"note: no checksum recorded for {', '.join(unverified)} "
            "(applied before checksums existed)",
            soft_wrap=True,
        )
    if behind or found:
        raise typer.Exit(1)
    console.print("database and models agree")


@app.command()
def lint() -> None:
    """Lint every revision's committed SQL with squawk and cidery's own rules."""
    import subprocess
    import sys

    from cidery.cli.output import console, note
    from cidery.migrations import scripts
    from cidery.migrations.checks import lint as project_rules

    found = 0
    squawk = Path(sys.executable).parent / "squawk"
    upgrades = [str(scripts.sql_file_paths(s)[0]) for s in scripts.revisions_in_order()]
    if squawk.exists():
        # squawk finds .squawk.toml (pg_version, excluded rules) from the working directory.
        result = subprocess.run([str(squawk), *upgrades], check=False)
        found += result.returncode != 0
    else:
        note("squawk is not installed (pip install squawk-cli): skipped it")
    findings = project_rules.lint_revisions()
    for finding in findings:
        console.print(f"- {finding}", soft_wrap=True)
    if found or findings:
        raise typer.Exit(1)
    console.print(f"{len(upgrades)} revision(s) pass squawk and cidery's rules")


@app.command("sql")
def sql_(
    revision_range: Annotated[
        str, typer.Argument(metavar="FROM:TO", help="e.g. base:head, 0001:0002, 0002:0001")
    ],
) -> None:
    """Print the SQL of a revision range, for DBAs who apply by hand."""
    from cidery.migrations import scripts

    # Plain echo, byte for byte: Rich would wrap long lines.
    typer.echo(scripts.offline_sql(revision_range, Runtime().timeouts), nl=False)


# --- roles --------------------------------------------------------------------------


@app.command()
def roles(
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            metavar="ROLE",
            help="The application's role (default: the user of CIDERY_APP_DATABASE_URL, "
            "else cidery_app).",
            show_default=False,
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Set the role's password, read from the first line of standard input.",
        ),
    ] = False,
) -> None:
    """Create or update the application's role: rows only, no DDL, audit_logs append-only.

    Run it as the schema's owner (DATABASE_URL), and again after each migration.
    """
    from cidery.db.roles import check_role_name, default_role

    runtime = _runtime()
    name = check_role_name(role if role is not None else default_role(runtime.settings))
    password = _password_from_stdin() if password_stdin else None
    grant_app_role(runtime, name, password)


def _password_from_stdin() -> str:
    import sys

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password of the application role: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CideryError("--password-stdin: no password on standard input (its first line)")
    return password


def grant_app_role(runtime: Runtime, role: str, password: str | None = None) -> None:
    from cidery.cli.output import console
    from cidery.db.roles import ensure_app_role

    granted = ensure_app_role(runtime.engine, role, password)
    console.print(f"application role {role}:")
    for line in granted:
        console.print(f"  {line}", soft_wrap=True)


# --- data ---------------------------------------------------------------------------


@app.command("seed")
def seed_() -> None:
    """Load the sample cidery (idempotent: a second run changes nothing)."""
    load_seed(_runtime())


def load_seed(runtime: Runtime) -> None:
    from cidery.cli.output import console
    from cidery.db.engine import transaction
    from cidery.sample import seed

    _require_head(runtime)
    with transaction(runtime.engine) as session:
        report = seed.seed(session)
    added = sum(report.inserted.values())
    console.print(f"seed: {added} row(s) added" + (" (already seeded)" if not added else ""))


def _require_head(runtime: Runtime) -> None:
    behind = _pending(runtime)
    if behind:
        raise CideryError(
            f"the database is behind by {len(behind)} revision(s): run `cidery db migrate` first"
        )


@app.command("smoke")
def smoke_() -> None:
    """Read-only validation queries against the live database; exit 1 on any failure."""
    run_smoke(_runtime())


def run_smoke(runtime: Runtime) -> None:
    from rich.table import Table

    from cidery.cli.output import cell, console, styled
    from cidery.migrations.checks import smoke
    from cidery.press import checks as press_checks

    # The press package's checks of its own data, run after the schema's.
    press = (smoke.Check("pressed_fruit", press_checks.pressed_fruit_agrees),)
    with runtime.engine.connect() as conn:
        results = smoke.run(conn, extra=press)
    table = Table(title="smoke checks")
    for column in ("check", "result", "detail"):
        table.add_column(column)
    for result in results:
        outcome = styled("pass", "green") if result.ok else styled("FAIL", "red")
        table.add_row(cell(result.name), outcome, cell(result.detail))
    console.print(table)
    failed = [r for r in results if not r.ok]
    if failed:
        console.print(f"{len(failed)} of {len(results)} check(s) failed")
        raise typer.Exit(1)


@app.command()
def reset(
    yes: Annotated[bool, typer.Option("--yes", help="Allow on a non-embedded database.")] = False,
) -> None:
    """Drop every cidery object and migrate again from empty."""
    from cidery.cli.output import console
    from cidery.migrations import runner, scripts

    runtime = _runtime()
    if not runtime.settings.uses_embedded_server and not yes:
        raise CideryError(
            f"refusing to reset {describe_url(runtime.url)}: it is not the embedded "
            "development database; pass --yes if you mean it"
        )
    runner.rebuild(runtime.engine, timeouts=runtime.timeouts)
    console.print(f"database rebuilt at revision {scripts.head()}")


def run_everything() -> None:
    """``make run``: the database up, at head, its application role granted (embedded
    server), seeded, checked and described."""
    runtime = _runtime()
    apply_migrations(runtime)
    if runtime.settings.uses_embedded_server:
        # The role the application connects as (cidery.db.roles.app_database_url); on a
        # server of DATABASE_URL roles are the DBA's to make (cidery db roles).
        from cidery.db.roles import default_role

        grant_app_role(runtime, default_role(runtime.settings))
    load_seed(runtime)
    run_smoke(runtime)
    print_status(runtime)
