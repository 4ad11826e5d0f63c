"""``cidery users``: accounts from the command line (the first admin of an installation)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cidery.cli.groups import command_group
from cidery.errors import CideryError

app = command_group("User accounts.")

ROLES = ("admin", "operator", "viewer")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CideryError("no password on standard input")
        return password
    first = typer.prompt("Password", hide_input=True)
    again = typer.prompt("Repeat it", hide_input=True)
    if first != again:
        raise CideryError("the two passwords differ")
    return str(first)


@app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="Their email, which they sign in with.")],
    role: Annotated[
        str, typer.Option(metavar="ROLE", help="admin, operator or viewer.")
    ] = "operator",
    name: Annotated[
        str | None, typer.Option(metavar="NAME", help="Their name (default: the email's start).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user (say, the first admin); the password is asked for, never an argument."""
    if role not in ROLES:
        raise CideryError(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
    password = _password(password_stdin)

    from cidery import accounts
    from cidery.cli.db import _runtime
    from cidery.cli.output import console
    from cidery.db.engine import transaction
    from cidery.press.access import Actor

    runtime = _runtime()
    with transaction(runtime.engine) as session:
        user = accounts.create_user(
            session,
            Actor.system(),
            {
                "email": email,
                "name": name or email.split("@")[0] or email,
                "role": role,
                "password": password,
            },
        )
    console.print(f"created {user.role.value} {user.email} ({user.id})", soft_wrap=True)
