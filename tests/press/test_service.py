"""The press-run workflow service, rule by rule, on the real database.

Every refusal is checked the same way (:func:`tests.press.support.refused`):
the exact exception type, its stable ``code``, a message that names what is
wrong, and no press run, load or audit row left behind. Each test then makes a
successful call in the same transaction, which proves the service's savepoint
left the caller's transaction usable.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, get_type_hints

import pytest
from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cidery import press
from cidery.db.compiled import Compiled
from cidery.db.engine import make_engine
from cidery.models import Purchase
from cidery.models.enums import PressRunStatus, Unit, UserRole, VesselStatus
from cidery.press import queries, reads, report
from cidery.press.errors import (
    ImplausibleYield,
    InsufficientFruit,
    InvalidInput,
    InvalidTransition,
    NoLoads,
    NotFound,
    VendorInactive,
    VendorMismatch,
    VesselTooSmall,
    VesselUnavailable,
)
from cidery.press.rules import YIELD_HIGH
from cidery.press.schemas import AvailableFruit, PressRunRead
from cidery.press.translate import from_sqlstate
from tests.factories import Factory, new_actor
from tests.press.support import Counts, World, counts, fields, refused, soft_delete_run

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)


def _outcome(juice: str, unit: str, vessel_id: object) -> dict[str, object]:
    """What complete_run is sent, the vessel given by id (or by something that is not one)."""
    return {"juice_volume": juice, "juice_volume_unit": unit, "vessel_id": vessel_id}


@pytest.fixture
def actor(session: Session) -> press.Actor:
    return new_actor(session)


@pytest.fixture
def w(session: Session, make: Factory, actor: press.Actor) -> World:
    vendor = make.vendor()
    variety = make.variety()
    item = make.purchase_item(vendor=vendor, variety=variety, quantity=Decimal("1000"))
    return World(session, make, actor, vendor, variety, item)


# --- start_run ---------------------------------------------------------------------------


def test_start_run_opens_an_in_progress_run(w: World) -> None:
    before = counts(w.session)
    run = w.start(start_time=T0, notes="first of the season")
    assert run.status is PressRunStatus.IN_PROGRESS
    assert run.vendor_id == w.vendor.id
    assert run.start_time == T0
    assert run.end_time is None
    assert run.total_apple_weight_kg == Decimal("0.000")
    assert run.vessel_id is None
    assert run.extraction_rate is None
    assert run.notes == "first of the season"
    assert run.created_by == w.actor.user_id
    assert run.updated_by == w.actor.user_id
    assert counts(w.session) == Counts(
        before.press_runs + 1, before.press_run_loads, before.audit_logs + 1
    )


def test_start_run_unknown_vendor(w: World) -> None:
    missing = uuid.uuid4()
    with refused(w.session, NotFound, "not_found", "vendor", str(missing)) as info:
        press.start_run(w.session, w.actor, {"vendor_id": missing})
    assert info.value.details == {"entity": "vendor", "id": str(missing)}
    w.assert_usable()


def test_start_run_soft_deleted_vendor(w: World) -> None:
    gone = w.make.vendor(deleted_at=datetime.now(UTC))
    with refused(w.session, NotFound, "not_found", "vendor", str(gone.id), "deleted"):
        w.start(vendor=gone)
    w.assert_usable()


def test_start_run_inactive_vendor(w: World) -> None:
    retired = w.make.vendor(name="Retired Orchard", is_active=False)
    with refused(w.session, VendorInactive, "vendor_inactive", "Retired Orchard", "inactive"):
        w.start(vendor=retired)
    w.assert_usable()


@pytest.mark.parametrize("bad", ["not-a-uuid", "", "1234", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"])
def test_start_run_malformed_vendor_id(w: World, bad: str) -> None:
    with refused(w.session, InvalidInput, "invalid_input", "vendor_id", "uuid") as info:
        press.start_run(w.session, w.actor, {"vendor_id": bad})
    assert fields(info.value) == ["vendor_id"]
    w.assert_usable()


def test_start_run_naive_start_time(w: World) -> None:
    with refused(w.session, InvalidInput, "invalid_input", "start_time", "timezone") as info:
        w.start(start_time=datetime(2026, 10, 5, 8))
    assert fields(info.value) == ["start_time"]
    w.assert_usable()


def test_start_run_notes_too_long(w: World) -> None:
    with refused(w.session, InvalidInput, "invalid_input", "notes"):
        w.start(notes="x" * 4001)
    w.assert_usable()


# --- an unknown acting user: the foreign keys on created_by / updated_by / changed_by ---


def test_unknown_actor_is_refused_by_every_mutation(w: World) -> None:
    ghost = press.Actor(user_id=uuid.uuid4(), role=UserRole.OPERATOR)
    run = w.start()
    load = w.load(run)
    vessel = w.vessel()
    entry = {"purchase_item_id": w.item.id, "weight": "10", "weight_unit": "kg"}
    outcome = {"juice_volume": "65", "juice_volume_unit": "L", "vessel_id": vessel.id}
    calls = {
        "start_run": lambda: press.start_run(w.session, ghost, {"vendor_id": w.vendor.id}),
        "add_load": lambda: press.add_load(w.session, ghost, run.id, entry),
        "void_load": lambda: press.void_load(w.session, ghost, load.id, {"reason": "wrong bin"}),
        "complete_run": lambda: press.complete_run(w.session, ghost, run.id, outcome),
        "cancel_run": lambda: press.cancel_run(w.session, ghost, run.id, {"reason": "rain"}),
    }
    for name, call in calls.items():
        with refused(w.session, NotFound, "not_found", "user", str(ghost.user_id)) as info:
            call()
        assert info.value.details == {"entity": "user", "id": str(ghost.user_id)}, name
    # Nothing moved: the run is open with its one load, the vessel still free.
    assert w.read(run).status is PressRunStatus.IN_PROGRESS
    assert w.read(run).total_apple_weight_kg == Decimal("100.000")
    assert w.detail(run).load_count == 1
    w.session.refresh(vessel)
    assert vessel.status is VesselStatus.AVAILABLE
    # And the real user can carry on in the same transaction.
    assert w.complete(run, vessel=vessel).run.status is PressRunStatus.COMPLETED


def test_system_writes_without_actor_are_allowed(w: World) -> None:
    system = press.Actor.system()
    run = press.start_run(w.session, system, {"vendor_id": w.vendor.id})
    entry = {"purchase_item_id": w.item.id, "weight": "5", "weight_unit": "kg"}
    load = press.add_load(w.session, system, run.id, entry)
    assert run.created_by is None
    assert load.created_by is None


# --- add_load: bad weights and units -------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "why"),
    [
        (Decimal(0), "greater than 0"),
        ("0", "greater than 0"),
        ("0.000", "greater than 0"),
        (-1, "greater than 0"),
        (Decimal("-0.5"), "greater than 0"),
        (Decimal("NaN"), "finite"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        (Decimal("Infinity"), "finite"),
        ("ten", "decimal"),
        ("", "decimal"),
        ("12,5", "decimal"),
        ("1.2345", "3 decimal places"),
        (Decimal("0.0001"), "3 decimal places"),
        ("12345678", "digits"),
    ],
)
def test_add_load_bad_weight(w: World, weight: Any, why: str) -> None:
    run = w.start()
    with refused(w.session, InvalidInput, "invalid_input", "weight", why) as info:
        w.load(run, weight)
    assert fields(info.value) == ["weight"]
    assert w.load(run, "12.345").weight_kg == Decimal("12.345")
    w.assert_usable()


def test_add_load_other_non_finite_weights(w: World) -> None:
    run = w.start()
    for weight in ("-Infinity", "-NaN", "sNaN", "inf"):
        with refused(w.session, InvalidInput, "invalid_input", "weight"):
            w.load(run, weight)
    w.assert_usable()


@pytest.mark.parametrize("unit", ["bushel", "L", "gal", "stone", "", "KGS", "pound"])
def test_add_load_unknown_unit(w: World, unit: str) -> None:
    run = w.start()
    with refused(w.session, InvalidInput, "invalid_input", "weight_unit") as info:
        w.load(run, "100", unit)
    assert fields(info.value) == ["weight_unit"]
    assert w.load(run, "100", "lb").weight_kg == Decimal("45.359")
    w.assert_usable()


def test_add_load_weight_that_rounds_to_zero_kg(w: World) -> None:
    run = w.start()
    # 0.001 lb = 0.00045 kg: below the stored gram.
    with refused(w.session, InvalidInput, "invalid_input", "weight", "0.001 lb", "1 g") as info:
        w.load(run, "0.001", "lb")
    assert fields(info.value) == ["weight"]
    # 0.002 lb = 0.00091 kg rounds up to 1 g and is a load.
    assert w.load(run, "0.002", "lb").weight_kg == Decimal("0.001")
    w.assert_usable()


def test_add_load_in_pounds_is_stored_as_entered_and_in_exact_kg(w: World) -> None:
    run = w.start()
    load = w.load(run, "12.345", "lb")
    # 12.345 lb x 0.45359237 = 5.59959780765 kg
    assert (load.weight, load.weight_unit.value, load.weight_kg) == (
        Decimal("12.345"),
        "lb",
        Decimal("5.600"),
    )


def test_add_load_bad_brix_ph_and_juice(w: World) -> None:
    run = w.start()
    for kw, field in [
        ({"brix": Decimal("41")}, "brix"),
        ({"brix": Decimal("-1")}, "brix"),
        ({"ph": Decimal("14.5")}, "ph"),
        ({"juice_volume_l": Decimal("0")}, "juice_volume_l"),
        ({"notes": "x" * 4001}, "notes"),
        ({"pressed_at": datetime(2026, 10, 5, 9)}, "pressed_at"),
    ]:
        with refused(w.session, InvalidInput, "invalid_input", field):
            w.load(run, "10", **kw)
    load = w.load(run, "10", brix=Decimal("14.5"), ph=Decimal("3.45"))
    assert (load.brix, load.ph) == (Decimal("14.50"), Decimal("3.45"))


# --- add_load: the load's time -------------------------------------------------------------


def test_add_load_dated_before_the_run_started_is_refused(w: World) -> None:
    """The time comes from the device that entered the load: one whose clock was reset (a
    flat battery) would date it years back, in the run's records and the season's."""
    run = w.start(start_time=T0)
    for pressed_at, shown in (
        (datetime(2000, 1, 1, 8, tzinfo=UTC), "2000-01-01 08:00 UTC"),
        (T0 - timedelta(minutes=11), "2026-10-05 07:49 UTC"),
    ):
        with refused(
            w.session,
            InvalidInput,
            "invalid_input",
            f"pressed_at: {shown} is before the run started (2026-10-05 08:00 UTC)",
            "clock",
        ) as info:
            w.load(run, "10", pressed_at=pressed_at)
        assert fields(info.value) == ["pressed_at"]


def test_add_load_dated_after_the_database_s_clock_is_refused(w: World) -> None:
    run = w.start()
    now = w.session.scalar(select(func.now()))
    assert now is not None
    with refused(w.session, InvalidInput, "invalid_input", "pressed_at", "later than now") as info:
        w.load(run, "10", pressed_at=now + timedelta(minutes=11))
    assert fields(info.value) == ["pressed_at"]


def test_add_load_keeps_a_time_within_ten_minutes_of_its_bounds(w: World) -> None:
    """Ten minutes either way for clocks that drift: a phone a little behind the server
    still records a load weighed just after the run was started."""
    run = w.start(start_time=T0)
    now = w.session.scalar(select(func.now()))
    assert now is not None
    early = w.load(run, "10", pressed_at=T0 - timedelta(minutes=10))
    late = w.load(run, "10", pressed_at=now + timedelta(minutes=10))
    assert (early.pressed_at, late.pressed_at) == (
        T0 - timedelta(minutes=10),
        now + timedelta(minutes=10),
    )


def test_an_app_of_the_revision_before_reads_a_refused_time_as_invalid_input() -> None:
    """While revision 0011 rolls out, an app of 0010 still running gets the refusal through
    press_add_load's database_error result: its SQLSTATE is a data exception."""
    error = from_sqlstate("22008", None, "2000-01-01 08:00 UTC is before the run started", None)
    assert isinstance(error, InvalidInput)
    assert fields(error) == ["value"]
    assert "before the run started" in str(error)


