"""Changing press runs: start, add a load, correct or void a load, cancel (completing a
run into its juice lots: :mod:`cidery.press.completion`).

Every function takes a SQLAlchemy session, the acting
:class:`~cidery.press.access.Actor` and a typed input (a model, or a mapping
validated into one), checks the actor's permission, and never commits: the
caller owns the transaction, so several calls compose into one and a test can
roll everything back. Each call's writes run inside a savepoint (``add_load``:
inside the database function's own block, see its docstring), so a refused
call leaves the caller's transaction exactly as it was, and each change writes
its audit rows in the same transaction.

Rules hold under concurrency, at every isolation level, because the database
serialises what matters:

* the run's row is locked (``FOR UPDATE``) by every change to the run or its
  loads, so load numbers are assigned one at a time and a run cannot be
  completed while a load is being added;
* the purchase line's row is locked while its remaining fruit is read and a
  load drawn on it; drawing updates that row (``pressed_kg``, kept by the
  database's triggers), so under REPEATABLE READ or SERIALIZABLE a second
  transaction that waited for the line fails to serialise instead of reading
  an old figure, and a CHECK refuses an over-allocation whatever happens;
* the destination vessels' rows are locked, in id order, when a run is completed into
  them (:mod:`cidery.press.completion`).

Locks are always taken in that order (run, purchase line, vessels; a load moved
to another line locks both lines, in id order), so two calls cannot deadlock
each other. A lock or serialisation failure surfaces as
:class:`~cidery.press.errors.Conflict` (retryable), never as a raw database error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Numeric, String, Table, func, insert, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from cidery import audit
from cidery.db.compiled import Compiled
from cidery.models.enums import AuditOperation, PressRunStatus, Unit
from cidery.press import queries
from cidery.press.access import Action, require
from cidery.press.errors import (
    InsufficientFruit,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PressError,
    VendorInactive,
    VendorMismatch,
    bought_by_volume,
)
from cidery.press.inputs import Id, identifier, parse
from cidery.press.reads import run_detail
from cidery.press.rules import (
    MAX_AMOUNT,
)
from cidery.press.schemas import (
    LoadCorrection,
    LoadVoid,
    PressRunCancel,
    PressRunCreate,
    PressRunDetail,
    PressRunLoadCreate,
    PressRunLoadRead,
    PressRunRead,
    WeightUnit,
    net_weight,
    read_row,
)
from cidery.press.translate import from_sqlstate, reading, writing
from cidery.units import to_canonical

log = logging.getLogger(__name__)

runs, loads = queries.runs, queries.loads

# add_load is the hot path (every load of every operator): one call of the database's
# press_add_load() (revisions 0004, 0007, 0009, 0011), which locks, checks, inserts, totals
# and audits in one round trip; the load comes back as the columns of press_run_loads after the
# refusal's. Sent beneath SQLAlchemy (cidery.db.compiled): its result processing of 25
# columns cost more client time than the call's round trip.
_ADD_LOAD = Compiled(
    text(
        "SELECT * FROM press_add_load(:run_id, :item_id, :weight, CAST(:weight_unit AS unit), "
        ":weight_kg, :gross_weight, :tare_weight, :juice_volume_l, :brix, :ph, :notes, "
        ":pressed_at, :actor_id, :max_total)"
    ).columns(
        refusal=String,
        detail=String,
        figure=Numeric,
        error_state=String,
        error_constraint=String,
        **{column.name: column.type for column in loads.c},
    )
)


# press_add_load() refuses a load's time after the database's clock or before the run's
# start (revision 0011) as this SQLSTATE (datetime_field_overflow), with the bound in its
# message: an app of the revision before reads it as invalid input too, without the field.
_PRESSED_AT_OUTSIDE_THE_RUN = "22008"


# --- plumbing -----------------------------------------------------------------------------


def _lock_run(conn: Connection, run_id: uuid.UUID, action: str) -> RowMapping:
    """The run's row, locked; it must exist and be in progress."""
    run = conn.execute(queries.LOCK_RUN, {"run_id": run_id}).mappings().first()
    if run is None:
        raise NotFound("press run", run_id)
    if run["status"] != PressRunStatus.IN_PROGRESS:
        raise _not_in_progress(run["id"], run["status"].value, action)
    return run


