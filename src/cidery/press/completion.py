"""Completing a press run: its juice into one or more vessels, each a juice lot with its cost.

Locks are taken in the service's one order (:mod:`cidery.press.commands`): the run's
row first, then the vessels' rows in id order (whatever order the assignments name
them in), so two completions sharing vessels queue on the first vessel they both
need instead of deadlocking. A vessel another run filled meanwhile is read after its
lock is granted, as it now is: the second completion is told it is in use.

The litres sent to the vessels must add up exactly to the run's juice, in litres as
stored (:mod:`cidery.units`): the service says so with the figures
(:class:`~cidery.press.errors.VolumesDoNotAddUp`), and the database's deferred
constraint trigger ``press_run_batches_match_juice`` refuses any transaction that
would commit a run whose lots disagree with its juice, whoever writes them.
"""

from __future__ import annotations

import logging
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, func
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from cidery import audit
from cidery.config import DEFAULT_LABOR_RATE
from cidery.enums import in_words
from cidery.models.enums import PressRunStatus, Unit, VesselStatus
from cidery.models.pressing import MAX_EXTRACTION_RATE
from cidery.press import lots, queries
from cidery.press.access import Action, require
from cidery.press.commands import _append_note, _lock_run, _update, _within_column
from cidery.press.errors import (
    ImplausibleYield,
    InvalidInput,
    NoLoads,
    NotFound,
    VesselTooSmall,
    VesselUnavailable,
    VolumesDoNotAddUp,
)
from cidery.press.inputs import Id, identifier, parse
from cidery.press.rules import (
    JUICE_KG_PER_L,
    MASS_BALANCE_TOLERANCE,
    MASS_BALANCE_WARNING,
    RECEIVES_JUICE,
    YIELD_HIGH,
    YIELD_LOW,
    YIELD_WARNING,
)
from cidery.press.schemas import CompletedRun, PressRunComplete, PressRunRead, read_row
from cidery.press.translate import writing

log = logging.getLogger(__name__)

runs = queries.runs


def _vessel_for(conn: Connection, vessel_id: uuid.UUID, litres: Decimal) -> RowMapping:
    """A destination vessel, locked; it must be available and hold its ``litres``."""
    vessel = conn.execute(queries.LOCK_VESSEL, {"vessel_id": vessel_id}).mappings().first()
    if vessel is None:
        raise NotFound("vessel", vessel_id)
    if vessel["status"] != RECEIVES_JUICE:
        # The status as a code for clients, and in words for a person ("in use").
        status = in_words(vessel["status"])
        raise VesselUnavailable(
            f"vessel {vessel['name']!r} is {status}, not {RECEIVES_JUICE.value}",
            vessel_id=str(vessel["id"]),
            vessel_name=vessel["name"],
            status=vessel["status"].value,
            status_in_words=status,
        )
    if litres > vessel["capacity_l"]:
        raise VesselTooSmall(
            f"vessel {vessel['name']!r} holds {vessel['capacity_l']} L; "
            f"it would receive {litres} L",
            vessel_id=str(vessel["id"]),
            vessel_name=vessel["name"],
            capacity_l=str(vessel["capacity_l"]),
            juice_l=str(litres),
        )
    return vessel


def _yield(juice_l: Decimal, total_kg: Decimal) -> Decimal:
    """The run's L/kg, refused when more juice than fruit can give."""
    # Rounded as the generated column rounds (half away from zero), so the limit and
    # the warning judge the rate the database will store.
    rate = (juice_l / total_kg).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    if rate > MAX_EXTRACTION_RATE:
        raise ImplausibleYield(
            f"{juice_l} L from {total_kg} kg is {rate} L/kg, more juice than fruit can "
            "give: were pounds entered as kilograms?",
            extraction_rate=str(rate),
        )
    return rate


def mass_balance_warning(fruit_kg: Decimal, juice_l: Decimal, pomace_kg: Decimal) -> str | None:
    """The warning of a run whose fruit is not about its juice and pomace, or None."""
    juice_kg = (juice_l * JUICE_KG_PER_L).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    accounted = juice_kg + pomace_kg
    if abs(fruit_kg - accounted) <= fruit_kg * MASS_BALANCE_TOLERANCE:
        return None
    return MASS_BALANCE_WARNING.format(
        fruit_kg=fruit_kg,
        juice_kg=juice_kg,
        juice_l=juice_l,
        pomace_kg=pomace_kg,
        accounted_kg=accounted,
    )


def checked_destinations(wanted: PressRunComplete) -> list[tuple[uuid.UUID, Decimal]]:
    """Each vessel with its litres, which must add up exactly to the run's juice
    (:class:`VolumesDoNotAddUp` otherwise): the rule the pages also check before
    asking the operator to confirm."""
    destinations = wanted.destinations
    assigned = sum((litres for _, litres in destinations), Decimal(0))
    if assigned != wanted.juice_volume_l:
        raise VolumesDoNotAddUp(assigned, wanted.juice_volume_l)
    return destinations