# --- add_load: unknown rows, another grower, not enough fruit -------------------------------


def test_add_load_unknown_run(w: World) -> None:
    missing = uuid.uuid4()
    entry = {"purchase_item_id": w.item.id, "weight": "10", "weight_unit": "kg"}
    with refused(w.session, NotFound, "not_found", "press run", str(missing)) as info:
        press.add_load(w.session, w.actor, missing, entry)
    assert info.value.details["entity"] == "press run"
    with refused(w.session, InvalidInput, "invalid_input", "run_id"):
        press.add_load(w.session, w.actor, "run-42", entry)
    w.assert_usable()


def test_add_load_soft_deleted_run(w: World) -> None:
    run = w.start()
    soft_delete_run(w.session, run.id)
    with refused(w.session, NotFound, "not_found", "press run", str(run.id)):
        w.load(run)
    w.assert_usable()


def test_add_load_unknown_purchase_item(w: World) -> None:
    run = w.start()
    missing = uuid.uuid4()
    entry = {"weight": "10", "weight_unit": "kg"}
    with refused(w.session, NotFound, "not_found", "purchase line", str(missing)) as info:
        press.add_load(w.session, w.actor, run.id, {**entry, "purchase_item_id": missing})
    assert info.value.details["entity"] == "purchase line"
    with refused(w.session, InvalidInput, "invalid_input", "purchase_item_id"):
        press.add_load(w.session, w.actor, run.id, {**entry, "purchase_item_id": "line-7"})
    assert w.load(run, "10").load_sequence == 1
    w.assert_usable()