def _update(
    conn: Connection,
    table: Table,
    old: RowMapping,
    actor_id: uuid.UUID | None,
    reason: str | None,
    **values: Any,
) -> tuple[RowMapping, dict[str, Any]]:
    """UPDATE the row ``old`` (by id); return the new row and its audit entry.

    The caller writes the entries of one call together (:func:`cidery.audit.write`).
    """
    if "updated_by" in table.c:
        values.setdefault("updated_by", actor_id)
    statement = update(table).where(table.c.id == old["id"]).values(values).returning(table)
    new = conn.execute(statement).mappings().one()
    entry = audit.entry(
        table=table.name,
        record_id=old["id"],
        operation=AuditOperation.UPDATE,
        actor=actor_id,
        old=old,
        new=new,
        reason=reason,
    )
    return new, entry


def _append_note(existing: str | None, note: str | None) -> str | None:
    if not note:
        return existing
    return f"{existing}\n{note}" if existing else note


def _inactive(vendor_name: str) -> VendorInactive:
    # One wording for start_run and add_load: the picker leaves inactive growers out.
    return VendorInactive(
        f"vendor {vendor_name!r} is inactive: reactivate it before pressing its fruit"
    )


def _mismatch(item_id: uuid.UUID) -> VendorMismatch:
    # One wording for add_load and correct_load.
    return VendorMismatch(
        f"purchase line {item_id} was bought from another grower than this run's",
        purchase_item_id=str(item_id),
    )


def _weight_kg(weight: Decimal, unit: WeightUnit, *, tagged: bool = False) -> Decimal:
    """``weight`` in ``unit`` as the kilograms stored (:func:`cidery.units.to_canonical`);
    a weight below the stored gram is refused, at ``tare_weight`` when it is the net of
    a weigh tag (``tagged``)."""
    kg = to_canonical(weight, Unit(unit.value))
    if kg <= 0:
        if tagged:
            raise InvalidInput.of(
                "tare_weight", f"gross less tare is {weight} {unit.value}, less than 1 g"
            )
        raise InvalidInput.of("weight", f"{weight} {unit.value} is less than 1 g")
    return kg


def _not_in_progress(run_id: uuid.UUID, status: str, action: str) -> InvalidTransition:
    return InvalidTransition(f"cannot {action} press run {run_id}: it is {status}", status=status)


def _too_large(field: str, amount: Decimal, what: str) -> InvalidInput:
    return InvalidInput.of(field, f"{what} would be {amount}, more than {MAX_AMOUNT} can be kept")


def _within_column(field: str, amount: Decimal, what: str) -> None:
    if amount > MAX_AMOUNT:
        raise _too_large(field, amount, what)


# --- starting and loading -----------------------------------------------------------------


def start_run(session: Session, actor: object, data: PressRunCreate | object) -> PressRunRead:
    """Open a run for one grower's fruit; the grower must exist and be active."""
    who = require(actor, Action.START)
    wanted = parse(PressRunCreate, data)
    with writing(session, who.user_id):
        conn = session.connection()
        vendor = conn.execute(queries.VENDOR, {"vendor_id": wanted.vendor_id}).mappings().first()
        if vendor is None:
            raise NotFound("vendor", wanted.vendor_id)
        if not vendor["is_active"]:
            raise _inactive(vendor["name"])
        values: dict[str, Any] = {
            "vendor_id": wanted.vendor_id,
            "notes": wanted.notes,
            "created_by": who.user_id,
            "updated_by": who.user_id,
        }
        if wanted.start_time is not None:
            values["start_time"] = wanted.start_time
        run = conn.execute(insert(runs).values(values).returning(runs)).mappings().one()
        audit.record(
            session,
            table="press_runs",
            record_id=run["id"],
            operation=AuditOperation.INSERT,
            actor=who.user_id,
            new=run,
        )
    log.info("press run %s started for vendor %s", run["id"], wanted.vendor_id)
    return read_row(PressRunRead, run)


