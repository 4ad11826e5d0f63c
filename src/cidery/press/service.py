"""The press-run workflow: start, add loads, resume, complete, cancel, correct.

Every function takes a SQLAlchemy session and the acting user's id, and never
commits: the caller owns the transaction, so several calls compose into one
and a test can roll everything back. Each mutation runs inside a savepoint, so
a refused call leaves the caller's transaction exactly as it was.

Rules hold under concurrency because the database serialises what matters:

* the run's row is locked (``FOR UPDATE``) by every change to the run or its
  loads, so load numbers are assigned one at a time and a run cannot be
  completed while a load is being added;
* the purchase line's row is locked while its remaining fruit is computed and
  a load drawn on it, so two operators cannot both take the last 100 kg;
* the destination vessel's row is locked when a run is completed into it.

Locks are always taken in that order (run, purchase line, vessel), so two
calls cannot deadlock each other. A lock or serialisation failure surfaces as
:class:`~cidery.press.errors.Conflict` (retryable), never as a raw database error.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar, cast

from psycopg import errors as pg_errors
from pydantic import BaseModel, ValidationError
from sqlalchemy import (
    BindParameter,
    Select,
    Table,
    bindparam,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from cidery import audit
from cidery.models import (
    AppleVariety,
    PressRun,
    PressRunLoad,
    Purchase,
    PurchaseItem,
    Vendor,
    Vessel,
)
from cidery.models.enums import AuditOperation, PressRunStatus, Unit, VesselStatus
from cidery.models.pressing import MAX_EXTRACTION_RATE
from cidery.press import queries
from cidery.press.errors import (
    Conflict,
    ImplausibleYield,
    InsufficientFruit,
    InvalidInput,
    InvalidTransition,
    NoLoads,
    NotFound,
    PressError,
    VendorInactive,
    VendorMismatch,
    VesselTooSmall,
    VesselUnavailable,
)
from cidery.press.rules import MAX_PAGE, YIELD_BAND, YIELD_HIGH, YIELD_LOW
from cidery.press.schemas import (
    AvailableFruit,
    CompletedRun,
    PressRunComplete,
    PressRunCreate,
    PressRunDetail,
    PressRunLoadCreate,
    PressRunLoadRead,
    PressRunRead,
    PressRunSummary,
    RunPage,
    VarietyTotal,
)

_runs = cast(Table, PressRun.__table__)
_loads = cast(Table, PressRunLoad.__table__)
_items = cast(Table, PurchaseItem.__table__)
_vessels = cast(Table, Vessel.__table__)
_vendors = cast(Table, Vendor.__table__)

Model = TypeVar("Model", bound=BaseModel)
Id = uuid.UUID | str


# --- plumbing -------------------------------------------------------------------------


def _validate(model: type[Model], **values: Any) -> Model:
    try:
        return model(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or model.__name__
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None


def _uuid(value: Id, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(f"{what}: {value!r} is not a valid id", field=what) from None


def _constraint_name(exc: DBAPIError) -> str:
    diag = getattr(exc.orig, "diag", None)
    return str(getattr(diag, "constraint_name", "") or "")


@contextmanager
def _writing(session: Session, actor: uuid.UUID | None) -> Iterator[None]:
    """A savepoint around one call's writes, translating database refusals."""
    try:
        with session.begin_nested():
            yield
    except IntegrityError as exc:
        name = _constraint_name(exc)
        if name.endswith(("_created_by_fkey", "_updated_by_fkey", "_changed_by_fkey")):
            raise NotFound("user", str(actor)) from exc
        raise PressError(
            f"the database refused the change ({name or 'a constraint'})", constraint=name
        ) from exc
    except DBAPIError as exc:
        if isinstance(
            exc.orig,
            pg_errors.LockNotAvailable
            | pg_errors.DeadlockDetected
            | pg_errors.SerializationFailure
            | pg_errors.QueryCanceled,
        ):
            raise Conflict(
                "another operator's change held this record; try again",
                reason=type(exc.orig).__name__,
            ) from exc
        raise