def test_add_load_soft_deleted_purchase_item(w: World) -> None:
    run = w.start()
    gone = w.make.purchase_item(vendor=w.vendor)
    gone.deleted_at = datetime.now(UTC)
    w.session.flush()
    with refused(w.session, NotFound, "not_found", "purchase line", str(gone.id)):
        w.load(run, "10", item=gone)
    w.assert_usable()


def test_add_load_purchase_item_of_a_soft_deleted_purchase(w: World) -> None:
    run = w.start()
    item = w.make.purchase_item(vendor=w.vendor)
    purchase = w.session.get(Purchase, item.purchase_id)
    assert purchase is not None
    purchase.deleted_at = datetime.now(UTC)
    w.session.flush()
    with refused(w.session, NotFound, "not_found", "purchase line", str(item.id)):
        w.load(run, "10", item=item)
    w.assert_usable()


def test_add_load_purchase_item_of_another_vendor(w: World) -> None:
    run = w.start()
    other = w.make.purchase_item(vendor=w.make.vendor(), variety=w.variety)
    with refused(w.session, VendorMismatch, "vendor_mismatch", str(other.id), "grower") as info:
        w.load(run, "10", item=other)
    assert info.value.details == {"purchase_item_id": str(other.id)}
    # The other grower's fruit is untouched.
    assert w.remaining(other) == Decimal("1000.000")
    w.assert_usable()


def test_add_load_purchase_line_bought_by_volume(w: World) -> None:
    run = w.start()
    juice = w.make.juice_line(w.vendor, w.variety)
    with refused(w.session, InvalidInput, "invalid_input", "volume"):
        w.load(run, "10", item=juice)
    w.assert_usable()


def test_add_load_more_than_remaining_carries_the_exact_remaining_kg(w: World) -> None:
    item = w.make.purchase_item(vendor=w.vendor, quantity=Decimal("1000"), unit=Unit.LB)
    assert item.quantity_kg == Decimal("453.592")
    run = w.start()
    w.load(run, "200", item=item)
    with refused(
        w.session, InsufficientFruit, "insufficient_fruit", "253.592", "253.593", str(item.id)
    ) as info:
        w.load(run, "253.593", item=item)
    error = info.value
    assert isinstance(error, InsufficientFruit)
    assert error.remaining_kg == Decimal("253.592")
    assert error.requested_kg == Decimal("253.593")
    assert error.details["remaining_kg"] == "253.592"
    # In pounds too: 560 lb = 254.012 kg > 253.592 kg.
    with refused(w.session, InsufficientFruit, "insufficient_fruit") as info:
        w.load(run, "560", "lb", item=item)
    assert info.value.details["requested_kg"] == "254.012"
    # Exactly what is left fits; then nothing does.
    w.load(run, "253.592", item=item)
    assert w.remaining(item) == 0
    with refused(w.session, InsufficientFruit, "insufficient_fruit") as info:
        w.load(run, "0.001", item=item)
    assert isinstance(info.value, InsufficientFruit)
    assert info.value.remaining_kg == Decimal("0.000")
    assert w.read(run).total_apple_weight_kg == item.quantity_kg
    w.assert_usable()


def test_remaining_excludes_cancelled_runs_and_voided_loads(w: World) -> None:
    assert w.remaining() == Decimal("1000.000")
    kept = w.start()
    w.load(kept, "300")
    assert w.remaining() == Decimal("700.000")

    cancelled = w.start()
    w.load(cancelled, "400")
    assert w.remaining() == Decimal("300.000")
    w.cancel(cancelled, "press broke down")
    assert w.remaining() == Decimal("700.000")

    voided = w.load(kept, "500")
    assert w.remaining() == Decimal("200.000")
    w.void(voided, "weighed on the wrong scale")
    assert w.remaining() == Decimal("700.000")

    # The returned fruit can really be pressed again, exactly up to what is left.
    w.load(kept, "700")
    with refused(w.session, InsufficientFruit, "insufficient_fruit") as info:
        w.load(kept, "0.001")
    assert isinstance(info.value, InsufficientFruit)
    assert info.value.remaining_kg == 0


def test_remaining_counts_completed_runs(w: World) -> None:
    run, _ = w.completed_run()
    assert run.status is PressRunStatus.COMPLETED
    assert w.remaining() == Decimal("900.000")


# --- add_load: load numbers and the run's total ---------------------------------------------


