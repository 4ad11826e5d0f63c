"""Console output shared by the commands."""

from __future__ import annotations

from rich.console import Console

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def fail(message: str) -> None:
    errors.print(f"[bold red]error:[/] {message}", soft_wrap=True)