def _live(table: Any, id_: uuid.UUID | BindParameter[Any]) -> Select[Any]:
    return select(table).where(table.c.id == id_, table.c.deleted_at.is_(None))


# The run's row lock, built once: every change to a run or its loads starts with it.
_LOCK_RUN = _live(_runs, bindparam("run_id")).with_for_update()


def _lock_run(session: Session, run_id: uuid.UUID) -> RowMapping:
    row = session.connection().execute(_LOCK_RUN, {"run_id": run_id}).mappings().first()
    if row is None:
        raise NotFound("press run", run_id)
    return row


def _update(
    session: Session,
    table: Table,
    old: RowMapping,
    actor: uuid.UUID | None,
    reason: str | None,
    **values: Any,
) -> tuple[RowMapping, dict[str, Any]]:
    """UPDATE the row ``old`` (by id); return the new row and its audit entry.

    The caller writes the entries of one call together (:func:`cidery.audit.write`).
    """
    if "updated_by" in table.c:
        values.setdefault("updated_by", actor)
    new = (
        session.execute(
            update(table).where(table.c.id == old["id"]).values(values).returning(table)
        )
        .mappings()
        .one()
    )
    entry = audit.entry(
        table=table.name,
        record_id=old["id"],
        operation=AuditOperation.UPDATE,
        actor=actor,
        old=old,
        new=new,
        reason=reason,
    )
    return new, entry


def _require_open(run: RowMapping, action: str) -> None:
    if run["status"] != PressRunStatus.IN_PROGRESS:
        raise InvalidTransition(
            f"cannot {action} press run {run['id']}: it is {run['status'].value}",
            status=run["status"].value,
        )


def _append_note(existing: str | None, note: str | None) -> str | None:
    if not note:
        return existing
    return f"{existing}\n{note}" if existing else note


# --- starting and loading -------------------------------------------------------------


def start_run(
    session: Session,
    actor: uuid.UUID | None,
    vendor_id: Id,
    *,
    start_time: datetime | None = None,
    notes: str | None = None,
) -> PressRunRead:
    """Open a run for one grower's fruit; the grower must exist and be active."""
    data = _validate(PressRunCreate, vendor_id=vendor_id, start_time=start_time, notes=notes)
    with _writing(session, actor):
        vendor = session.execute(_live(_vendors, data.vendor_id)).mappings().first()
        if vendor is None:
            raise NotFound("vendor", data.vendor_id)
        if not vendor["is_active"]:
            raise VendorInactive(
                f"vendor {vendor['name']!r} is inactive: reactivate it before pressing its fruit"
            )
        values: dict[str, Any] = {
            "vendor_id": data.vendor_id,
            "notes": data.notes,
            "created_by": actor,
            "updated_by": actor,
        }
        if data.start_time is not None:
            values["start_time"] = data.start_time
        run = session.execute(insert(_runs).values(values).returning(_runs)).mappings().one()
        audit.record(
            session,
            table="press_runs",
            record_id=run["id"],
            operation=AuditOperation.INSERT,
            actor=actor,
            new=run,
        )
    return PressRunRead.model_validate(run)


# add_load's statements, built once: it is the hot path (every load of every operator).
_LOCK_LINE = (
    select(_items.c.id, _items.c.apple_variety_id, _items.c.quantity_kg, Purchase.vendor_id)
    .join(Purchase, Purchase.id == _items.c.purchase_id)
    .where(
        _items.c.id == bindparam("item_id"),
        _items.c.deleted_at.is_(None),
        Purchase.deleted_at.is_(None),
    )
    .with_for_update(of=_items)
)
_PRESSED = queries.pressed_weight(bindparam("item_ids", expanding=True))
_NEXT_SEQUENCE = (
    select(func.coalesce(func.max(_loads.c.load_sequence), 0) + 1)
    .where(_loads.c.press_run_id == bindparam("sequence_run_id"))
    .scalar_subquery()
)
_INSERT_LOAD = insert(_loads).values(load_sequence=_NEXT_SEQUENCE).returning(_loads)
_ADD_TO_RUN = (
    update(_runs)
    .where(_runs.c.id == bindparam("target_run_id"))
    .values(
        total_apple_weight_kg=_runs.c.total_apple_weight_kg + bindparam("added_kg"),
        updated_by=bindparam("actor_id"),
    )
    .returning(_runs)
)