def test_load_sequence_is_assigned_and_never_reused(w: World) -> None:
    run = w.start()
    first, second, third = (w.load(run, weight) for weight in ("100", "110", "120"))
    assert [first.load_sequence, second.load_sequence, third.load_sequence] == [1, 2, 3]

    detail = w.void(second, "double-counted bin")
    assert [(load.id, load.load_sequence) for load in detail.loads] == [
        (first.id, 1),
        (third.id, 3),
    ]
    assert w.load(run, "130").load_sequence == 4

    # Voiding the newest load does not free its number either.
    fourth = w.detail(run).loads[-1]
    w.void(fourth, "typo")
    assert w.load(run, "140").load_sequence == 5
    assert [load.load_sequence for load in w.detail(run).loads] == [1, 3, 5]


def test_load_sequence_is_per_run(w: World) -> None:
    one, two = w.start(), w.start()
    assert w.load(one, "10").load_sequence == 1
    assert w.load(two, "10").load_sequence == 1
    assert w.load(one, "10").load_sequence == 2


def test_run_total_is_the_sum_of_live_loads(w: World) -> None:
    run = w.start()
    loads = [w.load(run, "100"), w.load(run, "100", "lb"), w.load(run, "0.5")]
    assert w.read(run).total_apple_weight_kg == Decimal("145.859")
    assert w.void(loads[1], "wrong unit").run.total_apple_weight_kg == Decimal("100.500")
    assert w.read(run).total_apple_weight_kg == Decimal("100.500")
    w.load(run, "100", "kg")
    detail = w.detail(run)
    assert detail.run.total_apple_weight_kg == Decimal("200.500")
    assert detail.total_weight_kg == Decimal("200.500")
    assert sum(load.weight_kg for load in detail.loads) == Decimal("200.500")


# --- complete_run ----------------------------------------------------------------------------


def test_complete_run_without_loads(w: World) -> None:
    run = w.start()
    vessel = w.vessel()
    with refused(w.session, NoLoads, "no_loads", str(run.id), "no loads"):
        w.complete(run, vessel=vessel)
    # A run whose only load was voided has no loads either.
    load = w.load(run)
    w.void(load, "wrong grower's bin")
    with refused(w.session, NoLoads, "no_loads"):
        w.complete(run, vessel=vessel)
    w.session.refresh(vessel)
    assert vessel.status is VesselStatus.AVAILABLE
    w.load(run)
    assert w.complete(run, vessel=vessel).run.status is PressRunStatus.COMPLETED


def test_complete_run_unknown_or_deleted_vessel(w: World) -> None:
    run = w.start()
    w.load(run)
    missing = uuid.uuid4()
    with refused(w.session, NotFound, "not_found", "vessel", str(missing)):
        press.complete_run(w.session, w.actor, run.id, _outcome("65", "L", missing))
    gone = w.make.vessel(deleted_at=datetime.now(UTC))
    with refused(w.session, NotFound, "not_found", "vessel", str(gone.id)):
        w.complete(run, vessel=gone)
    with refused(w.session, InvalidInput, "invalid_input", "vessel_id"):
        press.complete_run(w.session, w.actor, run.id, _outcome("65", "L", "tank-3"))
    with refused(w.session, NotFound, "not_found", "press run"):
        press.complete_run(w.session, w.actor, uuid.uuid4(), _outcome("65", "L", w.vessel().id))
    assert w.read(run).status is PressRunStatus.IN_PROGRESS
    w.assert_usable()


@pytest.mark.parametrize(
    "status", [VesselStatus.IN_USE, VesselStatus.CLEANING, VesselStatus.MAINTENANCE]
)
def test_complete_run_into_an_unavailable_vessel(w: World, status: VesselStatus) -> None:
    run = w.start()
    w.load(run)
    busy = w.vessel(status=status)
    in_words = status.value.replace("_", " ")  # "in use"
    with refused(w.session, VesselUnavailable, "vessel_unavailable", busy.name, in_words) as info:
        w.complete(run, vessel=busy)
    assert info.value.details == {
        "vessel_id": str(busy.id),
        "vessel_name": busy.name,
        "status": status.value,
        "status_in_words": in_words,
    }
    assert w.read(run).status is PressRunStatus.IN_PROGRESS
    w.session.refresh(busy)
    assert busy.status is status
    assert w.complete(run).run.status is PressRunStatus.COMPLETED


def test_complete_run_into_a_vessel_too_small(w: World) -> None:
    run = w.start()
    w.load(run)
    small = w.vessel(capacity_l="50")
    with refused(w.session, VesselTooSmall, "vessel_too_small", "50", "60") as info:
        w.complete(run, "60", vessel=small)
    assert info.value.details == {
        "vessel_id": str(small.id),
        "vessel_name": small.name,
        "capacity_l": "50.000",
        "juice_l": "60.000",
    }
    # 14 US gal = 52.996 L: too much for 50 L too.
    with refused(w.session, VesselTooSmall, "vessel_too_small", "52.996"):
        w.complete(run, "14", vessel=small, unit="gal")
    w.session.refresh(small)
    assert small.status is VesselStatus.AVAILABLE
    # Filled to the brim is fine.
    done = w.complete(run, "50", vessel=small)
    assert done.run.total_juice_volume_l == Decimal("50.000")


def test_complete_run_end_before_start(w: World) -> None:
    run = w.start(start_time=T0)
    w.load(run)
    with refused(w.session, InvalidInput, "invalid_input", "end_time", "before") as info:
        w.complete(run, end_time=T0 - timedelta(minutes=1))
    assert fields(info.value) == ["end_time"]
    with refused(w.session, InvalidInput, "invalid_input", "end_time", "timezone"):
        w.complete(run, end_time=datetime(2026, 10, 5, 12))
    done = w.complete(run, end_time=T0)
    assert done.run.end_time == T0


