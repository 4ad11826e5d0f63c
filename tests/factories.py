"""Rows for tests, built through the ORM: each factory method adds one row and flushes.

Loads written here bypass the press service: the database's triggers still draw
them on their purchase line (``purchase_items.pressed_kg``), so a load heavier
than what is left of its line is refused by the database, as any writer's would be.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.orm import Session

from cidery import press
from cidery.models import (
    AppleVariety,
    PressRun,
    PressRunLoad,
    Purchase,
    PurchaseItem,
    User,
    Vendor,
    Vessel,
)
from cidery.models.enums import Unit, UserRole, VesselType
from cidery.units import to_canonical

T = TypeVar("T")


def new_user(session: Session, role: UserRole = UserRole.OPERATOR) -> uuid.UUID:
    """A live user who can act in the service; its id."""
    tag = uuid.uuid4().hex[:10]
    user = User(
        email=f"op-{tag}@cidery.example", name=f"Operator {tag}", password_hash="x", role=role
    )
    session.add(user)
    session.flush()
    return user.id


def new_actor(session: Session, role: UserRole = UserRole.OPERATOR) -> press.Actor:
    """A new live user with ``role``, as the service sees it."""
    return press.Actor(user_id=new_user(session, role), role=role)


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

    def juice_line(
        self,
        vendor: Vendor,
        variety: AppleVariety | uuid.UUID,
        purchase_id: uuid.UUID | None = None,
    ) -> PurchaseItem:
        """A purchase line bought by volume (200 L of juice): it has no ``quantity_kg``."""
        if purchase_id is None:
            purchase_id = self._add(
                Purchase(vendor_id=vendor.id, purchase_date=date(2026, 10, 1))
            ).id
        return self._add(
            PurchaseItem(
                purchase_id=purchase_id,
                apple_variety_id=variety if isinstance(variety, uuid.UUID) else variety.id,
                quantity=Decimal("200"),
                unit=Unit.LITRE,
                quantity_l=Decimal("200"),
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
