"""How every group of ``cidery`` commands is made.

Help is printed by Click's plain formatter (``rich_markup_mode=None``), not Typer's
Rich panels: those import Rich's Markdown, markdown-it and Pygments for every
``--help``, which doubled its time (0.48 against 0.23 s on two slow cores), and they
read help text as Rich markup, where Click prints it as written. Errors in the
command line's arguments come out as Click's plain ``Error: ...`` line for the same
reason.
"""

from __future__ import annotations

from typing import Any

import typer


def command_group(help: str, **settings: Any) -> typer.Typer:
    """A group of commands with ``help``, listing its commands when called bare."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None, **settings)