def _refused(
    row: Mapping[str, Any],
    run_id: uuid.UUID,
    wanted: PressRunLoadCreate,
    actor_id: uuid.UUID | None,
) -> PressError:
    """The error press_add_load's refusal stands for, with the figures it returned."""
    item_id = wanted.purchase_item_id
    refusal = row["refusal"]
    if refusal == "run_not_found":
        return NotFound("press run", run_id)
    if refusal == "run_not_in_progress":
        return _not_in_progress(run_id, row["detail"], "add a load to")
    if refusal == "run_total_too_large":
        return _too_large("weight", row["figure"], "the run's total kg")
    if refusal == "line_not_found":
        return NotFound("purchase line", item_id)
    if refusal == "vendor_mismatch":
        return _mismatch(item_id)
    if refusal == "vendor_inactive":
        return _inactive(row["detail"])
    if refusal == "bought_by_volume":
        return bought_by_volume(item_id)
    if refusal == "insufficient_fruit":
        return InsufficientFruit(item_id, wanted.weight_kg, row["figure"])
    if refusal == "database_error" and row["error_state"] == _PRESSED_AT_OUTSIDE_THE_RUN:
        return InvalidInput.of("pressed_at", row["detail"])
    if refusal == "database_error":
        return from_sqlstate(row["error_state"], row["error_constraint"], row["detail"], actor_id)
    raise AssertionError(f"press_add_load returned an unknown refusal {refusal!r}")


def add_load(
    session: Session, actor: object, run_id: Id, data: PressRunLoadCreate | object
) -> PressRunLoadRead:
    """Record one load, drawn on one purchase line of the run's grower; saved at once.

    The purchase line must have the fruit: its ``quantity_kg`` minus what live loads
    of runs neither cancelled nor deleted have drawn on it (``pressed_kg``) and what was
    written off as waste (``written_off_kg``). A load weighed with a weigh tag keeps its
    gross and tare, and weighs their difference.

    The database does the work in one call (``press_add_load``, revisions 0004, 0007, 0009
    and 0011): it locks the run, then the line, checks them (and the load's time: not more
    than ten minutes after the database's clock or before the run's start), inserts the load
    with the run's next number, adds it to the run's total and writes both audit rows. A
    refusal, or an error the database raised while writing, is returned with nothing
    written, so no savepoint is needed for the caller's transaction to stay usable; only a
    cancelled statement or a lost connection ends it.
    """
    who = require(actor, Action.ADD_LOAD)
    run_uuid = identifier(run_id, "run_id")
    wanted = parse(PressRunLoadCreate, data)
    weight = wanted.net_weight
    weight_kg = _weight_kg(weight, wanted.weight_unit, tagged=wanted.tagged)
    values = {
        "run_id": run_uuid,
        "item_id": wanted.purchase_item_id,
        "weight": weight,
        "weight_unit": wanted.weight_unit.value,
        "weight_kg": weight_kg,
        "gross_weight": wanted.gross_weight,
        "tare_weight": wanted.tare_weight,
        "juice_volume_l": wanted.juice_volume_l,
        "brix": wanted.brix,
        "ph": wanted.ph,
        "notes": wanted.notes,
        "pressed_at": wanted.pressed_at,
        "actor_id": who.user_id,
        "max_total": MAX_AMOUNT,
    }
    # What the caller added to the session is written first, as a savepoint's flush did.
    session.flush()
    with reading(who.user_id):
        (row,) = _ADD_LOAD.rows(session.connection(), values)
    if row["refusal"] is not None:
        error = _refused(row, run_uuid, wanted, who.user_id)
        log.info("press call refused: %s", error.code)
        raise error
    log.info("load %s of %s kg added to press run %s", row["load_sequence"], weight_kg, run_uuid)
    return read_row(PressRunLoadRead, row)


def _run_of_load(conn: Connection, load_id: uuid.UUID, run_id: uuid.UUID | None) -> uuid.UUID:
    """The run a load belongs to; :class:`NotFound` if none, or if not ``run_id``."""
    found = conn.execute(queries.LOAD_RUN, {"load_id": load_id}).first()
    if found is None or (run_id is not None and found.press_run_id != run_id):
        raise NotFound("load", load_id)
    press_run_id: uuid.UUID = found.press_run_id
    return press_run_id


