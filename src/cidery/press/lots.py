"""Juice lots: a completed run's juice in its vessels, what is in each lot and what it cost.

Completing a run (:func:`cidery.press.complete_run`) makes one juice lot per vessel: a
``batches`` row in the vessel and a ``press_run_batches`` link with the litres it
received (a deferred constraint trigger holds a run's links to its juice at commit).
:func:`write_lots` writes them, then :func:`write_costs` their cost:

* one ``batch_costs`` row per lot: fruit, labor, total and cost per litre, NULL when
  unknown (a purchase line without a price, labor without hours), never zero;
* one ``cogs_items`` row per purchase line the run drew on (``apples``, the line's id,
  its kg in the lot and their cost or NULL) and one for the lot's share of labor.

The arithmetic is the costing core's (:func:`cidery.costing.lots.juice_lots`), fed from
the database: the run's live loads with their lines' terms, its juice, labor hours and
labor rate (``press_runs.labor_rate``), and its links. What is in a lot (varieties and
growers in kg and litres) is not stored: :func:`get_lot` computes it again from the
loads when read, so it cannot disagree with them. Its cost is read as written, so a
price edited after the completion changes nothing until an admin recomputes the run's
costs (:func:`recompute_costs`, audited with the old and new rows).

The statements of this module are declared here, beside the tables they read.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Select,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from cidery import audit
from cidery.costing import lots as costing
from cidery.costing.prices import LineTerms
from cidery.models import (
    AppleVariety,
    Batch,
    BatchCost,
    CogsItem,
    PressRunBatch,
    Purchase,
)
from cidery.models.base import live
from cidery.models.costing import cost_known
from cidery.models.enums import AuditOperation, BatchStatus, CogsItemType, PressRunStatus
from cidery.press import queries
from cidery.press.access import Action, require
from cidery.press.commands import _update
from cidery.press.errors import InvalidInput, InvalidTransition, NotFound
from cidery.press.inputs import Id, decode_cursor, encode_cursor, identifier, parse
from cidery.press.reads import read_connection
from cidery.press.schemas import (
    CogsItemRead,
    CostRecompute,
    JuiceLot,
    LotDetail,
    LotFilter,
    LotLine,
    LotPage,
    LotShare,
    LotSummary,
    PressRunRead,
    RecomputedCosts,
    read_row,
)
from cidery.press.translate import writing

log = logging.getLogger(__name__)

batches = cast(Table, Batch.__table__)
links = cast(Table, PressRunBatch.__table__)
batch_costs = cast(Table, BatchCost.__table__)
cogs = cast(Table, CogsItem.__table__)
runs, loads, items, vendors, vessels = (
    queries.runs,
    queries.loads,
    queries.items,
    queries.vendors,
    queries.vessels,
)

# The cost items a completion writes (and a recompute replaces); later stages of a
# batch (overhead, packaging) add items of other types, which a recompute leaves alone.
PRESSING_ITEMS = (CogsItemType.APPLES, CogsItemType.LABOR)
# batches.name is varchar(200).
_NAME_LENGTH = 200

# --- statements ---------------------------------------------------------------------------

NEXT_LOT_NUMBER = text("SELECT nextval('juice_lot_numbers')")
"""The run's number in the lots' batch numbers (``2026-R0042-A``): one per completion."""

GROWER = select(vendors.c.name).where(vendors.c.id == bindparam("vendor_id"))
"""The run's grower's name, live or not, for the lots' names."""

RUN_FRUIT = (
    select(
        loads.c.purchase_item_id,
        loads.c.weight_kg,
        AppleVariety.name.label("variety"),
        vendors.c.name.label("grower"),
        items.c.quantity,
        items.c.unit,
        items.c.quantity_kg,
        items.c.price_per_unit,
        items.c.total_cost,
    )
    .select_from(loads)
    .join(items, items.c.id == loads.c.purchase_item_id)
    .join(Purchase, Purchase.id == items.c.purchase_id)
    .join(vendors, vendors.c.id == Purchase.vendor_id)
    .join(AppleVariety, AppleVariety.id == loads.c.apple_variety_id)
    .where(loads.c.press_run_id == bindparam("run_id"), live(loads))
    .order_by(loads.c.load_sequence)
)
"""A run's live loads in order, each with its variety, its grower and its line's quantity
and price: what the costing core shares among the lots."""


