"""Small factories for press-run tests: each adds one row and flushes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

import pytest
from sqlalchemy.orm import Session

from cidery.models import (
    AppleVariety,
    PressRun,
    PressRunLoad,
    Purchase,
    PurchaseItem,
    Vendor,
    Vessel,
)
from cidery.models.enums import Unit, VesselType
from cidery.units import to_canonical

T = TypeVar("T")


@dataclass
class Factory:
    session: Session

    def _add(self, row: T) -> T:
        self.session.add(row)
        self.session.flush()
        return row

    def vendor(self, name: str | None = None, **kw: object) -> Vendor:
        return self._add(Vendor(name=name or f"Grower {uuid.uuid4().hex[:8]}", **kw))

    def variety(self, name: str | None = None) -> AppleVariety:
        return self._add(AppleVariety(name=name or f"Variety {uuid.uuid4().hex[:8]}"))

    def purchase_item(
        self,
        vendor: Vendor | None = None,
        variety: AppleVariety | None = None,
        quantity: Decimal = Decimal("1000"),
        unit: Unit = Unit.KG,
    ) -> PurchaseItem:
        vendor = vendor or self.vendor()
        variety = variety or self.variety()
        purchase = self._add(Purchase(vendor_id=vendor.id, purchase_date=date(2026, 10, 1)))
        return self._add(
            PurchaseItem(
                purchase_id=purchase.id,
                apple_variety_id=variety.id,
                quantity=quantity,
                unit=unit,
                quantity_kg=to_canonical(quantity, unit),
            )
        )

    def vessel(self, capacity_l: Decimal = Decimal("5000"), **kw: object) -> Vessel:
        return self._add(
            Vessel(
                name=f"Tank {uuid.uuid4().hex[:8]}",
                type=VesselType.FERMENTER,
                capacity_l=capacity_l,
                **kw,
            )
        )

    def run(self, vendor: Vendor | None = None, **kw: object) -> PressRun:
        return self._add(PressRun(vendor_id=(vendor or self.vendor()).id, **kw))

    def load(
        self,
        run: PressRun,
        item: PurchaseItem,
        sequence: int = 1,
        weight: Decimal = Decimal("100"),
        unit: Unit = Unit.KG,
        **kw: object,
    ) -> PressRunLoad:
        return self._add(
            PressRunLoad(
                press_run_id=run.id,
                purchase_item_id=item.id,
                apple_variety_id=item.apple_variety_id,
                load_sequence=sequence,
                weight=weight,
                weight_unit=unit,
                weight_kg=to_canonical(weight, unit),
                **kw,
            )
        )


@pytest.fixture
def make(session: Session) -> Factory:
    return Factory(session)