def void_load(
    session: Session,
    actor: object,
    load_id: Id,
    data: LoadVoid | object,
    *,
    run_id: Id | None = None,
) -> PressRunDetail:
    """Take back a load of an in-progress run (soft delete); its fruit becomes available
    again. Returns the run as it now is.

    The other loads keep their numbers; the voided one's number is not reused. With
    ``run_id`` (an address such as ``/press-runs/{run}/loads/{load}``), a load of
    another run is :class:`NotFound`.
    """
    who = require(actor, Action.VOID_LOAD)
    load_uuid = identifier(load_id, "load_id")
    run_uuid = identifier(run_id, "run_id") if run_id is not None else None
    wanted = parse(LoadVoid, data)
    with writing(session, who.user_id):
        conn = session.connection()
        run = _lock_run(conn, _run_of_load(conn, load_uuid, run_uuid), "void a load of")
        load = conn.execute(queries.LOCK_LOAD, {"load_id": load_uuid}).mappings().first()
        if load is None:
            raise InvalidTransition(f"load {load_uuid} is already voided")
        _, voided = _update(conn, loads, load, who.user_id, wanted.reason, deleted_at=func.now())
        _, changed = _update(
            conn,
            runs,
            run,
            who.user_id,
            wanted.reason,
            total_apple_weight_kg=runs.c.total_apple_weight_kg - load["weight_kg"],
        )
        audit.write(session, voided, changed)
        detail = run_detail(session, run["id"])
    log.info("load %s of press run %s voided", load["load_sequence"], run["id"])
    return detail


def _corrected_load(load: RowMapping, wanted: LoadCorrection) -> dict[str, Any]:
    """The load's columns as the correction leaves them (all of them, changed or not),
    ``apple_variety_id`` aside: it follows the line, known once the line is read.

    A weigh tag given sets the weight to gross less tare; a weight given alone drops
    the tag; a unit alone re-reads the weight and the tag, as entered, in that unit.
    """
    given = wanted.corrected
    kept = ("purchase_item_id", "weight", "gross_weight", "tare_weight", "brix", "ph", "notes")
    values = {name: given.get(name, load[name]) for name in kept}
    if "gross_weight" in given:
        values["weight"] = net_weight(given["gross_weight"], given["tare_weight"])
    elif "weight" in given:
        values["gross_weight"] = values["tare_weight"] = None
    unit = given.get("weight_unit") or WeightUnit(load["weight_unit"].value)
    values["weight_unit"] = Unit(unit.value)
    if {"weight", "gross_weight", "weight_unit"} & given.keys():
        tagged = values["gross_weight"] is not None
        values["weight_kg"] = _weight_kg(values["weight"], unit, tagged=tagged)
    else:
        values["weight_kg"] = load["weight_kg"]
    return values


def _draw_on(
    conn: Connection, load: RowMapping, run: RowMapping, item_id: uuid.UUID, weight_kg: Decimal
) -> RowMapping | None:
    """Lock the lines the load draws on before and after (in id order, after the run's
    lock) and check that the line after can give ``weight_kg``, counting what the load
    already draws on it. Returns the line drawn on after, None when the draw is unchanged.

    A correction that draws no more (a lighter load on the same line) is not refused
    for the line's grower, liveness or fruit: what it gives back is always accepted.
    """
    old_id, old_kg = load["purchase_item_id"], load["weight_kg"]
    if item_id == old_id and weight_kg == old_kg:
        return None
    ids = sorted({old_id, item_id})
    lines = {
        row["id"]: row
        for row in conn.execute(queries.LOCK_LINES, {"item_ids": ids}).mappings().all()
    }
    line = lines.get(item_id)
    if item_id == old_id and weight_kg < old_kg:
        return line
    if line is None or not line["is_live"]:
        raise NotFound("purchase line", item_id)
    if line["vendor_id"] != run["vendor_id"]:
        raise _mismatch(item_id)
    if not line["vendor_active"]:
        raise _inactive(line["vendor_name"])
    if line["quantity_kg"] is None:
        raise bought_by_volume(item_id)
    remaining = line["remaining_kg"]
    if item_id == old_id:
        remaining += old_kg
    if weight_kg > remaining:
        raise InsufficientFruit(item_id, weight_kg, remaining)
    return line