@pytest.mark.parametrize(
    ("juice", "unit", "field"),
    [
        ("0", "L", "juice_volume"),
        ("-5", "L", "juice_volume"),
        ("NaN", "L", "juice_volume"),
        ("Infinity", "L", "juice_volume"),
        ("65.0001", "L", "juice_volume"),
        ("lots", "L", "juice_volume"),
        ("65", "kg", "juice_volume_unit"),
        ("65", "bushel", "juice_volume_unit"),
        ("65", "pint", "juice_volume_unit"),
    ],
)
def test_complete_run_bad_juice_volume(w: World, juice: str, unit: str, field: str) -> None:
    run = w.start()
    w.load(run)
    vessel = w.vessel()
    with refused(w.session, InvalidInput, "invalid_input", field) as info:
        w.complete(run, juice, vessel=vessel, unit=unit)
    assert fields(info.value) == [field]
    assert w.complete(run, vessel=vessel).run.status is PressRunStatus.COMPLETED


def test_complete_run_bad_labour(w: World) -> None:
    run = w.start()
    w.load(run)
    for kw, field in [
        ({"worker_count": 0}, "worker_count"),
        ({"labor_hours": Decimal("-1")}, "labor_hours"),
    ]:
        with refused(w.session, InvalidInput, "invalid_input", field):
            w.complete(run, **kw)
    done = w.complete(run, labor_hours=Decimal("3.5"), worker_count=2)
    assert (done.run.labor_hours, done.run.worker_count) == (Decimal("3.50"), 2)


def test_complete_run_impossible_yield_pounds_entered_for_kilograms(w: World) -> None:
    """500 kg of fruit keyed in as 500 lb (226.796 kg) gives 350 L: 1.54 L/kg, impossible."""
    run = w.start()
    mistaken = w.load(run, "500", "lb")
    vessel = w.vessel()
    with refused(w.session, ImplausibleYield, "implausible_yield", "1.5432", "pounds") as info:
        w.complete(run, "350", vessel=vessel)
    assert info.value.details == {"extraction_rate": "1.5432"}
    assert w.read(run).status is PressRunStatus.IN_PROGRESS
    w.session.refresh(vessel)
    assert vessel.status is VesselStatus.AVAILABLE
    # The operator corrects the load and the run completes at a normal 0.70 L/kg.
    w.void(mistaken, "pounds entered for kilograms")
    w.load(run, "500", "kg")
    done = w.complete(run, "350", vessel=vessel)
    assert done.run.extraction_rate == Decimal("0.7000")
    assert done.warnings == []


def test_complete_run_yield_limit_is_inclusive_and_exact(w: World) -> None:
    run = w.start()
    w.load(run, "500")
    vessel = w.vessel()
    with refused(w.session, ImplausibleYield, "implausible_yield", "1.2001"):
        w.complete(run, "600.05", vessel=vessel)
    # 600.025 / 500 = 1.20005 exactly: PostgreSQL rounds it to 1.2001, above the limit.
    with refused(w.session, ImplausibleYield, "implausible_yield"):
        w.complete(run, "600.025", vessel=vessel)
    done = w.complete(run, "600", vessel=vessel)
    assert done.run.extraction_rate == Decimal("1.2000")
    assert len(done.warnings) == 1


@pytest.mark.parametrize(
    ("litres", "rate", "warned"),
    [
        ("30", "0.3000", True),
        ("39.99", "0.3999", True),
        ("40", "0.4000", False),
        ("65", "0.6500", False),
        ("85", "0.8500", False),
        ("85.01", "0.8501", True),
        # 0.85005 exactly: stored as 0.8501 (PostgreSQL rounds half away from zero),
        # so the warning must agree with what yield_outliers will list.
        ("85.005", "0.8501", True),
        ("90", "0.9000", True),
    ],
)
def test_complete_run_unusual_yield_warns_and_is_listed(
    w: World, litres: str, rate: str, warned: bool
) -> None:
    run = w.start()
    w.load(run, "100")
    done = w.complete(run, litres)
    assert done.run.status is PressRunStatus.COMPLETED
    assert done.run.extraction_rate == Decimal(rate)
    outliers = {summary.id: summary for summary in press.yield_outliers(w.session, w.actor)}
    if warned:
        assert len(done.warnings) == 1
        assert rate in done.warnings[0]
        assert "0.40-0.85" in done.warnings[0]
        assert run.id in outliers
        assert outliers[run.id].extraction_rate == Decimal(rate)
    else:
        assert done.warnings == []
        assert run.id not in outliers


def test_yield_outliers_ignores_open_and_cancelled_runs(w: World) -> None:
    low = w.start()
    w.load(low, "100")
    w.complete(low, "30")
    open_run = w.start()
    w.load(open_run, "100")
    cancelled, _ = w.cancelled_run()
    ids = [summary.id for summary in press.yield_outliers(w.session, w.actor)]
    assert low.id in ids
    assert open_run.id not in ids
    assert cancelled.id not in ids
    # Thresholds are parameters: with a 0.25 floor the 0.30 run is normal.
    band = {"low": Decimal("0.25"), "high": YIELD_HIGH}
    assert low.id not in [s.id for s in press.yield_outliers(w.session, w.actor, band)]


def test_complete_run_sets_outcome_and_fills_the_vessel(w: World) -> None:
    second_item = w.make.purchase_item(vendor=w.vendor, quantity=Decimal("800"), unit=Unit.LB)
    run = w.start(start_time=T0, notes="windfalls")
    w.load(run, "200")
    w.load(run, "300", "lb", item=second_item)
    vessel = w.vessel(capacity_l="1000")
    end = T0 + timedelta(hours=3)
    done = w.complete(
        run,
        "50",
        vessel=vessel,
        unit="gal",
        labor_hours=Decimal("3"),
        worker_count=2,
        notes="good clean juice",
        end_time=end,
    )
    completed = done.run
    total_kg = Decimal("200") + Decimal("136.078")  # 300 lb = 136.0777 kg
    assert completed.status is PressRunStatus.COMPLETED
    assert completed.end_time == end
    assert completed.vessel_id == vessel.id
    assert completed.total_apple_weight_kg == total_kg
    assert completed.juice_volume == Decimal("50.000")
    assert completed.juice_volume_unit is not None
    assert completed.juice_volume_unit.value == "gal"
    assert completed.total_juice_volume_l == Decimal("189.271")  # 50 x 3.785411784
    assert completed.extraction_rate == (Decimal("189.271") / total_kg).quantize(Decimal("0.0001"))
    assert completed.extraction_rate == Decimal("0.5632")
    assert done.warnings == []
    assert completed.notes == "windfalls\ngood clean juice"
    assert completed.updated_by == w.actor.user_id
    w.session.refresh(vessel)
    assert vessel.status is VesselStatus.IN_USE
    assert w.read(run) == completed