def add_load(
    session: Session,
    actor: uuid.UUID | None,
    run_id: Id,
    purchase_item_id: Id,
    weight: Decimal | int | str,
    unit: str,
    *,
    brix: Decimal | None = None,
    ph: Decimal | None = None,
    juice_volume_l: Decimal | None = None,
    notes: str | None = None,
    pressed_at: datetime | None = None,
) -> PressRunLoadRead:
    """Record one load, drawn on one purchase line of the run's grower; saved at once.

    The purchase line must have the fruit: its ``quantity_kg`` minus every live
    load of every run not cancelled that draws on it.
    """
    run_uuid = _uuid(run_id, "run_id")
    data = _validate(
        PressRunLoadCreate,
        purchase_item_id=purchase_item_id,
        weight=weight,
        weight_unit=unit,
        brix=brix,
        ph=ph,
        juice_volume_l=juice_volume_l,
        notes=notes,
        pressed_at=pressed_at,
    )
    weight_kg = data.weight_kg
    if weight_kg <= 0:
        raise InvalidInput(
            f"weight: {data.weight} {data.weight_unit.value} is less than 1 g", field="weight"
        )
    with _writing(session, actor):
        # The statements built once above, executed on the session's connection: the
        # app's hot path only binds values, and skips the ORM's execute layer.
        # _writing's begin_nested() has flushed the session: nothing pending is missed.
        conn = session.connection()
        run = _lock_run(session, run_uuid)
        _require_open(run, "add a load to")
        item = conn.execute(_LOCK_LINE, {"item_id": data.purchase_item_id}).first()
        if item is None:
            raise NotFound("purchase line", data.purchase_item_id)
        if item.vendor_id != run["vendor_id"]:
            raise VendorMismatch(
                f"purchase line {item.id} was bought from another grower than this run's",
                purchase_item_id=str(item.id),
            )
        if item.quantity_kg is None:
            raise InvalidInput(
                f"purchase line {item.id} was bought by volume, not by weight: it has no fruit",
                field="purchase_item_id",
            )
        pressed = conn.execute(_PRESSED, {"item_ids": [item.id]}).first()
        remaining = item.quantity_kg - (pressed.pressed_kg if pressed else Decimal(0))
        if weight_kg > remaining:
            raise InsufficientFruit(item.id, weight_kg, remaining)
        values: dict[str, Any] = {
            "press_run_id": run_uuid,
            "sequence_run_id": run_uuid,
            "purchase_item_id": item.id,
            "apple_variety_id": item.apple_variety_id,
            "weight": data.weight,
            "weight_unit": Unit(data.weight_unit.value),
            "weight_kg": weight_kg,
            "juice_volume_l": data.juice_volume_l,
            "brix": data.brix,
            "ph": data.ph,
            "notes": data.notes,
            "created_by": actor,
            "updated_by": actor,
        }
        if data.pressed_at is not None:
            values["pressed_at"] = data.pressed_at
        load = conn.execute(_INSERT_LOAD, values).mappings().one()
        updated = (
            conn.execute(
                _ADD_TO_RUN, {"target_run_id": run_uuid, "added_kg": weight_kg, "actor_id": actor}
            )
            .mappings()
            .one()
        )
        # Both audit rows in one round trip.
        audit.write(
            session,
            audit.entry(
                table="press_run_loads",
                record_id=load["id"],
                operation=AuditOperation.INSERT,
                actor=actor,
                new=load,
            ),
            audit.entry(
                table="press_runs",
                record_id=run_uuid,
                operation=AuditOperation.UPDATE,
                actor=actor,
                old=run,
                new=updated,
            ),
        )
    return PressRunLoadRead.model_validate(load)


