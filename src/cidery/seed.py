"""Sample data: a small cidery. (Being written.)"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session


@dataclass
class SeedReport:
    inserted: dict[str, int] = field(default_factory=dict)


def seed(session: Session) -> SeedReport:
    return SeedReport()
