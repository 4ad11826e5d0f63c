"""The press summary ``make run`` prints: runs by status, yield per variety, outliers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from cidery.press import queries
from cidery.press.access import Action, require
from cidery.press.reads import yield_outliers
from cidery.press.schemas import PressRunSummary
from cidery.press.translate import reading


@dataclass(frozen=True)
class StatusTotals:
    status: str
    runs: int
    loads: int
    kg_pressed: Decimal
    litres: Decimal


@dataclass(frozen=True)
class VarietyYield:
    variety: str
    kg_pressed: Decimal
    litres: Decimal

    @property
    def yield_l_per_kg(self) -> Decimal | None:
        if not self.kg_pressed:
            return None
        return (self.litres / self.kg_pressed).quantize(Decimal("0.001"))


@dataclass(frozen=True)
class PressSummary:
    by_status: list[StatusTotals]
    by_variety: list[VarietyYield]
    outliers: list[PressRunSummary]


def press_summary(session: Session, actor: object) -> PressSummary:
    who = require(actor, Action.READ)
    with reading(who.user_id):
        by_status = [
            StatusTotals(r.status.value, r.runs, r.loads, r.kg, r.litres)
            for r in session.execute(queries.RUNS_BY_STATUS)
        ]
        by_variety = [
            VarietyYield(r.variety, r.kg, r.litres)
            for r in session.execute(queries.YIELD_BY_VARIETY)
        ]
    return PressSummary(
        by_status=by_status, by_variety=by_variety, outliers=yield_outliers(session, who)
    )