def void_load(session: Session, actor: uuid.UUID | None, load_id: Id, reason: str) -> None:
    """Take back a load of an in-progress run (soft delete); its fruit becomes available again.

    The other loads keep their numbers; the voided one's number is not reused.
    """
    load_uuid = _uuid(load_id, "load_id")
    reason = _reason(reason)
    with _writing(session, actor):
        found = session.execute(
            select(_loads.c.press_run_id).where(_loads.c.id == load_uuid)
        ).first()
        if found is None:
            raise NotFound("load", load_uuid)
        run = _lock_run(session, found.press_run_id)
        _require_open(run, "void a load of")
        load = session.execute(_live(_loads, load_uuid).with_for_update()).mappings().first()
        if load is None:
            raise InvalidTransition(f"load {load_uuid} is already voided")
        _, voided_entry = _update(session, _loads, load, actor, reason, deleted_at=func.now())
        _, run_entry = _update(
            session,
            _runs,
            run,
            actor,
            reason,
            total_apple_weight_kg=_runs.c.total_apple_weight_kg - load["weight_kg"],
        )
        audit.write(session, voided_entry, run_entry)


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason: say why (it goes into the audit log)", field="reason")
    if len(reason) > 4000:
        raise InvalidInput("reason: at most 4000 characters", field="reason")
    return reason.strip()


# --- finishing --------------------------------------------------------------------------


def complete_run(
    session: Session,
    actor: uuid.UUID | None,
    run_id: Id,
    juice_volume: Decimal | int | str,
    unit: str,
    vessel_id: Id,
    *,
    labor_hours: Decimal | None = None,
    worker_count: int | None = None,
    notes: str | None = None,
    end_time: datetime | None = None,
) -> CompletedRun:
    """Finish a run into an available vessel that can hold its juice.

    A yield outside 0.40-0.85 L/kg is accepted with a warning; one above
    1.2 L/kg is refused as impossible (pounds entered as kilograms).
    """
    run_uuid = _uuid(run_id, "run_id")
    data = _validate(
        PressRunComplete,
        juice_volume=juice_volume,
        juice_volume_unit=unit,
        vessel_id=vessel_id,
        labor_hours=labor_hours,
        worker_count=worker_count,
        notes=notes,
        end_time=end_time,
    )
    juice_l = data.juice_volume_l
    with _writing(session, actor):
        run = _lock_run(session, run_uuid)
        _require_open(run, "complete")
        if data.end_time is not None and data.end_time < run["start_time"]:
            raise InvalidInput(
                f"end_time: {data.end_time.isoformat()} is before the run started "
                f"({run['start_time'].isoformat()})",
                field="end_time",
            )
        count, total_kg = session.execute(
            select(func.count(), func.coalesce(func.sum(_loads.c.weight_kg), 0)).where(
                _loads.c.press_run_id == run_uuid, _loads.c.deleted_at.is_(None)
            )
        ).one()
        if count == 0:
            raise NoLoads(f"press run {run_uuid} has no loads: add one or cancel the run")
        vessel = (
            session.execute(_live(_vessels, data.vessel_id).with_for_update()).mappings().first()
        )
        if vessel is None:
            raise NotFound("vessel", data.vessel_id)
        if vessel["status"] != VesselStatus.AVAILABLE:
            raise VesselUnavailable(
                f"vessel {vessel['name']!r} is {vessel['status'].value}, not available",
                vessel_id=str(vessel["id"]),
                status=vessel["status"].value,
            )
        if juice_l > vessel["capacity_l"]:
            raise VesselTooSmall(
                f"vessel {vessel['name']!r} holds {vessel['capacity_l']} L; "
                f"the run gave {juice_l} L",
                capacity_l=str(vessel["capacity_l"]),
                juice_l=str(juice_l),
            )
        # Rounded as the generated column rounds (half away from zero), so the
        # limit and the warning judge the rate the database will store.
        rate = (juice_l / total_kg).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        if rate > MAX_EXTRACTION_RATE:
            raise ImplausibleYield(
                f"{juice_l} L from {total_kg} kg is {rate} L/kg, more juice than fruit can "
                "give: were pounds entered as kilograms?",
                extraction_rate=str(rate),
            )
        values: dict[str, Any] = {
            "status": PressRunStatus.COMPLETED,
            # now() is when the transaction began: not before a start recorded later in it.
            "end_time": (
                data.end_time
                if data.end_time is not None
                else func.greatest(func.now(), _runs.c.start_time)
            ),
            "vessel_id": data.vessel_id,
            "total_apple_weight_kg": total_kg,
            "juice_volume": data.juice_volume,
            "juice_volume_unit": Unit(data.juice_volume_unit.value),
            "total_juice_volume_l": juice_l,
            "labor_hours": data.labor_hours,
            "worker_count": data.worker_count,
            "notes": _append_note(run["notes"], data.notes),
            "updated_by": actor,
        }
        completed, run_entry = _update(session, _runs, run, actor, None, **values)
        _, vessel_entry = _update(
            session, _vessels, vessel, actor, None, status=VesselStatus.IN_USE
        )
        audit.write(session, run_entry, vessel_entry)
    warnings = []
    if not YIELD_LOW <= rate <= YIELD_HIGH:
        warnings.append(
            f"yield {rate} L/kg is outside the usual {YIELD_BAND}: "
            "check the weights' units and the juice volume"
        )
    return CompletedRun(run=PressRunRead.model_validate(completed), warnings=warnings)