def correct_load(
    session: Session,
    actor: object,
    load_id: Id,
    data: LoadCorrection | object,
    *,
    run_id: Id | None = None,
) -> PressRunDetail:
    """Correct a live load of an in-progress run: its weight (net, or a weigh tag) and
    unit, its purchase line, brix, pH or notes (see
    :class:`~cidery.press.schemas.LoadCorrection`). Returns the run as it now is.

    The rules of ``add_load`` hold for the load as corrected: the line live, of the
    run's grower (active), bought by weight, with the fruit left, where the fruit the
    load already draws on its own line counts as left. The run's row is locked, then
    the load's line and the line it moves to (in id order); the database's triggers
    move the fruit between the lines, and the run's total follows the weight. One
    audit row for the load (``update``, old and new row, diff), one for the run when its
    total changed. A correction that changes nothing writes nothing. With ``run_id``, a
    load of another run is :class:`NotFound`.
    """
    who = require(actor, Action.CORRECT_LOAD)
    load_uuid = identifier(load_id, "load_id")
    run_uuid = identifier(run_id, "run_id") if run_id is not None else None
    wanted = parse(LoadCorrection, data)
    with writing(session, who.user_id):
        conn = session.connection()
        run = _lock_run(conn, _run_of_load(conn, load_uuid, run_uuid), "correct a load of")
        load = conn.execute(queries.LOCK_LOAD, {"load_id": load_uuid}).mappings().first()
        if load is None:
            raise NotFound("load", load_uuid)
        values = _corrected_load(load, wanted)
        old_kg, new_kg = load["weight_kg"], values["weight_kg"]
        if new_kg > old_kg:
            _within_column(
                "weight", run["total_apple_weight_kg"] - old_kg + new_kg, "the run's total kg"
            )
        line = _draw_on(conn, load, run, values["purchase_item_id"], new_kg)
        if line is not None:
            values["apple_variety_id"] = line["apple_variety_id"]
        # Only the columns that change are SET: the fruit triggers fire on the columns
        # named, and the audit diff lists exactly what changed.
        changes = {name: value for name, value in values.items() if value != load[name]}
        if changes:
            _, corrected = _update(conn, loads, load, who.user_id, wanted.reason, **changes)
            entries = [corrected]
            if new_kg != old_kg:
                _, totalled = _update(
                    conn,
                    runs,
                    run,
                    who.user_id,
                    wanted.reason,
                    total_apple_weight_kg=runs.c.total_apple_weight_kg + (new_kg - old_kg),
                )
                entries.append(totalled)
            audit.write(session, *entries)
        detail = run_detail(session, run["id"])
    log.info(
        "load %s of press run %s corrected: %s",
        load["load_sequence"],
        run["id"],
        ", ".join(sorted(changes)) or "nothing changed",
    )
    return detail


# --- finishing (completion: cidery.press.completion) ------------------------------------


def cancel_run(
    session: Session, actor: object, run_id: Id, data: PressRunCancel | object
) -> PressRunRead:
    """Abandon an in-progress run; the fruit of its loads becomes available again."""
    who = require(actor, Action.CANCEL)
    run_uuid = identifier(run_id, "run_id")
    wanted = parse(PressRunCancel, data)
    with writing(session, who.user_id):
        conn = session.connection()
        run = _lock_run(conn, run_uuid, "cancel")
        cancelled, entry = _update(
            conn,
            runs,
            run,
            who.user_id,
            wanted.reason,
            status=PressRunStatus.CANCELLED,
            end_time=func.greatest(func.now(), runs.c.start_time),
            notes=_append_note(run["notes"], f"Cancelled: {wanted.reason}"),
        )
        audit.write(session, entry)
    log.info("press run %s cancelled", run_uuid)
    return read_row(PressRunRead, cancelled)
