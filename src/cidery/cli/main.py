"""Entry point: turns user mistakes into one line and an exit code, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import DBAPIError

from cidery import __version__, export
from cidery.cli import db, logs
from cidery.cli.output import fail
from cidery.config import log_level
from cidery.db.engine import driver_error
from cidery.errors import CideryError
from cidery.press.errors import Conflict

app = typer.Typer(
    help="cidery: the PostgreSQL data layer of a cidery management system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
types_app = typer.Typer(help="Types for the API layer.", no_args_is_help=True)
app.add_typer(types_app, name="types")


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
    for path in export.export(directory):
        typer.echo(f"wrote {path}")


@app.command()
def run() -> None:
    """The main job: start (or reuse) the database, migrate, seed, smoke-check, show status."""
    db.run_everything()


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


# Exit statuses by error, the most specific class first; every other CideryError is 1.
# A lost race is worth retrying: 75 is EX_TEMPFAIL (sysexits.h).
EXIT_STATUSES: tuple[tuple[type[CideryError], int], ...] = ((Conflict, 75),)


def exit_status(error: CideryError) -> int:
    return next((status for kind, status in EXIT_STATUSES if isinstance(error, kind)), 1)


def run_app(typer_app: typer.Typer) -> None:
    """Run a Typer app, turning every :class:`CideryError` into one line and an exit code."""
    # Typer itself answers usage errors (exit 2); what escapes it is ours to word.
    try:
        logs.configure(log_level())
        typer_app()
    except CideryError as exc:
        fail(str(exc))
        sys.exit(exit_status(exc))
    except DBAPIError as exc:
        fail(f"database error: {driver_error(exc)}")
        sys.exit(1)
    except KeyboardInterrupt:
        fail("interrupted")
        sys.exit(130)


def main() -> None:
    run_app(app)