def _lots() -> Select[Any]:
    return (
        select(
            links.c.batch_id,
            batches.c.batch_number,
            batches.c.vessel_id,
            vessels.c.name.label("vessel_name"),
            links.c.press_run_id,
            links.c.volume_l.label("litres"),
            links.c.created_at,
            batch_costs.c.total_apple_cost.label("fruit_cost"),
            batch_costs.c.labor_cost,
            batch_costs.c.total_cost,
            batch_costs.c.cost_per_l,
            batch_costs.c.calculated_at,
        )
        .select_from(links)
        .join(batches, batches.c.id == links.c.batch_id)
        .outerjoin(vessels, vessels.c.id == batches.c.vessel_id)
        .outerjoin(batch_costs, batch_costs.c.batch_id == links.c.batch_id)
    )


RUN_LOTS = (
    _lots().where(links.c.press_run_id == bindparam("run_id")).order_by(batches.c.batch_number)
)
"""A run's lots (every link: their litres add up to the run's juice), A first, with their
vessel and cost (NULL without a cost row)."""

LOT = (
    select(
        links.c.press_run_id,
        batches.c.name,
        batches.c.status,
        batches.c.start_date,
        batches.c.initial_volume_l,
        batches.c.current_volume_l,
        batch_costs.c.calculated_at,
    )
    .join(batches, batches.c.id == links.c.batch_id)
    .outerjoin(batch_costs, batch_costs.c.batch_id == links.c.batch_id)
    .where(links.c.batch_id == bindparam("batch_id"), live(batches))
)
"""A live batch that is a juice lot, its run, and when it was costed."""

LOT_COSTS = (
    select(cogs)
    .where(cogs.c.batch_id.in_(bindparam("batch_ids", expanding=True)), live(cogs))
    .order_by(cogs.c.batch_id, cogs.c.item_type, cogs.c.description)
)
"""The live cost items of some lots: fruit lines, then labor (the enum's order)."""

LOCK_COSTS = (
    select(batch_costs).where(batch_costs.c.batch_id == bindparam("batch_id")).with_for_update()
)

RUN_LOT_COUNT = select(func.count()).where(links.c.press_run_id == bindparam("run_id"))


def lot_list(
    *,
    limit: int,
    incomplete: bool = False,
    season: int | None = None,
    after: tuple[Any, uuid.UUID] | None = None,
) -> Select[Any]:
    """Live lots newest first (linked at, then batch id: a stable keyset order), one page
    and one more row, so the caller knows whether another page follows."""
    query = (
        _lots()
        .add_columns(vendors.c.name.label("vendor_name"), batches.c.start_date)
        .join(runs, runs.c.id == links.c.press_run_id)
        .join(vendors, vendors.c.id == runs.c.vendor_id)
        .where(live(batches))
    )
    if incomplete:
        # No cost row at all (a lot written before costs were) is incomplete too.
        query = query.where(~cost_known(batch_costs))
    if season is not None:
        query = query.where(
            batches.c.start_date >= date(season, 1, 1),
            batches.c.start_date < date(season + 1, 1, 1),
        )
    if after is not None:
        query = query.where(tuple_(links.c.created_at, links.c.batch_id) < tuple_(*after))
    return query.order_by(links.c.created_at.desc(), links.c.batch_id.desc()).limit(limit + 1)


# --- the arithmetic, fed from the database ------------------------------------------------


def _figures(
    conn: Connection, run: Mapping[Any, Any], lots: Sequence[RowMapping], labor_rate: Decimal
) -> costing.RunLots:
    """The costing core's lots of ``run``, one per row of ``lots`` (in their order)."""
    fruit = conn.execute(RUN_FRUIT, {"run_id": run["id"]}).mappings().all()
    terms = {
        row["purchase_item_id"]: LineTerms(
            row["quantity"],
            row["unit"],
            row["quantity_kg"],
            row["price_per_unit"],
            row["total_cost"],
        )
        for row in fruit
    }
    return costing.juice_lots(
        [
            costing.Load(row["purchase_item_id"], row["variety"], row["grower"], row["weight_kg"])
            for row in fruit
        ],
        terms,
        juice_l=run["total_juice_volume_l"],
        labor_hours=run["labor_hours"],
        labor_rate=labor_rate,
        # The core tells lots apart by the key it is given: the batch, which stays the
        # lot's identity when its juice is later racked into another vessel.
        assignments=[costing.Assignment(lot["batch_id"], lot["litres"]) for lot in lots],
    )


def _shares(shares: Sequence[costing.Share]) -> list[LotShare]:
    # A variety absent from a lot (0 kg) is left out of it.
    return [LotShare(name=s.name, kg=s.kg, litres=s.litres) for s in shares if s.kg or s.litres]


