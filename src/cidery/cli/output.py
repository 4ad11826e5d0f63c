"""Console output shared by the commands.

Names, paths, revisions, SQL and error messages come from users and their
data, so neither console reads markup or emoji codes in what it prints: a
variety called ``[bold]x`` or ``:apple:`` is shown as typed. Styling is given
explicitly, with :class:`rich.text.Text` and :func:`styled`.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from cidery.urls import mask_secrets

console = Console(highlight=False, markup=False, emoji=False)
errors = Console(stderr=True, highlight=False, markup=False, emoji=False)


def cell(value: object) -> Text:
    """A table cell showing ``value`` literally, whichever console prints the table."""
    return Text(str(value))


def styled(value: object, style: str) -> Text:
    return Text(str(value), style=style)


def fail(message: str) -> None:
    """The one ``error:`` line of a failed command."""
    # Errors quote driver messages, which may echo a connection string.
    errors.print(
        Text.assemble(styled("error:", "bold red"), " ", mask_secrets(message)), soft_wrap=True
    )


def note(message: str) -> None:
    """A line for the user on stderr, beside the command's output."""
    errors.print(mask_secrets(message), soft_wrap=True)
