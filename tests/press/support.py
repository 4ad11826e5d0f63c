"""Helpers shared by the press-service tests: row counts, audit rows, refusals, and
:class:`World`, a grower with fruit bought and shortcuts to the service."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cidery import press
from cidery.models import (
    AppleVariety,
    AuditLog,
    FruitWriteOff,
    PressRun,
    PressRunLoad,
    PurchaseItem,
    Vendor,
    Vessel,
)
from cidery.models.enums import VesselStatus
from cidery.press.errors import InvalidInput, PressError
from cidery.press.schemas import CompletedRun, PressRunDetail, PressRunLoadRead, PressRunRead
from tests.factories import Factory


@dataclass(frozen=True)
class Counts:
    press_runs: int
    press_run_loads: int
    audit_logs: int
    fruit_write_offs: int = 0


def counts(session: Session) -> Counts:
    """Rows of the tables the service writes, soft-deleted ones included."""
    return Counts(
        press_runs=session.scalar(select(func.count()).select_from(PressRun)) or 0,
        press_run_loads=session.scalar(select(func.count()).select_from(PressRunLoad)) or 0,
        audit_logs=session.scalar(select(func.count()).select_from(AuditLog)) or 0,
        fruit_write_offs=session.scalar(select(func.count()).select_from(FruitWriteOff)) or 0,
    )


def audit_rows(session: Session, record_id: uuid.UUID, table: str | None = None) -> list[AuditLog]:
    """The audit rows of one record, oldest first (rows of one transaction share changed_at)."""
    query = select(AuditLog).where(AuditLog.record_id == record_id)
    if table is not None:
        query = query.where(AuditLog.table_name == table)
    return list(session.scalars(query.order_by(AuditLog.changed_at)))


@contextmanager
def refused(
    session: Session, error: type[PressError], code: str, *message_parts: str
) -> Iterator[pytest.ExceptionInfo[PressError]]:
    """The block raises exactly ``error`` with ``code`` and a message naming ``message_parts``,
    and leaves no press run, load or audit row behind."""
    before = counts(session)
    with pytest.raises(PressError) as info:
        yield info
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    assert info.value.code == code
    assert error.code == code
    message = str(info.value)
    assert message.strip(), "the error has no message"
    for part in message_parts:
        assert part.lower() in message.lower(), f"{part!r} not in {message!r}"
    assert info.value.to_dict()["code"] == code
    assert counts(session) == before, "a refused call left rows behind"


def fields(error: PressError) -> list[str]:
    """The fields an :class:`InvalidInput` names, in the order it lists them."""
    assert isinstance(error, InvalidInput), f"{type(error).__name__}: {error}"
    return [entry["field"] for entry in error.errors]


def soft_delete_run(session: Session, run_id: uuid.UUID) -> None:
    session.execute(update(PressRun).where(PressRun.id == run_id).values(deleted_at=func.now()))


@dataclass
class World:
    """One grower with 1000 kg of one variety bought, an operator, and shortcuts to the service.

    The shortcuts hand the service mappings, as the API does, so a bad value reaches the
    service's own validation (and its :class:`InvalidInput`) instead of failing in the test.
    """

    session: Session
    make: Factory
    actor: press.Actor
    vendor: Vendor
    variety: AppleVariety
    item: PurchaseItem

    def start(self, vendor: Vendor | None = None, **kw: Any) -> PressRunRead:
        return press.start_run(
            self.session, self.actor, {"vendor_id": (vendor or self.vendor).id, **kw}
        )

    def load(
        self,
        run: PressRunRead,
        weight: Any = "100",
        unit: str = "kg",
        item: PurchaseItem | None = None,
        **kw: Any,
    ) -> PressRunLoadRead:
        entry = {
            "purchase_item_id": (item or self.item).id,
            "weight": weight,
            "weight_unit": unit,
            **kw,
        }
        return press.add_load(self.session, self.actor, run.id, entry)

    def void(self, load: PressRunLoadRead, reason: str) -> PressRunDetail:
        return press.void_load(self.session, self.actor, load.id, {"reason": reason})

    def vessel(
        self, capacity_l: str = "5000", status: VesselStatus = VesselStatus.AVAILABLE
    ) -> Vessel:
        return self.make.vessel(capacity_l=Decimal(capacity_l), status=status)

    def complete(
        self,
        run: PressRunRead,
        litres: Any = "65",
        vessel: Vessel | None = None,
        unit: str = "L",
        **kw: Any,
    ) -> CompletedRun:
        vessel = vessel or self.vessel()
        outcome = {"juice_volume": litres, "juice_volume_unit": unit, "vessel_id": vessel.id, **kw}
        return press.complete_run(self.session, self.actor, run.id, outcome)

    def cancel(self, run: PressRunRead, reason: str) -> PressRunRead:
        return press.cancel_run(self.session, self.actor, run.id, {"reason": reason})

    def completed_run(self) -> tuple[PressRunRead, PressRunLoadRead]:
        run = self.start()
        load = self.load(run)
        return self.complete(run).run, load

    def cancelled_run(self) -> tuple[PressRunRead, PressRunLoadRead]:
        run = self.start()
        load = self.load(run)
        return self.cancel(run, "press jammed"), load

    def detail(self, run: PressRunRead) -> PressRunDetail:
        return press.get_run(self.session, self.actor, run.id)

    def read(self, run: PressRunRead) -> PressRunRead:
        return self.detail(run).run

    def remaining(self, item: PurchaseItem | None = None) -> Decimal:
        """Remaining kg of a purchase line as the variety picker shows it (0 when not listed)."""
        item = item or self.item
        listed = press.available_fruit(self.session, self.actor)
        rows = [row for row in listed if row.purchase_item_id == item.id]
        return rows[0].remaining_kg if rows else Decimal(0)

    def assert_usable(self) -> None:
        """A full successful call in the same transaction: a run and one load of a fresh line."""
        before = counts(self.session)
        item = self.make.purchase_item(vendor=self.vendor, quantity=Decimal("10"))
        run = self.start()
        load = self.load(run, "10", item=item)
        assert load.load_sequence == 1
        assert self.read(run).total_apple_weight_kg == Decimal("10.000")
        assert counts(self.session) == Counts(
            press_runs=before.press_runs + 1,
            press_run_loads=before.press_run_loads + 1,
            audit_logs=before.audit_logs + 3,
            fruit_write_offs=before.fruit_write_offs,
        )