def test_complete_run_default_end_time_is_not_before_start(w: World) -> None:
    """A run started 'now' by the phone's clock, completed in the same transaction.

    The database's now() is the transaction's start, earlier than the phone's
    now: the default end time must still not fall before the start.
    """
    w.session.flush()
    started = datetime.now(UTC) + timedelta(seconds=2)
    run = w.start(start_time=started)
    w.load(run)
    done = w.complete(run)
    assert done.run.end_time is not None
    assert done.run.end_time >= started


# --- cancel_run and void_load ----------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_cancel_run_needs_a_reason(w: World, reason: str) -> None:
    run = w.start()
    w.load(run)
    with refused(w.session, InvalidInput, "invalid_input", "reason") as info:
        w.cancel(run, reason)
    assert fields(info.value) == ["reason"]
    with refused(w.session, InvalidInput, "invalid_input", "reason"):
        w.cancel(run, "x" * 4001)
    assert w.read(run).status is PressRunStatus.IN_PROGRESS
    w.assert_usable()


def test_cancel_run_returns_its_fruit(w: World) -> None:
    run = w.start(start_time=T0, notes="late start")
    w.load(run, "250")
    assert w.remaining() == Decimal("750.000")
    cancelled = w.cancel(run, "  rain stopped the press  ")
    assert cancelled.status is PressRunStatus.CANCELLED
    assert cancelled.end_time is not None
    assert cancelled.end_time >= T0
    assert cancelled.notes == "late start\nCancelled: rain stopped the press"
    assert w.remaining() == Decimal("1000.000")


def test_void_load_needs_a_reason_and_a_known_load(w: World) -> None:
    run = w.start()
    load = w.load(run)
    with refused(w.session, InvalidInput, "invalid_input", "reason"):
        w.void(load, " ")
    missing = uuid.uuid4()
    with refused(w.session, NotFound, "not_found", "load", str(missing)):
        press.void_load(w.session, w.actor, missing, {"reason": "typo"})
    with refused(w.session, InvalidInput, "invalid_input", "load_id"):
        press.void_load(w.session, w.actor, "load-1", {"reason": "typo"})
    # The run is returned as it now is, as get_run shows it.
    detail = w.void(load, "typo")
    assert detail.load_count == 0
    assert detail == w.detail(run)


def test_void_load_twice(w: World) -> None:
    run = w.start()
    load = w.load(run)
    w.void(load, "wrong bin")
    with refused(w.session, InvalidTransition, "invalid_transition", str(load.id), "voided"):
        w.void(load, "wrong bin again")
    assert w.read(run).total_apple_weight_kg == Decimal("0.000")
    w.assert_usable()


@pytest.mark.parametrize("state", ["completed", "cancelled"])
@pytest.mark.parametrize("action", ["add_load", "void_load", "complete_run", "cancel_run"])
def test_finished_run_refuses_every_change(w: World, state: str, action: str) -> None:
    run, load = w.completed_run() if state == "completed" else w.cancelled_run()
    vessel = w.vessel()
    calls = {
        "add_load": lambda: w.load(run, "10"),
        "void_load": lambda: w.void(load, "late correction"),
        "complete_run": lambda: w.complete(run, vessel=vessel),
        "cancel_run": lambda: w.cancel(run, "changed my mind"),
    }
    before = w.read(run)
    with refused(w.session, InvalidTransition, "invalid_transition", state, str(run.id)) as info:
        calls[action]()
    assert info.value.details == {"status": state}
    after = w.read(run)
    assert after == before
    assert w.detail(run).load_count == 1
    w.session.refresh(vessel)
    assert vessel.status is VesselStatus.AVAILABLE
    w.assert_usable()


# --- get_run ---------------------------------------------------------------------------------


def test_get_run_shows_live_loads_in_order_with_totals(w: World) -> None:
    other = w.make.variety(name="Dabinett test")
    second = w.make.purchase_item(vendor=w.vendor, variety=other, quantity=Decimal("500"))
    run = w.start()
    w.load(run, "100")
    w.load(run, "50", item=second)
    dropped = w.load(run, "70")
    w.load(run, "30", item=second)
    w.void(dropped, "spilled")
    detail = w.detail(run)
    assert [load.load_sequence for load in detail.loads] == [1, 2, 4]
    assert detail.load_count == 3
    assert detail.total_weight_kg == Decimal("180.000")
    assert {(v.variety_name, v.load_count, v.weight_kg) for v in detail.varieties} == {
        (w.variety.name, 1, Decimal("100.000")),
        ("Dabinett test", 2, Decimal("80.000")),
    }
    with pytest.raises(NotFound):
        press.get_run(w.session, w.actor, uuid.uuid4())
    with pytest.raises(InvalidInput):
        press.get_run(w.session, w.actor, "nope")


# --- list_runs --------------------------------------------------------------------------------


def _pages(w: World, limit: int, **filters: Any) -> list[list[uuid.UUID]]:
    pages: list[list[uuid.UUID]] = []
    cursor: str | None = None
    while True:
        page = press.list_runs(w.session, w.actor, {"limit": limit, "after": cursor, **filters})
        pages.append([item.id for item in page.items])
        assert len(page.items) <= limit
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 50, "pagination does not end"


@pytest.fixture
def seven_runs(w: World) -> list[PressRunRead]:
    """Seven runs of w.vendor; the third and fourth started at the same moment."""
    starts = [T0 + timedelta(hours=h) for h in (0, 1, 2, 2, 3, 5, 8)]
    return [w.start(start_time=start) for start in starts]


