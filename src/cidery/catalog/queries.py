"""Every statement the catalog runs, declared once.

Statements without filters are built once, at import; those whose filters give them
several shapes are functions returning the ``Select``, as the press run list is.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, and_, func, select, tuple_

from cidery.catalog.schemas import YieldGrouping
from cidery.models import (
    AppleVariety,
    AuditLog,
    Batch,
    BatchCost,
    PressRun,
    PressRunBatch,
    PressRunLoad,
    Purchase,
    PurchaseItem,
    Vendor,
    Vessel,
)
from cidery.models.base import live
from cidery.models.costing import cost_known
from cidery.models.enums import PressRunStatus
from cidery.press.queries import REMAINING_KG, write_offs
from cidery.press.rules import RECEIVES_JUICE

vendors = cast(Table, Vendor.__table__)
varieties = cast(Table, AppleVariety.__table__)
purchases = cast(Table, Purchase.__table__)
items = cast(Table, PurchaseItem.__table__)
vessels = cast(Table, Vessel.__table__)
runs = cast(Table, PressRun.__table__)
loads = cast(Table, PressRunLoad.__table__)
audit_logs = cast(Table, AuditLog.__table__)
batches = cast(Table, Batch.__table__)
batch_costs = cast(Table, BatchCost.__table__)
run_batches = cast(Table, PressRunBatch.__table__)


def _by_name(table: Table) -> tuple[ColumnElement[Any], ...]:
    """The order a person reads a list of names in: ignoring case (the database's
    collation may put every capital before every small letter), then a stable tie-break."""
    return (func.lower(table.c.name), table.c.name, table.c.id)


# --- growers ------------------------------------------------------------------------------

# Fruit bought by volume has no kilograms (quantity_kg is null) and adds nothing; a line's
# remainder is never negative (the fruit_within_quantity CHECK).
_FRUIT_LEFT = func.coalesce(
    select(func.sum(REMAINING_KG))
    .select_from(items)
    .join(purchases, purchases.c.id == items.c.purchase_id)
    .where(purchases.c.vendor_id == vendors.c.id, live(items, purchases))
    .scalar_subquery(),
    0,
)


def vendor_list(*, active: bool | None, q: str | None, limit: int) -> Select[Any]:
    """Live growers with the kilograms left on their live purchase lines: those with fruit
    left first, then by name. ``q`` matches part of the name in any case, literally."""
    query = select(
        vendors.c.id,
        vendors.c.name,
        vendors.c.is_active,
        _FRUIT_LEFT.label("fruit_left_kg"),
    ).where(live(vendors))
    if active is not None:
        query = query.where(vendors.c.is_active.is_(active))
    if q:
        query = query.where(vendors.c.name.icontains(q, autoescape=True))
    return query.order_by((_FRUIT_LEFT > 0).desc(), *_by_name(vendors)).limit(limit)


# --- varieties ----------------------------------------------------------------------------

VARIETIES = (
    select(
        varieties.c.id,
        varieties.c.name,
        varieties.c.description,
        varieties.c.typical_brix,
    )
    .where(live(varieties))
    .order_by(*_by_name(varieties))
)
"""Live apple varieties by name (any case)."""

# --- vessels ------------------------------------------------------------------------------

AVAILABLE: ColumnElement[bool] = vessels.c.status == RECEIVES_JUICE
"""A vessel a run's juice may go into: the status complete_run accepts."""


def vessel_list(*, available: bool | None) -> Select[Any]:
    """Live vessels by name, each saying whether it is available; ``available`` keeps only
    those that are (True) or are not (False)."""
    query = select(
        vessels.c.id,
        vessels.c.name,
        vessels.c.type,
        vessels.c.status,
        vessels.c.capacity_l,
        vessels.c.location,
        AVAILABLE.label("available"),
    ).where(live(vessels))
    if available is not None:
        query = query.where(AVAILABLE if available else ~AVAILABLE)
    return query.order_by(*_by_name(vessels))


