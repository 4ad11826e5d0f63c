"""Read-only validation queries. (Being written.)"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def run(connection: Connection) -> list[CheckResult]:
    return []