def complete_run(
    session: Session,
    actor: object,
    run_id: Id,
    data: PressRunComplete | object,
    *,
    labor_rate: Decimal = DEFAULT_LABOR_RATE,
) -> CompletedRun:
    """Finish a run into one or more available vessels, each becoming a juice lot.

    ``data`` names one vessel (``vessel_id``: all the juice there) or 1-26
    ``assignments`` whose litres add up exactly to the juice; each vessel must be
    available and hold its share. Each vessel gets a fermenting batch (``2026-R0042-A``,
    ``-B``, ...) linked to the run and becomes in use; the run keeps the first vessel,
    the pomace and the labor rate (``data.labor_rate``, else ``labor_rate``: the
    cidery's setting, :func:`cidery.config.labor_rate`), and each lot its cost
    (:func:`cidery.press.lots.write_costs`; a line without a price leaves the lot's
    cost incomplete, never zero). Every row written is audited.

    A yield outside the usual band, or a mass balance off by more than the tolerance,
    is accepted with a warning; a yield above 1.2 L/kg is refused as impossible
    (pounds entered as kilograms).
    """
    who = require(actor, Action.COMPLETE)
    run_uuid = identifier(run_id, "run_id")
    wanted = parse(PressRunComplete, data)
    juice_l = wanted.juice_volume_l
    _within_column("juice_volume", juice_l, "the juice in litres")
    destinations = checked_destinations(wanted)
    pomace_kg = wanted.pomace_kg
    if pomace_kg is not None:
        if pomace_kg <= 0:
            raise InvalidInput.of("pomace_weight", f"{wanted.pomace_weight} is less than 1 g")
        _within_column("pomace_weight", pomace_kg, "the pomace in kg")
    rate = wanted.labor_rate if wanted.labor_rate is not None else labor_rate
    with writing(session, who.user_id):
        conn = session.connection()
        run = _lock_run(conn, run_uuid, "complete")
        if wanted.end_time is not None and wanted.end_time < run["start_time"]:
            raise InvalidInput.of(
                "end_time",
                f"{wanted.end_time.isoformat()} is before the run started "
                f"({run['start_time'].isoformat()})",
            )
        count, total_kg = conn.execute(queries.RUN_LOAD_TOTALS, {"run_id": run_uuid}).one()
        if count == 0:
            raise NoLoads(f"press run {run_uuid} has no loads: add one or cancel the run")
        # After the run, the vessels in id order: see the module's docstring.
        vessels = {
            vessel_id: _vessel_for(conn, vessel_id, litres)
            for vessel_id, litres in sorted(destinations, key=lambda d: d[0])
        }
        extraction = _yield(juice_l, total_kg)
        values: dict[str, Any] = {
            "status": PressRunStatus.COMPLETED,
            # now() is when the transaction began: not before a start recorded later in it.
            "end_time": (
                wanted.end_time
                if wanted.end_time is not None
                else func.greatest(func.now(), runs.c.start_time)
            ),
            "vessel_id": destinations[0][0],
            "total_apple_weight_kg": total_kg,
            "juice_volume": wanted.juice_volume,
            "juice_volume_unit": Unit(wanted.juice_volume_unit.value),
            "total_juice_volume_l": juice_l,
            "labor_hours": wanted.labor_hours,
            "worker_count": wanted.worker_count,
            "notes": _append_note(run["notes"], wanted.notes),
            "pomace_kg": pomace_kg,
            "labor_rate": rate,
        }
        completed, run_entry = _update(conn, runs, run, who.user_id, None, **values)
        vessel_entries = [
            _update(
                conn,
                queries.vessels,
                vessels[vessel_id],
                who.user_id,
                None,
                status=VesselStatus.IN_USE,
            )[1]
            for vessel_id, _ in destinations
        ]
        lot_entries = lots.write_lots(session, completed, destinations, who.user_id)
        audit.write(session, run_entry, *vessel_entries, *lot_entries)
        juice_lots = lots.lots_of_run(session, completed)
    warnings = []
    if not YIELD_LOW <= extraction <= YIELD_HIGH:
        warnings.append(YIELD_WARNING.format(rate=extraction))
    if pomace_kg is not None:
        balance = mass_balance_warning(total_kg, juice_l, pomace_kg)
        if balance is not None:
            warnings.append(balance)
    log.info(
        "press run %s completed: %s L into %s",
        run_uuid,
        juice_l,
        ", ".join(f"{lot.batch_number} ({lot.litres} L)" for lot in juice_lots),
    )
    return CompletedRun(run=read_row(PressRunRead, completed), warnings=warnings, lots=juice_lots)