def _juice_lot(
    row: Mapping[Any, Any], lot: costing.Lot, costs: Sequence[Mapping[Any, Any]]
) -> JuiceLot:
    """A lot as read: its composition from the core, its cost from its stored rows."""
    line_cost = {
        item["purchase_item_id"]: item["cost"]
        for item in costs
        if item["item_type"] is CogsItemType.APPLES
    }
    return JuiceLot(
        batch_id=row["batch_id"],
        batch_number=row["batch_number"],
        vessel_id=row["vessel_id"],
        vessel_name=row["vessel_name"],
        press_run_id=row["press_run_id"],
        litres=row["litres"],
        kg=lot.kg,
        varieties=_shares(lot.varieties),
        growers=_shares(lot.growers),
        lines=[
            LotLine(
                purchase_item_id=line.line_id,
                variety=line.variety,
                grower=line.grower,
                kg=line.kg,
                cost=line_cost.get(line.line_id),
            )
            for line in lot.lines
        ],
        fruit_cost=row["fruit_cost"],
        labor_cost=row["labor_cost"],
        total_cost=row["total_cost"],
        cost_per_l=row["cost_per_l"],
        complete=row["total_cost"] is not None,
        missing_lines=[line.line_id for line in lot.lines if line_cost.get(line.line_id) is None],
        labor_missing=row["labor_cost"] is None,
    )


def _run_lots(
    conn: Connection, run: Mapping[Any, Any]
) -> tuple[list[JuiceLot], dict[uuid.UUID, list[RowMapping]]]:
    """A completed run's lots as read, and each lot's live cost items."""
    rows = conn.execute(RUN_LOTS, {"run_id": run["id"]}).mappings().all()
    if not rows:
        return [], {}
    # The rate does not enter what is in a lot; the cost is read as it was written.
    figures = _figures(conn, run, rows, run["labor_rate"] or Decimal(0))
    costs: dict[uuid.UUID, list[RowMapping]] = {row["batch_id"]: [] for row in rows}
    for item in conn.execute(LOT_COSTS, {"batch_ids": list(costs)}).mappings():
        costs[item["batch_id"]].append(item)
    lots = [
        _juice_lot(row, lot, costs[row["batch_id"]])
        for row, lot in zip(rows, figures.lots, strict=True)
    ]
    return lots, costs


def lots_of_run(session: Session, run: Mapping[Any, Any]) -> list[JuiceLot]:
    """A completed run's lots as read (no permission check: for the service's own
    functions, after theirs)."""
    return _run_lots(session.connection(), run)[0]


# --- writing ------------------------------------------------------------------------------


def lot_number(year: int, run_number: int, index: int) -> str:
    """A lot's readable batch number: ``2026-R0042-A`` for the first lot of the run
    numbered 42, completed in 2026."""
    return f"{year}-R{run_number:04d}-{chr(ord('A') + index)}"


def write_lots(
    session: Session,
    run: Mapping[Any, Any],
    destinations: Sequence[tuple[uuid.UUID, Decimal]],
    actor_id: uuid.UUID | None,
) -> list[dict[str, Any]]:
    """Write the juice lots of a run just completed (``run``: its row, with its end time,
    juice, labor hours and rate): a fermenting batch in each vessel of ``destinations``
    (vessel id and litres, in the order given: lot A first) linked to the run, then
    their costs. Returns the audit entries of every row written; the caller writes them
    with its own. The caller has checked the vessels and that the litres add up.
    """
    conn = session.connection()
    number = conn.execute(NEXT_LOT_NUMBER).scalar_one()
    grower = conn.execute(GROWER, {"vendor_id": run["vendor_id"]}).scalar_one()
    started = run["end_time"].date()
    suffix = f", pressed {started.isoformat()}"
    name = grower[: _NAME_LENGTH - len(suffix)] + suffix
    entries = []
    for index, (vessel_id, litres) in enumerate(destinations):
        batch = (
            conn.execute(
                insert(batches)
                .values(
                    batch_number=lot_number(run["end_time"].year, number, index),
                    name=name,
                    vessel_id=vessel_id,
                    status=BatchStatus.FERMENTING,
                    start_date=started,
                    initial_volume_l=litres,
                    current_volume_l=litres,
                )
                .returning(batches)
            )
            .mappings()
            .one()
        )
        link = (
            conn.execute(
                insert(links)
                .values(
                    press_run_id=run["id"],
                    batch_id=batch["id"],
                    volume_l=litres,
                    created_by=actor_id,
                )
                .returning(links)
            )
            .mappings()
            .one()
        )
        for table, row in (("batches", batch), ("press_run_batches", link)):
            entries.append(
                audit.entry(
                    table=table,
                    record_id=row["id"],
                    operation=AuditOperation.INSERT,
                    actor=actor_id,
                    new=row,
                )
            )
    entries.extend(write_costs(session, run, actor_id))
    return entries


