"""The press-run query patterns of the mobile app, declared once.

Each pattern is a function returning a SQLAlchemy ``Select``; the service
layer runs them, the EXPLAIN tests prove which index serves each, and the
benchmarks time them. ``PATTERNS`` names them with the index that serves them
(docs/migrations.md explains each choice).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BindParameter, Select, and_, func, select, true

from cidery.models import AppleVariety, PressRun, PressRunLoad, Purchase, PurchaseItem, Vendor
from cidery.models.enums import PressRunStatus

_live_run = PressRun.deleted_at.is_(None)
_live_load = PressRunLoad.deleted_at.is_(None)


def runs_to_resume(vendor_id: uuid.UUID | None = None, limit: int = 50) -> Select[Any]:
    """(a) In-progress runs, newest first, optionally for one vendor."""
    query = (
        select(PressRun)
        .where(PressRun.status == PressRunStatus.IN_PROGRESS, _live_run)
        .order_by(PressRun.start_time.desc(), PressRun.id.desc())
        .limit(limit)
    )
    if vendor_id is not None:
        query = query.where(PressRun.vendor_id == vendor_id)
    return query


def run_loads(run_id: uuid.UUID, include_voided: bool = False) -> Select[Any]:
    """(b) One run's loads in sequence order (the run itself is read by primary key)."""
    query = (
        select(PressRunLoad)
        .where(PressRunLoad.press_run_id == run_id)
        .order_by(PressRunLoad.load_sequence)
    )
    return query if include_voided else query.where(_live_load)


def vendor_runs(
    vendor_id: uuid.UUID,
    since: datetime,
    until: datetime,
    statuses: Sequence[PressRunStatus] = tuple(PressRunStatus),
) -> Select[Any]:
    """(c) A vendor's runs started in ``[since, until)``, in the given statuses, newest first."""
    return (
        select(PressRun)
        .where(
            PressRun.vendor_id == vendor_id,
            PressRun.status.in_(list(statuses)),
            PressRun.start_time >= since,
            PressRun.start_time < until,
            _live_run,
        )
        .order_by(PressRun.start_time.desc(), PressRun.id.desc())
    )


def pressed_weight(
    purchase_item_ids: Sequence[uuid.UUID] | BindParameter[Any],
) -> Select[uuid.UUID, Decimal]:
    """(d) Kilograms already pressed per purchase line: live loads of live, uncancelled runs.

    ``purchase_item_ids`` may be an expanding ``bindparam`` instead of a list, so the
    service can build the statement once and bind the ids per call.
    """
    ids = (
        purchase_item_ids
        if isinstance(purchase_item_ids, BindParameter)
        else list(purchase_item_ids)
    )
    return (
        select(
            PressRunLoad.purchase_item_id,
            func.coalesce(func.sum(PressRunLoad.weight_kg), 0).label("pressed_kg"),
        )
        .join(
            PressRun,
            and_(
                PressRun.id == PressRunLoad.press_run_id,
                PressRun.status != PressRunStatus.CANCELLED,
                _live_run,
            ),
        )
        .where(PressRunLoad.purchase_item_id.in_(ids), _live_load)
        .group_by(PressRunLoad.purchase_item_id)
    )


def runs_by_vessel(vessel_id: uuid.UUID, limit: int = 50) -> Select[Any]:
    """(e) Runs whose juice went (or goes) into one vessel, newest first."""
    return (
        select(PressRun)
        .where(PressRun.vessel_id == vessel_id, _live_run)
        .order_by(PressRun.start_time.desc())
        .limit(limit)
    )


def available_fruit(
    vendor_id: uuid.UUID | None = None, variety_id: uuid.UUID | None = None
) -> Select[*tuple[Any, ...]]:
    """Purchase lines with fruit left: bought kg minus (d) per line, for the variety picker.

    The pressed sum is a ``LATERAL`` subquery, computed once per line: as a scalar
    subquery it appeared three times (pressed, remaining, and the filter on remaining)
    and PostgreSQL evaluated it three times per line.
    """
    pressed = (
        select(func.coalesce(func.sum(PressRunLoad.weight_kg), 0).label("kg"))
        .join(
            PressRun,
            and_(
                PressRun.id == PressRunLoad.press_run_id,
                PressRun.status != PressRunStatus.CANCELLED,
                _live_run,
            ),
        )
        .where(PressRunLoad.purchase_item_id == PurchaseItem.id, _live_load)
        .lateral("pressed")
    )
    remaining = PurchaseItem.quantity_kg - pressed.c.kg
    query = (
        select(
            PurchaseItem.id.label("purchase_item_id"),
            Purchase.id.label("purchase_id"),
            Purchase.vendor_id,
            Vendor.name.label("vendor_name"),
            PurchaseItem.apple_variety_id,
            AppleVariety.name.label("variety_name"),
            PurchaseItem.harvest_date,
            PurchaseItem.quantity_kg,
            pressed.c.kg.label("pressed_kg"),
            remaining.label("remaining_kg"),
        )
        .select_from(PurchaseItem)
        .join(Purchase, Purchase.id == PurchaseItem.purchase_id)
        .join(Vendor, Vendor.id == Purchase.vendor_id)
        .join(AppleVariety, AppleVariety.id == PurchaseItem.apple_variety_id)
        .join(pressed, true())
        .where(
            PurchaseItem.deleted_at.is_(None),
            Purchase.deleted_at.is_(None),
            Vendor.deleted_at.is_(None),
            PurchaseItem.quantity_kg.is_not(None),
            remaining > 0,
        )
        .order_by(Vendor.name, AppleVariety.name, PurchaseItem.harvest_date, PurchaseItem.id)
    )
    if vendor_id is not None:
        query = query.where(Purchase.vendor_id == vendor_id)
    if variety_id is not None:
        query = query.where(PurchaseItem.apple_variety_id == variety_id)
    return query


@dataclass(frozen=True)
class Pattern:
    key: str
    description: str
    index: str
    build: Callable[..., Select[*tuple[Any, ...]]]


PATTERNS: tuple[Pattern, ...] = (
    Pattern("a", "runs to resume (all vendors)", "press_runs_status_idx", runs_to_resume),
    Pattern(
        "a-vendor", "runs to resume for one vendor", "press_runs_vendor_id_idx", runs_to_resume
    ),
    Pattern("b", "one run's loads in sequence", "press_run_loads_press_run_id_idx", run_loads),
    Pattern("c", "a vendor's runs in a date range", "press_runs_vendor_id_idx", vendor_runs),
    Pattern(
        "d", "kg pressed per purchase line", "press_run_loads_purchase_item_id_idx", pressed_weight
    ),
    Pattern("e", "runs by destination vessel", "press_runs_vessel_id_idx", runs_by_vessel),
    Pattern(
        "fruit",
        "purchase lines with fruit left for one vendor",
        "press_run_loads_purchase_item_id_idx",
        available_fruit,
    ),
)
