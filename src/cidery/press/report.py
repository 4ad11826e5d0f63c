"""The press summary ``make run`` prints: runs by status, yield per variety, outliers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from cidery.press.schemas import PressRunSummary
from cidery.press.service import yield_outliers


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


_BY_STATUS = text(
    "SELECT r.status::text AS status, count(*) AS runs, coalesce(sum(l.loads), 0) AS loads, "
    "coalesce(sum(r.total_apple_weight_kg), 0) AS kg, "
    "coalesce(sum(r.total_juice_volume_l), 0) AS litres "
    "FROM press_runs r LEFT JOIN LATERAL (SELECT count(*) AS loads FROM press_run_loads "
    "WHERE press_run_id = r.id AND deleted_at IS NULL) l ON true "
    "WHERE r.deleted_at IS NULL GROUP BY r.status ORDER BY r.status"
)

# A run's juice is measured for the whole run, not per load: each variety is
# credited with the run's juice in proportion to the weight it contributed.
_BY_VARIETY = text(
    "SELECT v.name AS variety, sum(l.weight_kg) AS kg, "
    "round(sum(r.total_juice_volume_l * l.weight_kg / r.total_apple_weight_kg), 3) AS litres "
    "FROM press_run_loads l JOIN press_runs r ON r.id = l.press_run_id "
    "JOIN apple_varieties v ON v.id = l.apple_variety_id "
    "WHERE r.status = 'completed' AND r.deleted_at IS NULL AND l.deleted_at IS NULL "
    "AND r.total_apple_weight_kg > 0 GROUP BY v.name ORDER BY v.name"
)


def press_summary(session: Session) -> PressSummary:
    return PressSummary(
        by_status=[
            StatusTotals(r.status, r.runs, r.loads, r.kg, r.litres)
            for r in session.execute(_BY_STATUS)
        ],
        by_variety=[VarietyYield(r.variety, r.kg, r.litres) for r in session.execute(_BY_VARIETY)],
        outliers=yield_outliers(session),
    )