def write_costs(
    session: Session,
    run: Mapping[Any, Any],
    actor_id: uuid.UUID | None,
    reason: str | None = None,
) -> list[dict[str, Any]]:
    """Cost the lots of a completed run (``run``: its row) at its labor rate: each lot's
    ``batch_costs`` row written (or updated) and its fruit and labor ``cogs_items``
    replaced (the old ones soft-deleted). Returns the audit entries, with ``reason``."""
    conn = session.connection()
    rows = conn.execute(RUN_LOTS, {"run_id": run["id"]}).mappings().all()
    figures = _figures(conn, run, rows, run["labor_rate"])
    entries = []

    def logged(table: str, operation: AuditOperation, old: Any, new: Any) -> None:
        record = (new if new is not None else old)["id"]
        entries.append(
            audit.entry(
                table=table,
                record_id=record,
                operation=operation,
                actor=actor_id,
                old=old,
                new=new,
                reason=reason,
            )
        )

    for row, lot in zip(rows, figures.lots, strict=True):
        batch_id = row["batch_id"]
        cost = lot.batch_cost
        values = {
            "total_apple_cost": cost.total_apple_cost,
            "labor_cost": cost.labor_cost,
            "total_cost": cost.total_cost,
            "cost_per_l": cost.cost_per_l,
            "calculated_at": func.now(),
        }
        old = conn.execute(LOCK_COSTS, {"batch_id": batch_id}).mappings().first()
        if old is None:
            added = insert(batch_costs).values(batch_id=batch_id, **values)
            new = conn.execute(added.returning(batch_costs)).mappings().one()
            logged("batch_costs", AuditOperation.INSERT, None, new)
        else:
            changed = update(batch_costs).where(batch_costs.c.id == old["id"]).values(values)
            new = conn.execute(changed.returning(batch_costs)).mappings().one()
            logged("batch_costs", AuditOperation.UPDATE, old, new)

        # Replaced, not edited: the old items stay in the table, deleted, with the
        # audit rows saying why.
        replaced = conn.execute(
            select(cogs)
            .where(cogs.c.batch_id == batch_id, cogs.c.item_type.in_(PRESSING_ITEMS), live(cogs))
            .with_for_update()
        ).mappings()
        for item in replaced.all():
            deleted = (
                conn.execute(
                    update(cogs)
                    .where(cogs.c.id == item["id"])
                    .values(deleted_at=func.now())
                    .returning(cogs)
                )
                .mappings()
                .one()
            )
            logged("cogs_items", AuditOperation.UPDATE, item, deleted)
        # The core lists the lot's lines, in its order, then labor.
        line_ids = [*(line.line_id for line in lot.lines), None]
        written = conn.execute(
            insert(cogs).returning(cogs, sort_by_parameter_order=True),
            [
                {
                    "batch_id": batch_id,
                    "item_type": item.item_type,
                    "description": item.description,
                    "cost": item.cost,
                    "quantity": item.quantity,
                    "unit": item.unit,
                    "purchase_item_id": line_id,
                }
                for item, line_id in zip(lot.cogs_items, line_ids, strict=True)
            ],
        ).mappings()
        for item in written.all():
            logged("cogs_items", AuditOperation.INSERT, None, item)
    return entries


# --- reading ------------------------------------------------------------------------------


def get_lot(session: Session, actor: object, batch_id: Id) -> LotDetail:
    """A juice lot: what is in it (computed from its run's live loads), what it cost (as
    written), its run and its cost items. :class:`NotFound` for a batch that is not a
    juice lot (or was deleted)."""
    who = require(actor, Action.READ)
    batch_uuid = identifier(batch_id, "batch_id")
    with read_connection(session, who.user_id) as conn:
        found = conn.execute(LOT, {"batch_id": batch_uuid}).mappings().first()
        if found is None:
            raise NotFound("juice lot", batch_uuid)
        run = conn.execute(queries.RUN, {"run_id": found["press_run_id"]}).mappings().first()
        if run is None:
            raise NotFound("juice lot", batch_uuid)
        lots, costs = _run_lots(conn, run)
    lot = next(lot for lot in lots if lot.batch_id == batch_uuid)
    items = costs[batch_uuid]
    return LotDetail(
        lot=lot,
        name=found["name"],
        status=found["status"],
        start_date=found["start_date"],
        initial_volume_l=found["initial_volume_l"],
        current_volume_l=found["current_volume_l"],
        calculated_at=found["calculated_at"],
        run=read_row(PressRunRead, run),
        vendor_name=run["vendor_name"],
        cogs_items=[CogsItemRead.model_validate(item) for item in items],
    )


