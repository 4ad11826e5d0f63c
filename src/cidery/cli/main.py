"""Entry point: turns user mistakes into one line and an exit code, never a traceback.

Every run of the program imports this module and :mod:`cidery.cli.db` before it knows
which command it runs, so both stay cheap to import: a command imports what it needs
(SQLAlchemy, Alembic, psycopg, Pydantic, the models) inside its function, and
``cidery version`` or ``--help`` loads none of it (tests/cli/test_startup.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cidery import __version__
from cidery.cli import db, logs, report, serve, users
from cidery.cli.groups import command_group
from cidery.config import log_level
from cidery.errors import CideryError

app = command_group(
    "cidery: the PostgreSQL data layer of a cidery management system.",
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
types_app = command_group("Types for the API layer.")
app.add_typer(types_app, name="types")
app.add_typer(users.app, name="users")
app.add_typer(report.app, name="report")
app.command("serve")(serve.command)


@app.callback()
def options(
    verbose: Annotated[
        int,
        typer.Option(
            "-v",
            "--verbose",
            count=True,
            help="Log what cidery does to stderr (-vv: more). CIDERY_LOG=info does the same.",
            show_default=False,
        ),
    ] = 0,
) -> None:
    if verbose:
        logs.configure(logs.verbosity_level(verbose, log_level()))


@types_app.command("export")
def types_export(
    directory: Annotated[Path, typer.Argument(help="Where to write <Type>.schema.json files.")],
) -> None:
    """Write the JSON Schema of every API type, for a TypeScript front end to generate from."""
    from cidery import export

    for path in export.export(directory):
        typer.echo(f"wrote {path}")


@types_app.command("openapi")
def types_openapi(
    path: Annotated[
        Path, typer.Argument(help="Where to write the document (- for standard output).")
    ] = Path("openapi.json"),
) -> None:
    """Write the HTTP API's OpenAPI 3.1 document (what openapi.json at the repository
    root holds), for client generators."""
    from cidery.api.app import openapi_text

    text = openapi_text()
    if str(path) == "-":
        sys.stdout.write(text)
        return
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}")


@app.command()
def run(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Stop after the status (for scripts).")
    ] = False,
    host: serve.Host = "127.0.0.1",
    port: serve.Port = 8000,
) -> None:
    """The main job: start (or reuse) the database, migrate, seed, smoke-check, show
    the status and the juice lots with their cost per litre, then serve the app until
    Ctrl-C."""
    db.run_everything()
    report.lots()
    if no_serve:
        return
    serve.print_sign_ins(f"http://{host}:{port}")
    serve.serve(host, port, workers=1)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


# Exit statuses by error code (CideryError.code), looked up from the error's own class
# up to CideryError; every other error is 1. Codes rather than classes, so that the
# press service is not imported to tell whether it raised. A lost race is worth
# retrying: 75 is EX_TEMPFAIL (sysexits.h).
EXIT_STATUSES: dict[str, int] = {"conflict": 75}


def exit_status(error: CideryError) -> int:
    for kind in type(error).__mro__:
        status = EXIT_STATUSES.get(getattr(kind, "code", ""))
        if status is not None:
            return status
    return 1


def _database_error(exc: Exception) -> str | None:
    """The one line for an error of the database driver, or None for any other error."""
    # Only commands that use a database import SQLAlchemy: without it, no error is its.
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    from cidery.db.engine import driver_error

    return f"database error: {driver_error(exc)}"


def _fail(message: str, status: int) -> NoReturn:
    # Rich is imported only when there is an error to show.
    from cidery.cli.output import fail

    fail(message)
    sys.exit(status)


def run_app(typer_app: typer.Typer) -> None:
    """Run a Typer app, turning every :class:`CideryError` into one line and an exit code."""
    # Typer itself answers usage errors (exit 2); what escapes it is ours to word.
    try:
        logs.configure(log_level())
        typer_app()
    except CideryError as exc:
        _fail(str(exc), exit_status(exc))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:
        message = _database_error(exc)
        if message is None:
            raise
        _fail(message, 1)


def main() -> None:
    run_app(app)