def cancel_run(session: Session, actor: uuid.UUID | None, run_id: Id, reason: str) -> PressRunRead:
    """Abandon an in-progress run; the fruit of its loads becomes available again."""
    run_uuid = _uuid(run_id, "run_id")
    reason = _reason(reason)
    with _writing(session, actor):
        run = _lock_run(session, run_uuid)
        _require_open(run, "cancel")
        cancelled, entry = _update(
            session,
            _runs,
            run,
            actor,
            reason,
            status=PressRunStatus.CANCELLED,
            end_time=func.greatest(func.now(), _runs.c.start_time),
            notes=_append_note(run["notes"], f"Cancelled: {reason}"),
        )
        audit.write(session, entry)
    return PressRunRead.model_validate(cancelled)


# --- reading ----------------------------------------------------------------------------


def get_run(session: Session, run_id: Id) -> PressRunDetail:
    """A run to resume: its live loads in sequence and running totals."""
    run_uuid = _uuid(run_id, "run_id")
    run = session.execute(_live(_runs, run_uuid)).mappings().first()
    if run is None:
        raise NotFound("press run", run_uuid)
    loads = [
        PressRunLoadRead.model_validate(row)
        for row in session.execute(
            select(_loads)
            .where(_loads.c.press_run_id == run_uuid, _loads.c.deleted_at.is_(None))
            .order_by(_loads.c.load_sequence)
        ).mappings()
    ]
    # Not dict(result.tuples()): in SQLAlchemy 2.1 a Result has keys(), so dict()
    # takes it for a mapping and fails.
    names: dict[uuid.UUID, str] = {
        row.id: row.name
        for row in session.execute(
            select(AppleVariety.id, AppleVariety.name).where(
                AppleVariety.id.in_({load.apple_variety_id for load in loads})
            )
        )
    }
    by_variety: dict[uuid.UUID, VarietyTotal] = {}
    for load in loads:
        total = by_variety.get(load.apple_variety_id)
        by_variety[load.apple_variety_id] = VarietyTotal(
            apple_variety_id=load.apple_variety_id,
            variety_name=names.get(load.apple_variety_id, "?"),
            load_count=(total.load_count if total else 0) + 1,
            weight_kg=(total.weight_kg if total else Decimal(0)) + load.weight_kg,
        )
    return PressRunDetail(
        run=PressRunRead.model_validate(run),
        loads=loads,
        load_count=len(loads),
        total_weight_kg=sum((load.weight_kg for load in loads), Decimal("0.000")),
        varieties=sorted(by_variety.values(), key=lambda v: v.variety_name),
    )