def test_list_runs_pages_through_every_run_once_in_a_stable_order(
    w: World, seven_runs: list[PressRunRead]
) -> None:
    expected = [
        run.id for run in sorted(seven_runs, key=lambda r: (r.start_time, r.id), reverse=True)
    ]
    for limit in (1, 2, 3, 6, 7, 8, 200):
        pages = _pages(w, limit, vendor_id=w.vendor.id)
        assert [run_id for page in pages for run_id in page] == expected, limit
        assert all(len(page) == limit for page in pages[:-1])
    assert [len(page) for page in _pages(w, 3, vendor_id=w.vendor.id)] == [3, 3, 1]
    # A page boundary between the two runs started together splits them correctly.
    tied = {seven_runs[2].id, seven_runs[3].id}
    pages = _pages(w, 4, vendor_id=w.vendor.id)
    assert pages[0][-1] in tied
    assert pages[1][0] in tied
    # The same query again gives the same pages.
    assert _pages(w, 3, vendor_id=w.vendor.id) == _pages(w, 3, vendor_id=w.vendor.id)


def test_list_runs_summaries(w: World, seven_runs: list[PressRunRead]) -> None:
    w.load(seven_runs[0], "100")
    w.load(seven_runs[0], "20", "lb")
    page = press.list_runs(w.session, w.actor, {"vendor_id": w.vendor.id, "limit": 10})
    summary = next(item for item in page.items if item.id == seven_runs[0].id)
    assert summary.vendor_name == w.vendor.name
    assert summary.load_count == 2
    assert summary.total_apple_weight_kg == Decimal("109.072")


def test_list_runs_filters(w: World, seven_runs: list[PressRunRead]) -> None:
    other_vendor = w.make.vendor()
    other_run = w.start(vendor=other_vendor, start_time=T0 + timedelta(hours=4))
    w.load(seven_runs[1], "100")
    w.complete(seven_runs[1])
    w.cancel(seven_runs[5], "no staff")

    def ids(**filters: Any) -> list[uuid.UUID]:
        return [run_id for page in _pages(w, 2, **filters) for run_id in page]

    mine = {run.id for run in seven_runs}
    assert set(ids(vendor_id=w.vendor.id)) == mine
    assert ids(vendor_id=other_vendor.id) == [other_run.id]
    assert ids(vendor_id=str(other_vendor.id)) == [other_run.id]
    assert ids(vendor_id=w.vendor.id, status="completed") == [seven_runs[1].id]
    assert ids(vendor_id=w.vendor.id, status=PressRunStatus.CANCELLED) == [seven_runs[5].id]
    assert set(ids(vendor_id=w.vendor.id, status="in_progress")) == mine - {
        seven_runs[1].id,
        seven_runs[5].id,
    }
    # since is inclusive, until exclusive.
    window = ids(
        vendor_id=w.vendor.id, since=T0 + timedelta(hours=2), until=T0 + timedelta(hours=5)
    )
    assert set(window) == {seven_runs[2].id, seven_runs[3].id, seven_runs[4].id}
    everything = ids(since=T0, until=T0 + timedelta(hours=9))
    assert set(everything) == mine | {other_run.id}
    assert ids(since=T0 + timedelta(hours=8, seconds=1), vendor_id=w.vendor.id) == []
    # A soft-deleted run is not listed.
    soft_delete_run(w.session, seven_runs[0].id)
    assert seven_runs[0].id not in ids(vendor_id=w.vendor.id)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "eyJhIjogMX0=",  # {"a": 1}
        "WzEsIDJd",  # [1, 2]
        "WyJub3QgYSBkYXRlIiwgIngiXQ==",  # ["not a date", "x"]
        "bnVsbA==",  # null
        "////",
        "WyIyMDI2LTEwLTAxVDA4OjAwOjAwIiwgIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJd",
    ],
)
def test_list_runs_bad_cursor(w: World, seven_runs: list[PressRunRead], cursor: str) -> None:
    with pytest.raises(InvalidInput) as info:
        press.list_runs(w.session, w.actor, {"after": cursor})
    assert info.value.code == "invalid_input"
    assert fields(info.value) == ["after"]
    assert "cursor" in str(info.value)
    # The session can still read.
    page = press.list_runs(w.session, w.actor, {"vendor_id": w.vendor.id, "limit": 10})
    assert len(page.items) == 7


@pytest.mark.parametrize("limit", [0, -1, 201, 500, True])
def test_list_runs_bad_limit(w: World, limit: int) -> None:
    with pytest.raises(InvalidInput) as info:
        press.list_runs(w.session, w.actor, {"limit": limit})
    assert info.value.code == "invalid_input"
    assert "limit" in str(info.value)
    assert fields(info.value) == ["limit"]


@pytest.mark.parametrize("field", ["since", "until"])
def test_list_runs_refuses_a_naive_datetime(w: World, field: str) -> None:
    with pytest.raises(InvalidInput, match="timezone") as info:
        press.list_runs(w.session, w.actor, {field: datetime(2026, 10, 1)})
    assert fields(info.value) == [field]


def test_list_runs_bad_status_and_vendor(w: World) -> None:
    with pytest.raises(InvalidInput, match="status"):
        press.list_runs(w.session, w.actor, {"status": "finished"})
    with pytest.raises(InvalidInput, match="vendor_id"):
        press.list_runs(w.session, w.actor, {"vendor_id": "acme"})


# --- available_fruit ---------------------------------------------------------------------------


