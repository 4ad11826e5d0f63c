"""Every read of the press workflow, declared once.

The service (:mod:`cidery.press.commands`, :mod:`cidery.press.reads`), the press
summary and the benchmarks run these statements and no others; the plan tests
EXPLAIN exactly these statements on a season of data and assert the index that
serves each (:data:`PATTERNS`). Statements are built once, with bind parameters,
one for each shape a few filters give them (the fruit left to press); the run list,
whose filters give it many shapes, and the yield outliers are functions returning
the ``Select``.

Fruit pressed from a purchase line is ``purchase_items.pressed_kg``, kept by the
database's triggers (revision 0003), and fruit written off as waste is
``written_off_kg`` (revision 0007): the remaining fruit of a line is a read of one
row, :data:`REMAINING_KG`. :data:`PRESSED_BY_LINE` recomputes it from the loads, for the smoke
check that the triggers kept it right.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, or_, select, tuple_

from cidery.models import (
    AppleVariety,
    FruitWriteOff,
    PressRun,
    PressRunLoad,
    Purchase,
    PurchaseItem,
    Vendor,
)
from cidery.models.base import live
from cidery.models.cellar import Vessel
from cidery.models.enums import PressRunStatus
from cidery.press.rules import YIELD_HIGH, YIELD_LOW

runs = cast(Table, PressRun.__table__)
loads = cast(Table, PressRunLoad.__table__)
items = cast(Table, PurchaseItem.__table__)
vendors = cast(Table, Vendor.__table__)
vessels = cast(Table, Vessel.__table__)
write_offs = cast(Table, FruitWriteOff.__table__)
varieties = cast(Table, AppleVariety.__table__)

REMAINING_KG = items.c.quantity_kg - items.c.pressed_kg - items.c.written_off_kg
"""The fruit left on a purchase line: bought, less pressed, less written off as waste.