# --- yields -------------------------------------------------------------------------------


def _completed_in(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    """Live completed runs that ended in ``[since, until)``."""
    criteria = [live(runs), runs.c.status == PressRunStatus.COMPLETED]
    if since is not None:
        criteria.append(runs.c.end_time >= since)
    if until is not None:
        criteria.append(runs.c.end_time < until)
    return criteria


def _rate(litres: ColumnElement[Any], kg: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.round(litres / func.nullif(kg, 0), 4)


def _yield_by_vendor(since: datetime | None, until: datetime | None) -> Select[Any]:
    kg = func.sum(runs.c.total_apple_weight_kg)
    litres = func.sum(runs.c.total_juice_volume_l)
    return (
        select(
            vendors.c.id.label("group_id"),
            vendors.c.name,
            func.count().label("run_count"),
            kg.label("kg_pressed"),
            litres.label("juice_l"),
            _rate(litres, kg).label("yield_l_per_kg"),
        )
        .select_from(runs)
        .join(vendors, vendors.c.id == runs.c.vendor_id)
        .where(*_completed_in(since, until))
        .group_by(vendors.c.id, vendors.c.name)
        .order_by(*_by_name(vendors))
    )


def _yield_by_variety(since: datetime | None, until: datetime | None) -> Select[Any]:
    # A run's juice is measured for the whole run: each live load is credited with the
    # run's juice times its share of the weight of the run's live loads.
    run_kg = func.sum(loads.c.weight_kg).over(partition_by=loads.c.press_run_id)
    shares = (
        select(
            loads.c.press_run_id,
            loads.c.apple_variety_id,
            loads.c.weight_kg,
            (runs.c.total_juice_volume_l * loads.c.weight_kg / run_kg).label("litres"),
        )
        .select_from(loads)
        .join(runs, runs.c.id == loads.c.press_run_id)
        .where(live(loads), *_completed_in(since, until))
        .subquery("shares")
    )
    kg = func.sum(shares.c.weight_kg)
    litres = func.sum(shares.c.litres)
    return (
        select(
            varieties.c.id.label("group_id"),
            varieties.c.name,
            func.count(shares.c.press_run_id.distinct()).label("run_count"),
            kg.label("kg_pressed"),
            func.round(litres, 3).label("juice_l"),
            _rate(litres, kg).label("yield_l_per_kg"),
        )
        .select_from(shares)
        .join(varieties, varieties.c.id == shares.c.apple_variety_id)
        .group_by(varieties.c.id, varieties.c.name)
        .order_by(*_by_name(varieties))
    )


def yield_report(
    group_by: YieldGrouping, since: datetime | None, until: datetime | None
) -> Select[Any]:
    """Runs, kilograms, litres and L/kg per variety or grower, over live completed runs
    that ended in ``[since, until)`` (None: unbounded), by name."""
    if group_by is YieldGrouping.VENDOR:
        return _yield_by_vendor(since, until)
    return _yield_by_variety(since, until)


# --- fruit reconciliation ------------------------------------------------------------------


def _lines_of(vendor_id: uuid.UUID | None, season: int | None) -> list[ColumnElement[bool]]:
    """Live purchase lines bought by weight (by volume, there is no fruit to account
    for), of one grower, bought in one season's calendar year (None: any)."""
    criteria = [live(items, purchases), items.c.quantity_kg.is_not(None)]
    if vendor_id is not None:
        criteria.append(purchases.c.vendor_id == vendor_id)
    if season is not None:
        # A range rather than extract(year), so the purchase date's index serves it.
        criteria.append(purchases.c.purchase_date >= date(season, 1, 1))
        criteria.append(purchases.c.purchase_date < date(season + 1, 1, 1))
    return criteria


def reconciliation_lines(vendor_id: uuid.UUID | None, season: int | None) -> Select[Any]:
    """Purchase lines with the kilograms bought, pressed, written off and left, by grower
    (any case), purchase date, variety."""
    return (
        select(
            items.c.id.label("purchase_item_id"),
            purchases.c.id.label("purchase_id"),
            purchases.c.vendor_id,
            vendors.c.name.label("vendor_name"),
            items.c.apple_variety_id,
            varieties.c.name.label("variety_name"),
            purchases.c.purchase_date,
            items.c.quantity_kg.label("bought_kg"),
            items.c.pressed_kg,
            items.c.written_off_kg,
            REMAINING_KG.label("left_kg"),
        )
        .select_from(items)
        .join(purchases, purchases.c.id == items.c.purchase_id)
        .join(vendors, vendors.c.id == purchases.c.vendor_id)
        .join(varieties, varieties.c.id == items.c.apple_variety_id)
        .where(*_lines_of(vendor_id, season))
        .order_by(*_by_name(vendors), purchases.c.purchase_date, varieties.c.name, items.c.id)
    )


def reconciliation_write_offs(vendor_id: uuid.UUID | None, season: int | None) -> Select[Any]:
    """The write-offs of the lines :func:`reconciliation_lines` returns, oldest first."""
    return (
        select(write_offs)
        .join(items, items.c.id == write_offs.c.purchase_item_id)
        .join(purchases, purchases.c.id == items.c.purchase_id)
        .where(*_lines_of(vendor_id, season))
        .order_by(write_offs.c.created_at, write_offs.c.id)
    )


# --- juice lots ---------------------------------------------------------------------------


def lot_costs(since: datetime | None, until: datetime | None) -> Select[Any]:
    """The juice lots of live completed runs that ended in ``[since, until)`` (None:
    unbounded), oldest first: one row per run and lot, with the litres the lot received
    and its cost, unknown parts null (no ``batch_costs`` row: all of them)."""
    known = cost_known(batch_costs)
    return (
        select(
            batches.c.id.label("batch_id"),
            batches.c.batch_number,
            batches.c.vessel_id,
            vessels.c.name.label("vessel_name"),
            runs.c.id.label("press_run_id"),
            vendors.c.id.label("vendor_id"),
            vendors.c.name.label("vendor_name"),
            batches.c.start_date,
            run_batches.c.volume_l.label("litres"),
            batch_costs.c.total_apple_cost,
            batch_costs.c.labor_cost,
            batch_costs.c.total_cost,
            batch_costs.c.cost_per_l,
            # Without a cost row both are null, and so the lot is not complete.
            known.label("complete"),
        )
        .select_from(run_batches)
        .join(batches, batches.c.id == run_batches.c.batch_id)
        .join(runs, runs.c.id == run_batches.c.press_run_id)
        .join(vendors, vendors.c.id == runs.c.vendor_id)
        .outerjoin(vessels, vessels.c.id == batches.c.vessel_id)
        .outerjoin(batch_costs, and_(batch_costs.c.batch_id == batches.c.id, live(batch_costs)))
        .where(live(batches), *_completed_in(since, until))
        .order_by(batches.c.start_date, batches.c.batch_number, batches.c.id)
    )


# --- the audit log ------------------------------------------------------------------------


def audit_list(
    *,
    limit: int,
    table: str | None = None,
    record_id: uuid.UUID | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> Select[Any]:
    """Audit rows newest first (change time, then id: a stable keyset order), one page
    and one more row, so the caller knows whether another page follows."""
    query = select(audit_logs)
    if table is not None:
        query = query.where(audit_logs.c.table_name == table)
    if record_id is not None:
        query = query.where(audit_logs.c.record_id == record_id)
    if after is not None:
        query = query.where(tuple_(audit_logs.c.changed_at, audit_logs.c.id) < tuple_(*after))
    return query.order_by(audit_logs.c.changed_at.desc(), audit_logs.c.id.desc()).limit(limit + 1)