def _summaries() -> Select[Any]:
    load_count = (
        select(func.count())
        .where(_loads.c.press_run_id == _runs.c.id, _loads.c.deleted_at.is_(None))
        .scalar_subquery()
    )
    return (
        select(
            _runs.c.id,
            _runs.c.vendor_id,
            _vendors.c.name.label("vendor_name"),
            _runs.c.vessel_id,
            _runs.c.status,
            _runs.c.start_time,
            _runs.c.end_time,
            load_count.label("load_count"),
            _runs.c.total_apple_weight_kg,
            _runs.c.total_juice_volume_l,
            _runs.c.extraction_rate,
        )
        .join(_vendors, _vendors.c.id == _runs.c.vendor_id)
        .where(_runs.c.deleted_at.is_(None))
    )


def _encode_cursor(start_time: datetime, id_: uuid.UUID) -> str:
    raw = json.dumps([start_time.isoformat(), str(id_)]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        start, id_ = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        moment, run_id = datetime.fromisoformat(start), uuid.UUID(id_)
    except (ValueError, TypeError, binascii.Error):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput("after: not a cursor returned by list_runs", field="after")
    return moment, run_id


def list_runs(
    session: Session,
    *,
    status: PressRunStatus | str | None = None,
    vendor_id: Id | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    after: str | None = None,
) -> RunPage:
    """Runs newest first, in pages: a stable order (start time, then id) and a cursor."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: between 1 and {MAX_PAGE}", field="limit")
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and (not isinstance(moment, datetime) or moment.tzinfo is None):
            raise InvalidInput(f"{name}: a datetime with a time zone", field=name)
    query = _summaries()
    if status is not None:
        try:
            query = query.where(_runs.c.status == PressRunStatus(status))
        except ValueError:
            raise InvalidInput(
                f"status: one of {', '.join(s.value for s in PressRunStatus)}", field="status"
            ) from None
    if vendor_id is not None:
        query = query.where(_runs.c.vendor_id == _uuid(vendor_id, "vendor_id"))
    if since is not None:
        query = query.where(_runs.c.start_time >= since)
    if until is not None:
        query = query.where(_runs.c.start_time < until)
    if after is not None:
        start, id_ = _decode_cursor(after)
        query = query.where(tuple_(_runs.c.start_time, _runs.c.id) < tuple_(start, id_))
    rows = session.execute(
        query.order_by(_runs.c.start_time.desc(), _runs.c.id.desc()).limit(limit + 1)
    ).mappings()
    items = [PressRunSummary.model_validate(row) for row in rows]
    more = len(items) > limit
    items = items[:limit]
    cursor = _encode_cursor(items[-1].start_time, items[-1].id) if more else None
    return RunPage(items=items, next_cursor=cursor)


def available_fruit(
    session: Session, *, vendor_id: Id | None = None, variety_id: Id | None = None
) -> list[AvailableFruit]:
    """Purchase lines with fruit left to press, for the variety picker."""
    query = queries.available_fruit(
        _uuid(vendor_id, "vendor_id") if vendor_id is not None else None,
        _uuid(variety_id, "variety_id") if variety_id is not None else None,
    )
    return [AvailableFruit.model_validate(row) for row in session.execute(query).mappings()]


def yield_outliers(
    session: Session, *, low: Decimal = YIELD_LOW, high: Decimal = YIELD_HIGH
) -> list[PressRunSummary]:
    """Completed runs whose yield is outside ``[low, high]`` L/kg, newest first."""
    query = _summaries().where(
        _runs.c.status == PressRunStatus.COMPLETED,
        or_(_runs.c.extraction_rate < low, _runs.c.extraction_rate > high),
    )
    rows = session.execute(query.order_by(_runs.c.start_time.desc(), _runs.c.id.desc()))
    return [PressRunSummary.model_validate(row) for row in rows.mappings()]
