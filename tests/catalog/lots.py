"""Juice lots for the report tests, written as rows: a completed run of a grower, its juice
split into lots (a ``batches`` row in a vessel each, linked to the run with its litres), and
each lot's ``batch_costs`` row when its cost is given.

The rows are written directly, not through ``complete_run``, so the tests decide every
cost, an unknown one included. A run's links add up to its juice, as the deferred trigger
of revision 0007 requires of a transaction that commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cidery import press
from cidery.models import (
    Batch,
    BatchCost,
    PressRun,
    PressRunBatch,
    PurchaseItem,
    Vendor,
    Vessel,
)
from cidery.models.enums import BatchStatus, PressRunStatus, Unit
from tests.factories import Factory


@dataclass(frozen=True)
class Cost:
    """A ``batch_costs`` row: None where the cost is unknown (the total then is too)."""

    apple: Decimal | None
    labor: Decimal | None

    def write(self, session: Session, batch_id: uuid.UUID, litres: Decimal) -> None:
        total = None if self.apple is None or self.labor is None else self.apple + self.labor
        per_l = None if total is None else (total / litres).quantize(Decimal("0.0001"))
        # An INSERT naming every column: the ORM leaves out a None whose column has a
        # server default (0 here), which would store an unknown cost as zero.
        session.execute(
            insert(BatchCost).values(
                batch_id=batch_id,
                total_apple_cost=self.apple,
                labor_cost=self.labor,
                total_cost=total,
                cost_per_l=per_l,
            )
        )


@dataclass(frozen=True)
class Lot:
    litres: str
    cost: Cost | None  # None: no batch_costs row at all
    vessel: Vessel | None = None  # a new one when None


@dataclass(frozen=True)
class Made:
    run: PressRun
    batches: list[Batch]
    vessels: list[Vessel]


def completed_run_with_lots(
    session: Session, make: Factory, vendor: Vendor, ended: datetime, lots: list[Lot], number: str
) -> Made:
    """A run of ``vendor`` completed at ``ended``, its juice the sum of the lots' litres
    (from twice as many kilograms), split into ``lots`` numbered ``number-A``, ``-B``…"""
    juice = sum((Decimal(lot.litres) for lot in lots), Decimal(0))
    vessels = [lot.vessel or make.vessel() for lot in lots]
    run = make.run(
        vendor,
        status=PressRunStatus.COMPLETED,
        start_time=ended - timedelta(hours=3),
        end_time=ended,
        total_apple_weight_kg=juice * 2,
        juice_volume=juice,
        juice_volume_unit=Unit.LITRE,
        total_juice_volume_l=juice,
        vessel_id=vessels[0].id,
    )
    made = []
    for index, (lot, vessel) in enumerate(zip(lots, vessels, strict=True)):
        litres = Decimal(lot.litres)
        batch = Batch(
            batch_number=f"{number}-{chr(ord('A') + index)}",
            vessel_id=vessel.id,
            status=BatchStatus.FERMENTING,
            start_date=ended.date(),
            initial_volume_l=litres,
            current_volume_l=litres,
        )
        session.add(batch)
        session.flush()
        session.add(PressRunBatch(press_run_id=run.id, batch_id=batch.id, volume_l=litres))
        if lot.cost is not None:
            lot.cost.write(session, batch.id, litres)
        made.append(batch)
    session.flush()
    return Made(run, made, vessels)


def pressed_through_the_service(
    session: Session,
    make: Factory,
    vendor: Vendor,
    loads: list[tuple[PurchaseItem, int]],
    ended: datetime,
) -> uuid.UUID:
    """A run of ``vendor`` started and completed at ``ended`` through the press service:
    ``loads`` (a line and its kg each), then 200 L into a new vessel. Its id."""
    system = press.Actor.system()
    run = press.start_run(session, system, {"vendor_id": vendor.id, "start_time": ended})
    for line, kg in loads:
        press.add_load(
            session,
            system,
            run.id,
            {"purchase_item_id": line.id, "weight": kg, "weight_unit": "kg"},
        )
    press.complete_run(
        session,
        system,
        run.id,
        {
            "juice_volume": "200",
            "juice_volume_unit": "L",
            "vessel_id": make.vessel().id,
            "end_time": ended,
        },
    )
    return run.id
