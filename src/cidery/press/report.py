"""The press summary ``cidery db status`` and ``make run`` print: runs by status, yield per
variety, outliers.

:func:`summarise` reads it on a connection with the statements of
:mod:`cidery.press.queries` alone, into plain dataclasses: the command line prints it
as it starts, reading as the database's owner (as the smoke checks do), and the
service's Pydantic types and permission table took longer to import than the whole
summary takes to read. :func:`press_summary` is the service's call, for an
:class:`~cidery.press.access.Actor` allowed to read press runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from cidery.press import queries
from cidery.press.rules import YIELD_HIGH, YIELD_LOW

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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
class Outlier:
    """A completed run whose yield is outside the usual band."""

    start_time: datetime
    vendor_name: str
    extraction_rate: Decimal
    total_apple_weight_kg: Decimal
    total_juice_volume_l: Decimal


@dataclass(frozen=True)
class PressSummary:
    by_status: list[StatusTotals]
    by_variety: list[VarietyYield]
    outliers: list[Outlier]


def summarise(connection: Connection) -> PressSummary:
    """The summary as ``connection`` reads it, checking no one's permission."""
    by_status = [
        StatusTotals(r.status.value, r.runs, r.loads, r.kg, r.litres)
        for r in connection.execute(queries.RUNS_BY_STATUS)
    ]
    by_variety = [
        VarietyYield(r.variety, r.kg, r.litres)
        for r in connection.execute(queries.YIELD_BY_VARIETY)
    ]
    outliers = [
        Outlier(
            r.start_time,
            r.vendor_name,
            r.extraction_rate,
            r.total_apple_weight_kg,
            r.total_juice_volume_l,
        )
        for r in connection.execute(queries.yield_outliers(YIELD_LOW, YIELD_HIGH))
    ]
    return PressSummary(by_status=by_status, by_variety=by_variety, outliers=outliers)


def press_summary(session: Session, actor: object) -> PressSummary:
    """:func:`summarise` for ``actor``, if it may read press runs."""
    from cidery.press.access import Action, require
    from cidery.press.reads import read_connection
    from cidery.press.translate import reading

    who = require(actor, Action.READ)
    with reading(who.user_id), read_connection(session) as connection:
        return summarise(connection)