def run_lots(session: Session, actor: object, run_id: Id) -> list[JuiceLot]:
    """The juice lots of a run, A first, as :func:`get_lot` reads each (none for a run not
    completed, or completed before lots were recorded): for a completed run's page."""
    who = require(actor, Action.READ)
    run_uuid = identifier(run_id, "run_id")
    with read_connection(session, who.user_id) as conn:
        run = conn.execute(queries.RUN, {"run_id": run_uuid}).mappings().first()
        if run is None:
            raise NotFound("press run", run_uuid)
        return _run_lots(conn, run)[0]


def list_lots(session: Session, actor: object, query: LotFilter | object = None) -> LotPage:
    """Juice lots newest first, in pages (a stable order and a cursor); only those whose
    cost is incomplete with ``incomplete``, only one year's with ``season``."""
    who = require(actor, Action.READ)
    wanted = parse(LotFilter, {} if query is None else query)
    after = (
        decode_cursor(wanted.after, returned_by="list_lots") if wanted.after is not None else None
    )
    statement = lot_list(
        limit=wanted.limit, incomplete=wanted.incomplete, season=wanted.season, after=after
    )
    with read_connection(session, who.user_id) as conn:
        rows = conn.execute(statement).mappings().all()
    page = [
        LotSummary.model_validate({**row, "complete": row["total_cost"] is not None})
        for row in rows[: wanted.limit]
    ]
    more = len(rows) > wanted.limit
    cursor = encode_cursor(page[-1].created_at, page[-1].batch_id) if more else None
    return LotPage(items=page, next_cursor=cursor)


# --- recomputing --------------------------------------------------------------------------


def recompute_costs(
    session: Session, actor: object, run_id: Id, data: CostRecompute | object
) -> RecomputedCosts:
    """Cost a completed run's lots again (admins only), from the prices its lines have now,
    optionally at a new labor rate or with new labor hours (kept on the run), with a
    reason. Each lot's ``batch_costs`` row is updated and its fruit and labor cost items
    replaced; every change is audited with its old and new row and the reason.

    Refused: a run not completed (:class:`InvalidTransition`), one completed without
    juice lots (before they were recorded), a run with no labor rate stored or given.
    """
    who = require(actor, Action.RECOMPUTE_COSTS)
    run_uuid = identifier(run_id, "run_id")
    wanted = parse(CostRecompute, data)
    with writing(session, who.user_id):
        conn = session.connection()
        run = conn.execute(queries.LOCK_RUN, {"run_id": run_uuid}).mappings().first()
        if run is None:
            raise NotFound("press run", run_uuid)
        if run["status"] != PressRunStatus.COMPLETED:
            raise InvalidTransition(
                f"cannot recompute the costs of press run {run_uuid}: it is "
                f"{run['status'].value}, and only a completed run has juice lots",
                status=run["status"].value,
            )
        if not conn.execute(RUN_LOT_COUNT, {"run_id": run_uuid}).scalar_one():
            raise InvalidTransition(
                f"press run {run_uuid} was completed before juice lots were recorded: "
                "it has no lots to cost",
                status=run["status"].value,
            )
        given = {"labor_rate": wanted.labor_rate, "labor_hours": wanted.labor_hours}
        changes = {
            name: value for name, value in given.items() if value is not None and value != run[name]
        }
        if run["labor_rate"] is None and "labor_rate" not in changes:
            raise InvalidInput.of("labor_rate", f"press run {run_uuid} has no labor rate: give one")
        entries = []
        if changes:
            run, entry = _update(conn, runs, run, who.user_id, wanted.reason, **changes)
            entries.append(entry)
        entries.extend(write_costs(session, run, who.user_id, wanted.reason))
        audit.write(session, *entries)
        lots = lots_of_run(session, run)
    log.info("costs of press run %s recomputed: %s", run_uuid, wanted.reason)
    return RecomputedCosts(run=read_row(PressRunRead, run), lots=lots)
