"""Helpers shared by the press-service tests: users, row counts, audit rows, refusals,
and :class:`World`, a grower with fruit bought and shortcuts to the service."""

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
    PressRun,
    PressRunLoad,
    PurchaseItem,
    User,
    Vendor,
    Vessel,
)
from cidery.models.enums import UserRole, VesselStatus
from cidery.press.errors import PressError
from cidery.press.schemas import CompletedRun, PressRunLoadRead, PressRunRead
from tests.press.conftest import Factory


def new_user(session: Session, role: UserRole = UserRole.OPERATOR) -> uuid.UUID:
    """A live user who can act in the service; its id."""
    tag = uuid.uuid4().hex[:10]
    user = User(
        email=f"op-{tag}@cidery.example", name=f"Operator {tag}", password_hash="x", role=role
    )
    session.add(user)
    session.flush()
    return user.id


@dataclass(frozen=True)
class Counts:
    press_runs: int
    press_run_loads: int
    audit_logs: int


def counts(session: Session) -> Counts:
    """Rows of the tables the service writes, soft-deleted ones included."""
    return Counts(
        press_runs=session.scalar(select(func.count()).select_from(PressRun)) or 0,
        press_run_loads=session.scalar(select(func.count()).select_from(PressRunLoad)) or 0,
        audit_logs=session.scalar(select(func.count()).select_from(AuditLog)) or 0,
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


def soft_delete_run(session: Session, run_id: uuid.UUID) -> None:
    session.execute(update(PressRun).where(PressRun.id == run_id).values(deleted_at=func.now()))


@dataclass
class World:
    """One grower with 1000 kg of one variety bought, and shortcuts to the service."""

    session: Session
    make: Factory
    actor: uuid.UUID
    vendor: Vendor
    variety: AppleVariety
    item: PurchaseItem

    def start(self, vendor: Vendor | None = None, **kw: Any) -> PressRunRead:
        return press.start_run(self.session, self.actor, (vendor or self.vendor).id, **kw)

    def load(
        self,
        run: PressRunRead,
        weight: Decimal | str = "100",
        unit: str = "kg",
        item: PurchaseItem | None = None,
        **kw: Any,
    ) -> PressRunLoadRead:
        return press.add_load(
            self.session, self.actor, run.id, (item or self.item).id, weight, unit, **kw
        )

    def vessel(
        self, capacity_l: str = "5000", status: VesselStatus = VesselStatus.AVAILABLE
    ) -> Vessel:
        return self.make.vessel(capacity_l=Decimal(capacity_l), status=status)

    def complete(
        self, run: PressRunRead, litres: str = "65", vessel: Vessel | None = None, **kw: Any
    ) -> CompletedRun:
        vessel = vessel or self.vessel()
        return press.complete_run(self.session, self.actor, run.id, litres, "L", vessel.id, **kw)

    def completed_run(self) -> tuple[PressRunRead, PressRunLoadRead]:
        run = self.start()
        load = self.load(run)
        return self.complete(run).run, load

    def cancelled_run(self) -> tuple[PressRunRead, PressRunLoadRead]:
        run = self.start()
        load = self.load(run)
        return press.cancel_run(self.session, self.actor, run.id, "press jammed"), load

    def read(self, run: PressRunRead) -> PressRunRead:
        return press.get_run(self.session, run.id).run

    def remaining(self, item: PurchaseItem | None = None) -> Decimal:
        """Remaining kg of a purchase line as the variety picker shows it (0 when not listed)."""
        item = item or self.item
        rows = [
            row for row in press.available_fruit(self.session) if row.purchase_item_id == item.id
        ]
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
        )