def test_available_fruit_lists_lines_with_fruit_left(w: World) -> None:
    other_variety = w.make.variety()
    in_pounds = w.make.purchase_item(
        vendor=w.vendor, variety=other_variety, quantity=Decimal("500"), unit=Unit.LB
    )
    used_up = w.make.purchase_item(vendor=w.vendor, variety=w.variety, quantity=Decimal("100"))
    deleted = w.make.purchase_item(vendor=w.vendor, variety=w.variety)
    deleted.deleted_at = datetime.now(UTC)
    w.session.flush()
    other_vendor = w.make.vendor()
    theirs = w.make.purchase_item(vendor=other_vendor, variety=w.variety, quantity=Decimal("40"))

    run = w.start()
    w.load(run, "250")  # from w.item
    w.load(run, "100", item=used_up)
    w.load(run, "100", "lb", item=in_pounds)

    def listed(**filters: Any) -> dict[uuid.UUID, tuple[Decimal, Decimal, str]]:
        return {
            row.purchase_item_id: (row.pressed_kg, row.remaining_kg, row.variety_name)
            for row in press.available_fruit(w.session, w.actor, filters)
        }

    mine = listed(vendor_id=w.vendor.id)
    assert mine == {
        w.item.id: (Decimal("250.000"), Decimal("750.000"), w.variety.name),
        in_pounds.id: (Decimal("45.359"), Decimal("181.437"), other_variety.name),
    }
    assert listed(vendor_id=w.vendor.id, variety_id=other_variety.id) == {
        in_pounds.id: mine[in_pounds.id]
    }
    assert listed(variety_id=w.variety.id) == {
        w.item.id: mine[w.item.id],
        theirs.id: (Decimal("0"), Decimal("40.000"), w.variety.name),
    }
    assert listed(vendor_id=other_vendor.id, variety_id=other_variety.id) == {}
    listed_all = press.available_fruit(w.session, w.actor)
    row = next(r for r in listed_all if r.purchase_item_id == w.item.id)
    assert (row.vendor_id, row.vendor_name, row.quantity_kg) == (
        w.vendor.id,
        w.vendor.name,
        Decimal("1000.000"),
    )
    with pytest.raises(InvalidInput, match="variety_id"):
        press.available_fruit(w.session, w.actor, {"variety_id": "gala"})


def test_available_fruit_lines_are_what_validation_would_make_of_them(w: World) -> None:
    """The lines are built from the rows without validation: strict validation of each
    (the exact types, no None but where allowed, finite amounts) gives it back unchanged."""
    picked = w.make.purchase_item(vendor=w.vendor, quantity=Decimal("12.5"), unit=Unit.LB)
    picked.harvest_date = date(2026, 9, 20)
    w.make.juice_line(w.vendor, w.variety)  # no quantity_kg, and not listed
    w.load(w.start(), "250.5")
    lines = press.available_fruit(w.session, w.actor, {"vendor_id": w.vendor.id})
    assert {line.harvest_date for line in lines} == {None, date(2026, 9, 20)}
    assert len(lines) == 2
    assert any(line.pressed_kg for line in lines)
    strictly = {
        name: TypeAdapter(hint)
        for name, hint in get_type_hints(AvailableFruit, include_extras=True).items()
    }
    for line in lines:
        for name, value in dataclasses.asdict(line).items():
            assert strictly[name].validate_python(value, strict=True) == value, name


def test_a_type_built_without_validation_is_checked_against_its_statement() -> None:
    """Each column must load as its field's type, and may be NULL only where the field
    may be None: a read type that drifts from its statement fails when the module loads."""
    fields = list(get_type_hints(AvailableFruit).items())
    fruit = Compiled(queries.FRUIT)

    def drifted(name: str, kind: Any) -> Any:
        return dataclasses.make_dataclass(
            "Drifted", [(n, kind if n == name else t) for n, t in fields]
        )

    reads._built_as_they_are(fruit, AvailableFruit, kept_by_where="quantity_kg")
    with pytest.raises(TypeError, match="column quantity_kg"):
        reads._built_as_they_are(fruit, AvailableFruit)  # NULL for a line bought by volume
    with pytest.raises(TypeError, match="column harvest_date"):
        reads._built_as_they_are(fruit, drifted("harvest_date", date), kept_by_where="quantity_kg")
    with pytest.raises(TypeError, match="column pressed_kg"):
        reads._built_as_they_are(fruit, drifted("pressed_kg", float), kept_by_where="quantity_kg")


def test_available_fruit_leaves_out_inactive_growers(w: World) -> None:
    """A grower no run can be started for offers no fruit, whatever its lines hold."""
    retired = w.make.vendor(name="Retired Orchard", is_active=False)
    theirs = w.make.purchase_item(vendor=retired, variety=w.variety, quantity=Decimal("300"))
    listed = {row.purchase_item_id for row in press.available_fruit(w.session, w.actor)}
    assert theirs.id not in listed
    assert w.item.id in listed
    assert press.available_fruit(w.session, w.actor, {"vendor_id": retired.id}) == []
    assert theirs.id not in {
        row.purchase_item_id
        for row in press.available_fruit(w.session, w.actor, {"variety_id": w.variety.id})
    }
    # The same rule as start_run's.
    with refused(w.session, VendorInactive, "vendor_inactive", "Retired Orchard"):
        w.start(vendor=retired)
    # Reactivated, the grower's line is offered again, with all its fruit.
    retired.is_active = True
    w.session.flush()
    assert w.remaining(theirs) == Decimal("300.000")


def test_reading_functions_do_not_write(w: World) -> None:
    run = w.start()
    w.load(run)
    before = counts(w.session)
    press.get_run(w.session, w.actor, run.id)
    press.list_runs(w.session, w.actor)
    press.available_fruit(w.session, w.actor)
    press.yield_outliers(w.session, w.actor)
    report.press_summary(w.session, w.actor)
    assert counts(w.session) == before


def test_press_error_to_dict(w: World) -> None:
    run = w.start()
    with pytest.raises(InsufficientFruit) as info:
        w.load(run, "1000.001")
    assert info.value.to_dict() == {
        "code": "insufficient_fruit",
        "message": str(info.value),
        "details": {
            "purchase_item_id": str(w.item.id),
            "requested_kg": "1000.001",
            "remaining_kg": "1000.000",
        },
    }
    assert info.value.retryable is False


def test_a_grower_made_inactive_mid_run_takes_no_more_loads(session: Session, w: World) -> None:
    """The picker leaves an inactive grower's fruit out; add_load refuses it the same way,
    and the run can still be completed with what it has."""
    run = w.start()
    w.load(run, "10")
    w.vendor.is_active = False
    session.flush()
    assert w.remaining() == 0
    with refused(session, VendorInactive, "vendor_inactive", w.vendor.name, "reactivate"):
        w.load(run, "10")
    assert w.complete(run, litres="6").run.status == PressRunStatus.COMPLETED


def test_a_read_on_an_engine_that_never_connected_works(migrated_url: str) -> None:
    """The first request of a new process reads before anything else has connected."""
    fresh = make_engine(migrated_url)
    try:
        with Session(fresh) as session, pytest.raises(NotFound):
            press.get_run(session, press.Actor.system(), uuid.uuid4())
    finally:
        fresh.dispose()