Every read of it in Python is this expression (the fruit offered, a correction's draw,
a write-off, a grower's fruit left, the reconciliation); ``press_add_load`` states the
same in SQL (revision 0007). Null for a line bought by volume, which has no fruit."""

# --- one row by id ------------------------------------------------------------------------

RUN = (
    select(runs, vendors.c.name.label("vendor_name"))
    .join(vendors, vendors.c.id == runs.c.vendor_id)
    .where(runs.c.id == bindparam("run_id"), live(runs))
)
"""A live run with its grower's name (get_run: the resume screen names the grower)."""

LOCK_RUN = select(runs).where(runs.c.id == bindparam("run_id"), live(runs)).with_for_update()
"""A live run, locked: the first statement of every change to a run or its loads."""

VENDOR = select(vendors).where(vendors.c.id == bindparam("vendor_id"), live(vendors))

LOCK_VESSEL = (
    select(vessels).where(vessels.c.id == bindparam("vessel_id"), live(vessels)).with_for_update()
)

LOAD_RUN = select(loads.c.press_run_id).where(loads.c.id == bindparam("load_id"))
"""The run a load (voided or not) belongs to: void_load locks that run first."""

LOCK_LOAD = select(loads).where(loads.c.id == bindparam("load_id"), live(loads)).with_for_update()

LOCK_LINES = (
    select(
        items.c.id,
        items.c.apple_variety_id,
        items.c.quantity_kg,
        REMAINING_KG.label("remaining_kg"),
        (items.c.deleted_at.is_(None) & Purchase.deleted_at.is_(None)).label("is_live"),
        Purchase.vendor_id,
        Vendor.name.label("vendor_name"),
        Vendor.is_active.label("vendor_active"),
    )
    .join(Purchase, Purchase.id == items.c.purchase_id)
    .join(Vendor, Vendor.id == Purchase.vendor_id)
    .where(items.c.id.in_(bindparam("item_ids", expanding=True)))
    .order_by(items.c.id)
    .with_for_update(of=items)
)
"""Purchase lines by id, locked in id order (correct_load: the load's line and the one it
moves to; write_off_line: the line written off), each with the fruit it has left, its
grower and whether it and its purchase are live: the line a load leaves may have been
deleted since, and its fruit is still given back."""

# --- a run's loads ------------------------------------------------------------------------

RUN_LOADS = (
    select(loads, AppleVariety.name.label("variety_name"))
    .join(AppleVariety, AppleVariety.id == loads.c.apple_variety_id)
    .where(loads.c.press_run_id == bindparam("run_id"), live(loads))
    .order_by(loads.c.load_sequence)
)
"""A run's live loads in sequence order, each with its variety's name (get_run, the
resume screen: the names in the same round trip as the loads)."""

RUN_LOAD_TOTALS = select(
    func.count().label("load_count"),
    func.coalesce(func.sum(loads.c.weight_kg), 0).label("weight_kg"),
).where(loads.c.press_run_id == bindparam("run_id"), live(loads))
"""How many live loads a run has and what they weigh (complete_run)."""

# --- lists --------------------------------------------------------------------------------


def _summaries() -> Select[Any]:
    load_count = (
        select(func.count()).where(loads.c.press_run_id == runs.c.id, live(loads)).scalar_subquery()
    )
    return (
        select(
            runs.c.id,
            runs.c.vendor_id,
            vendors.c.name.label("vendor_name"),
            runs.c.vessel_id,
            runs.c.status,
            runs.c.start_time,
            runs.c.end_time,
            load_count.label("load_count"),
            runs.c.total_apple_weight_kg,
            runs.c.total_juice_volume_l,
            runs.c.extraction_rate,
        )
        .join(vendors, vendors.c.id == runs.c.vendor_id)
        .where(live(runs))
    )


_NEWEST_FIRST = (runs.c.start_time.desc(), runs.c.id.desc())


def run_list(
    *,
    limit: int,
    status: PressRunStatus | None = None,
    vendor_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> Select[Any]:
    """Runs newest first (start time, then id: a stable keyset order), one page and one
    more row, so the caller knows whether another page follows."""
    query = _summaries()
    if status is not None:
        query = query.where(runs.c.status == status)
    if vendor_id is not None:
        query = query.where(runs.c.vendor_id == vendor_id)
    if since is not None:
        query = query.where(runs.c.start_time >= since)
    if until is not None:
        query = query.where(runs.c.start_time < until)
    if after is not None:
        query = query.where(tuple_(runs.c.start_time, runs.c.id) < tuple_(*after))
    return query.order_by(*_NEWEST_FIRST).limit(limit + 1)


def yield_outliers(low: Decimal, high: Decimal) -> Select[Any]:
    """Completed runs whose yield is outside ``[low, high]`` L/kg, newest first."""
    return (
        _summaries()
        .where(
            runs.c.status == PressRunStatus.COMPLETED,
            or_(runs.c.extraction_rate < low, runs.c.extraction_rate > high),
        )
        .order_by(*_NEWEST_FIRST)
    )


def _available_fruit(*, by_vendor: bool, by_variety: bool) -> Select[Any]:
    """Purchase lines with fruit left, of active growers, for the variety picker.

    Exactly the lines :func:`cidery.press.start_run` and ``add_load`` accept: the
    line, its purchase and its grower live, the grower active, bought by weight, with
    fruit neither pressed nor written off.
    """
    query = (
        select(
            items.c.id.label("purchase_item_id"),
            Purchase.id.label("purchase_id"),
            Purchase.vendor_id,
            Vendor.name.label("vendor_name"),
            items.c.apple_variety_id,
            AppleVariety.name.label("variety_name"),
            Purchase.purchase_date,
            items.c.harvest_date,
            items.c.quantity_kg,
            items.c.pressed_kg,
            items.c.written_off_kg,
            REMAINING_KG.label("remaining_kg"),
        )
        .select_from(items)
        .join(Purchase, Purchase.id == items.c.purchase_id)
        .join(Vendor, Vendor.id == Purchase.vendor_id)
        .join(AppleVariety, AppleVariety.id == items.c.apple_variety_id)
        .where(live(items, Purchase, Vendor), Vendor.is_active, REMAINING_KG > 0)
        .order_by(Vendor.name, AppleVariety.name, items.c.harvest_date, items.c.id)
    )
    if by_vendor:
        query = query.where(Purchase.vendor_id == bindparam("vendor_id"))
    if by_variety:
        query = query.where(items.c.apple_variety_id == bindparam("variety_id"))
    return query


# One statement per filter combination, built once: building the Select and computing
# its cache key on every call cost more than executing it.
FRUIT = _available_fruit(by_vendor=False, by_variety=False)
FRUIT_BY_VENDOR = _available_fruit(by_vendor=True, by_variety=False)
FRUIT_BY_VARIETY = _available_fruit(by_vendor=False, by_variety=True)
FRUIT_BY_VENDOR_AND_VARIETY = _available_fruit(by_vendor=True, by_variety=True)


def available_fruit(
    vendor_id: uuid.UUID | None = None, variety_id: uuid.UUID | None = None
) -> tuple[Select[Any], dict[str, uuid.UUID]]:
    """The statement of purchase lines with fruit left for these filters (None: any
    grower, any variety), and the values of its bind parameters."""
    values = {
        name: value
        for name, value in (("vendor_id", vendor_id), ("variety_id", variety_id))
        if value is not None
    }
    if vendor_id is None:
        return (FRUIT if variety_id is None else FRUIT_BY_VARIETY), values
    return (FRUIT_BY_VENDOR if variety_id is None else FRUIT_BY_VENDOR_AND_VARIETY), values


# --- the press summary --------------------------------------------------------------------

# Loads are counted per status in one pass over the loads joined to their runs, then
# matched to the runs' own totals by status: a count per run (a correlated or LATERAL
# subquery) probes the loads' index once for each of a season's 100,000 runs.
_LOADS_BY_STATUS = (
    select(runs.c.status, func.count().label("loads"))
    .select_from(loads)
    .join(runs, runs.c.id == loads.c.press_run_id)
    .where(live(loads, runs))
    .group_by(runs.c.status)
    .subquery("loads_by_status")
)
_RUN_TOTALS = (
    select(
        runs.c.status,
        func.count().label("runs"),
        func.coalesce(func.sum(runs.c.total_apple_weight_kg), 0).label("kg"),
        func.coalesce(func.sum(runs.c.total_juice_volume_l), 0).label("litres"),
    )
    .where(live(runs))
    .group_by(runs.c.status)
    .subquery("run_totals")
)

RUNS_BY_STATUS = (
    select(
        _RUN_TOTALS.c.status,
        _RUN_TOTALS.c.runs,
        func.coalesce(_LOADS_BY_STATUS.c.loads, 0).label("loads"),
        _RUN_TOTALS.c.kg,
        _RUN_TOTALS.c.litres,
    )
    .outerjoin(_LOADS_BY_STATUS, _LOADS_BY_STATUS.c.status == _RUN_TOTALS.c.status)
    .order_by(_RUN_TOTALS.c.status)
)
"""Runs, loads, kilograms and litres per status."""

# A run's juice is measured for the whole run, not per load: each variety is credited
# with the run's juice in proportion to the weight it contributed. Table columns, not
# the model's attributes: `cidery db status` reads the summary right after starting, and
# compiling a statement of ORM attributes first configures every mapper (~40 ms).
YIELD_BY_VARIETY = (
    select(
        varieties.c.name.label("variety"),
        func.sum(loads.c.weight_kg).label("kg"),
        func.round(
            func.sum(
                runs.c.total_juice_volume_l * loads.c.weight_kg / runs.c.total_apple_weight_kg
            ),
            3,
        ).label("litres"),
    )
    .select_from(loads)
    .join(runs, runs.c.id == loads.c.press_run_id)
    .join(varieties, varieties.c.id == loads.c.apple_variety_id)
    .where(
        runs.c.status == PressRunStatus.COMPLETED,
        live(runs, loads),
        runs.c.total_apple_weight_kg > 0,
    )
    .group_by(varieties.c.name)
    .order_by(varieties.c.name)
)
"""Kilograms pressed and litres credited per variety, over completed runs."""

# --- the triggers' figure, recomputed -----------------------------------------------------

PRESSED_BY_LINE = (
    select(
        loads.c.purchase_item_id,
        func.sum(loads.c.weight_kg).label("pressed_kg"),
    )
    .join(runs, runs.c.id == loads.c.press_run_id)
    .where(live(loads, runs), runs.c.status != PressRunStatus.CANCELLED)
    .group_by(loads.c.purchase_item_id)
)
"""Kilograms drawn per purchase line, summed from the loads: what ``pressed_kg`` must
hold (the smoke checks compare them)."""


# --- what the plan tests prove ------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """A statement the app runs, and the index that must serve it at scale.

    ``build`` receives ``fixed`` and the sample values named in ``arguments`` as
    keyword arguments and returns the statement; the values named in
    ``parameters`` are bound to its bind parameters. ``index`` None means reading
    the whole table is the right plan (a summary over every run); ``equivalent``
    names other indexes that serve it as well, between which the planner may pick.
    """

    key: str
    description: str
    index: str | None
    build: Callable[..., Select[Any]]
    arguments: tuple[str, ...] = ()
    equivalent: tuple[str, ...] = ()
    parameters: tuple[str, ...] = ()
    fixed: dict[str, Any] = field(default_factory=dict)

    def statement(self, samples: Mapping[str, Any]) -> Select[Any]:
        """The statement as the app runs it, with values taken from ``samples``."""
        missing = [n for n in (*self.arguments, *self.parameters) if n not in samples]
        if missing:
            raise KeyError(f"pattern {self.key} needs sample values for {', '.join(missing)}")
        built = self.build(**self.fixed, **{name: samples[name] for name in self.arguments})
        return built.params({name: samples[name] for name in self.parameters})


def _constant(statement: Select[Any]) -> Callable[..., Select[Any]]:
    return lambda: statement


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "run", "a run by id (resume)", "press_runs_pkey", _constant(RUN), parameters=("run_id",)
    ),
    Pattern(
        "run-loads",
        "one run's loads in sequence",
        "press_run_loads_press_run_id_idx",
        _constant(RUN_LOADS),
        parameters=("run_id",),
        # The partial index of live loads (0005) serves a run's few loads as well.
        equivalent=("press_run_loads_live_press_run_id_idx",),
    ),
    Pattern(
        "run-load-totals",
        "one run's load count and weight",
        "press_run_loads_press_run_id_idx",
        _constant(RUN_LOAD_TOTALS),
        parameters=("run_id",),
        # The partial index of live loads (0005) serves a run's few loads as well.
        equivalent=("press_run_loads_live_press_run_id_idx",),
    ),
    Pattern(
        "runs",
        "the newest runs, no filter",
        "press_runs_start_time_idx",
        run_list,
        fixed={"limit": 50},
    ),
    Pattern(
        "runs-after",
        "the next page of runs (keyset cursor)",
        "press_runs_start_time_idx",
        run_list,
        arguments=("after",),
        fixed={"limit": 50},
    ),
    Pattern(
        "runs-since",
        "runs started in a date range",
        "press_runs_start_time_idx",
        run_list,
        arguments=("since", "until"),
        fixed={"limit": 50},
    ),
    Pattern(
        "runs-in-progress",
        "runs to resume",
        "press_runs_status_idx",
        run_list,
        fixed={"limit": 50, "status": PressRunStatus.IN_PROGRESS},
    ),
    Pattern(
        "runs-completed",
        "recently completed runs",
        # Most runs are completed: walking all runs newest first finds a page at once.
        "press_runs_start_time_idx",
        run_list,
        fixed={"limit": 50, "status": PressRunStatus.COMPLETED},
        equivalent=("press_runs_status_idx",),
    ),
    Pattern(
        "runs-vendor",
        "one grower's runs",
        "press_runs_vendor_id_start_time_idx",
        run_list,
        arguments=("vendor_id",),
        fixed={"limit": 50},
    ),
    Pattern(
        "runs-vendor-status",
        "one grower's runs in one status",
        "press_runs_vendor_id_status_idx",
        run_list,
        arguments=("vendor_id",),
        fixed={"limit": 50, "status": PressRunStatus.IN_PROGRESS},
    ),
    Pattern(
        "fruit-vendor",
        "purchase lines with fruit left for one grower",
        "purchases_vendor_id_idx",
        _constant(FRUIT_BY_VENDOR),
        parameters=("vendor_id",),
    ),
    Pattern(
        "fruit-variety",
        "purchase lines with fruit left of one variety",
        "purchase_items_apple_variety_id_idx",
        _constant(FRUIT_BY_VARIETY),
        parameters=("variety_id",),
    ),
    Pattern(
        "fruit-vendor-variety",
        "purchase lines with fruit left for one grower, of one variety",
        "purchases_vendor_id_idx",
        _constant(FRUIT_BY_VENDOR_AND_VARIETY),
        parameters=("vendor_id", "variety_id"),
        # Either filter narrows a season's lines to a few; the planner may start from either.
        equivalent=("purchase_items_apple_variety_id_idx",),
    ),
    Pattern("fruit", "every purchase line with fruit left", None, _constant(FRUIT)),
    Pattern(
        "outliers",
        "completed runs with an unusual yield",
        "press_runs_extraction_rate_idx",
        yield_outliers,
        fixed={"low": YIELD_LOW, "high": YIELD_HIGH},
    ),
    Pattern("by-status", "runs per status", None, _constant(RUNS_BY_STATUS)),
    Pattern("by-variety", "yield per variety", None, _constant(YIELD_BY_VARIETY)),
)
