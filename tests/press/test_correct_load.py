"""press.correct_load: a load of an in-progress run corrected in place, field by field.

The corrected load obeys add_load's rules (line live, of the run's grower, with the
fruit left, counting what the load already draws on its own line); the fruit moves
between lines (``pressed_kg``, kept by the triggers), the run's total follows the
weight, and the change is audited. A refusal leaves every row as it was: loads,
runs, purchase lines and the audit log.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from cidery import press
from cidery.models import AuditLog, PurchaseItem
from cidery.models.enums import AuditOperation, PressRunStatus, UserRole
from cidery.press import queries
from cidery.press.checks import pressed_fruit_agrees
from cidery.press.errors import (
    InsufficientFruit,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PressError,
    VendorInactive,
    VendorMismatch,
)
from cidery.press.schemas import LoadCorrection, PressRunDetail, PressRunLoadRead, WeightUnit
from tests.factories import new_actor
from tests.press.support import World, audit_rows, fields, refused


def correct(w: World, load: PressRunLoadRead, **fields: Any) -> PressRunDetail:
    """The correction sent as a mapping, as the API sends it."""
    return press.correct_load(w.session, w.actor, load.id, fields)


def the_load(detail: PressRunDetail, load: PressRunLoadRead) -> PressRunLoadRead:
    [found] = [row for row in detail.loads if row.id == load.id]
    return found


def pressed(session: Session, item: PurchaseItem) -> Decimal:
    return session.execute(
        select(PurchaseItem.pressed_kg).where(PurchaseItem.id == item.id)
    ).scalar_one()


def assert_fruit_agrees(session: Session) -> None:
    agrees, detail = pressed_fruit_agrees(session.connection())
    assert agrees, detail


def state(session: Session) -> tuple[list[Row[Any]], ...]:
    """Every row a correction could touch: loads, runs, purchase lines, audit rows."""
    rows = [
        list(session.execute(select(table).order_by(table.c.id)).all())
        for table in (queries.loads, queries.runs, queries.items)
    ]
    rows.append(list(session.execute(select(AuditLog.id).order_by(AuditLog.id)).all()))
    return tuple(rows)


@contextmanager
def unchanged(
    w: World, error: type[PressError], code: str, *message_parts: str
) -> Iterator[pytest.ExceptionInfo[PressError]]:
    """``refused`` (the exact error, no row added), and no row changed either."""
    before = state(w.session)
    with refused(w.session, error, code, *message_parts) as info:
        yield info
    assert state(w.session) == before, "a refused correction changed rows"
    assert_fruit_agrees(w.session)


# --- each field ---------------------------------------------------------------------------


def test_weight_and_unit_together(w: World) -> None:
    run = w.start()
    load = w.load(run, "100")
    detail = correct(w, load, weight="220", weight_unit="lb")
    fixed = the_load(detail, load)
    # 220 lb x 0.45359237 = 99.7903214 kg, rounded as add_load rounds.
    assert (fixed.weight, fixed.weight_unit, fixed.weight_kg) == (
        Decimal("220.000"),
        WeightUnit.LB,
        Decimal("99.790"),
    )
    assert detail.run.total_apple_weight_kg == Decimal("99.790")
    assert detail.total_weight_kg == Decimal("99.790")
    assert pressed(w.session, w.item) == Decimal("99.790")
    assert fixed.updated_by == w.actor.user_id
    assert (fixed.load_sequence, fixed.created_at) == (load.load_sequence, load.created_at)
    assert detail == w.detail(run)
    assert_fruit_agrees(w.session)


def test_the_unit_alone_rereads_the_weight_as_entered(w: World) -> None:
    """Pounds entered as kilograms: the number stays, the unit and the kilograms change."""
    run = w.start()
    load = w.load(run, "100", "kg")
    fixed = the_load(correct(w, load, weight_unit="lb"), load)
    assert (fixed.weight, fixed.weight_unit, fixed.weight_kg) == (
        Decimal("100.000"),
        WeightUnit.LB,
        Decimal("45.359"),
    )
    assert w.read(run).total_apple_weight_kg == Decimal("45.359")
    assert w.remaining() == Decimal("954.641")
    # And back again.
    fixed = the_load(correct(w, load, weight_unit="kg"), load)
    assert (fixed.weight, fixed.weight_kg) == (Decimal("100.000"), Decimal("100.000"))
    assert w.remaining() == Decimal("900.000")
    assert_fruit_agrees(w.session)


def test_a_weight_needs_its_unit(w: World) -> None:
    run = w.start()
    load = w.load(run, "100", "lb")
    with unchanged(w, InvalidInput, "invalid_input", "weight_unit") as info:
        correct(w, load, weight="90")
    assert fields(info.value) == ["LoadCorrection"]
    with pytest.raises(ValidationError, match="weight_unit"):
        LoadCorrection(weight=Decimal("90"))


def test_brix_ph_and_notes_are_set_and_cleared(w: World) -> None:
    run = w.start()
    load = w.load(run, "100", notes="bin 4")
    fixed = the_load(correct(w, load, brix="12.5", ph=Decimal("3.4"), notes=" bin 5 "), load)
    assert (fixed.brix, fixed.ph, fixed.notes) == (Decimal("12.50"), Decimal("3.40"), "bin 5")
    fixed = the_load(correct(w, load, brix=None), load)
    assert (fixed.brix, fixed.ph, fixed.notes) == (None, Decimal("3.40"), "bin 5")
    fixed = the_load(correct(w, load, ph=None, notes=None), load)
    assert (fixed.brix, fixed.ph, fixed.notes) == (None, None, None)
    # The weight and the fruit did not move.
    assert fixed.weight_kg == Decimal("100.000")
    assert w.read(run).total_apple_weight_kg == Decimal("100.000")
    assert w.remaining() == Decimal("900.000")


def test_a_typed_correction_is_accepted_too(w: World) -> None:
    run = w.start()
    load = w.load(run, "100")
    wanted = press.LoadCorrection(weight=Decimal("80"), weight_unit=press.WeightUnit.KG)
    detail = press.correct_load(w.session, w.actor, str(load.id), wanted)
    assert the_load(detail, load).weight_kg == Decimal("80.000")


def test_moving_a_load_to_another_line_moves_its_fruit(w: World) -> None:
    other_variety = w.make.variety()
    other = w.make.purchase_item(vendor=w.vendor, variety=other_variety, quantity=Decimal("500"))
    run = w.start()
    load = w.load(run, "100")
    w.load(run, "50")
    assert (pressed(w.session, w.item), pressed(w.session, other)) == (Decimal("150.000"), 0)

    detail = correct(w, load, purchase_item_id=str(other.id))
    moved = the_load(detail, load)
    assert moved.purchase_item_id == other.id
    assert moved.apple_variety_id == other_variety.id
    assert (pressed(w.session, w.item), pressed(w.session, other)) == (
        Decimal("50.000"),
        Decimal("100.000"),
    )
    # The run's total is the same fruit; its varieties follow the line.
    assert detail.run.total_apple_weight_kg == Decimal("150.000")
    assert {v.apple_variety_id: v.weight_kg for v in detail.varieties} == {
        w.variety.id: Decimal("50.000"),
        other_variety.id: Decimal("100.000"),
    }
    assert_fruit_agrees(w.session)

    # Moved and reweighed at once.
    correct(w, load, purchase_item_id=w.item.id, weight="120", weight_unit="kg")
    assert (pressed(w.session, w.item), pressed(w.session, other)) == (Decimal("170.000"), 0)
    assert w.read(run).total_apple_weight_kg == Decimal("170.000")
    assert_fruit_agrees(w.session)


@pytest.mark.parametrize(("weight", "left"), [("250", "750.000"), ("40.5", "959.500")])
def test_a_heavier_or_lighter_load_draws_more_or_less(w: World, weight: str, left: str) -> None:
    run = w.start()
    load = w.load(run, "100")
    detail = correct(w, load, weight=weight, weight_unit="kg")
    assert detail.run.total_apple_weight_kg == Decimal(weight)
    assert pressed(w.session, w.item) == Decimal(weight)
    assert w.remaining() == Decimal(left)
    assert_fruit_agrees(w.session)


def test_a_correction_that_changes_nothing_writes_nothing(w: World) -> None:
    run = w.start()
    load = w.load(run, "100", brix=Decimal("12"))
    before = state(w.session)
    detail = correct(w, load, weight="100.000", weight_unit="kg", brix="12.00")
    assert state(w.session) == before
    assert detail == w.detail(run)


# --- refusals -----------------------------------------------------------------------------


def test_more_fruit_than_is_left_counting_the_loads_own_draw(w: World) -> None:
    run = w.start()
    load = w.load(run, "600")
    w.load(run, "300")
    # 100 kg are left, and this load's own 600: up to 700 kg fits.
    with unchanged(w, InsufficientFruit, "insufficient_fruit", "700.000", "700.001") as info:
        correct(w, load, weight="700.001", weight_unit="kg")
    error = info.value
    assert isinstance(error, InsufficientFruit)
    assert (error.requested_kg, error.remaining_kg) == (Decimal("700.001"), Decimal("700.000"))
    assert error.details["purchase_item_id"] == str(w.item.id)
    # In pounds: 1544 lb = 700.347 kg.
    with unchanged(w, InsufficientFruit, "insufficient_fruit") as info:
        correct(w, load, weight_unit="lb", weight="1544")
    assert info.value.details["requested_kg"] == "700.347"
    assert correct(w, load, weight="700", weight_unit="kg").run.total_apple_weight_kg == Decimal(
        "1000.000"
    )
    assert w.remaining() == 0
    assert_fruit_agrees(w.session)


def test_moving_to_a_line_without_enough_fruit(w: World) -> None:
    small = w.make.purchase_item(vendor=w.vendor, quantity=Decimal("80"))
    run = w.start()
    load = w.load(run, "100")
    w.load(run, "30", item=small)
    with unchanged(w, InsufficientFruit, "insufficient_fruit", str(small.id), "50.000") as info:
        correct(w, load, purchase_item_id=str(small.id))
    assert isinstance(info.value, InsufficientFruit)
    assert info.value.remaining_kg == Decimal("50.000")
    # Lighter, it fits.
    correct(w, load, purchase_item_id=str(small.id), weight="50", weight_unit="kg")
    assert (pressed(w.session, small), pressed(w.session, w.item)) == (Decimal("80.000"), 0)
    assert_fruit_agrees(w.session)


def test_moving_to_another_growers_line(w: World) -> None:
    other = w.make.purchase_item(vendor=w.make.vendor(), variety=w.variety)
    run = w.start()
    load = w.load(run, "100")
    with unchanged(w, VendorMismatch, "vendor_mismatch", str(other.id), "grower") as info:
        correct(w, load, purchase_item_id=other.id)
    assert info.value.details == {"purchase_item_id": str(other.id)}
    assert pressed(w.session, other) == 0


def test_moving_to_a_line_that_is_not_there(w: World) -> None:
    run = w.start()
    load = w.load(run, "100")
    missing = uuid.uuid4()
    with unchanged(w, NotFound, "not_found", "purchase line", str(missing)):
        correct(w, load, purchase_item_id=missing)
    gone = w.make.purchase_item(vendor=w.vendor)
    gone.deleted_at = datetime.now(UTC)
    w.session.flush()
    with unchanged(w, NotFound, "not_found", "purchase line", str(gone.id)):
        correct(w, load, purchase_item_id=gone.id)
    with unchanged(w, InvalidInput, "invalid_input", "purchase_item_id"):
        correct(w, load, purchase_item_id="line-7")


def test_moving_to_a_line_bought_by_volume(w: World) -> None:
    juice = w.make.juice_line(w.vendor, w.variety)
    run = w.start()
    load = w.load(run, "100")
    with unchanged(w, InvalidInput, "invalid_input", "volume") as info:
        correct(w, load, purchase_item_id=juice.id)
    assert fields(info.value) == ["purchase_item_id"]


def test_an_inactive_grower_gives_no_more_fruit_but_its_loads_can_be_fixed(w: World) -> None:
    run = w.start()
    load = w.load(run, "100")
    w.vendor.is_active = False
    w.session.flush()
    with unchanged(w, VendorInactive, "vendor_inactive", w.vendor.name):
        correct(w, load, weight="101", weight_unit="kg")
    # What draws no more is a correction of the record, and allowed.
    detail = correct(w, load, weight="90", weight_unit="kg", brix="11")
    assert the_load(detail, load).weight_kg == Decimal("90.000")
    assert pressed(w.session, w.item) == Decimal("90.000")


def test_a_lighter_load_of_a_line_deleted_since_gives_its_fruit_back(w: World) -> None:
    run = w.start()
    load = w.load(run, "100")
    w.item.deleted_at = datetime.now(UTC)
    w.session.flush()
    with unchanged(w, NotFound, "not_found", "purchase line", str(w.item.id)):
        correct(w, load, weight="110", weight_unit="kg")
    correct(w, load, weight="60", weight_unit="kg")
    assert pressed(w.session, w.item) == Decimal("60.000")
    assert_fruit_agrees(w.session)


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_a_finished_runs_loads_cannot_be_corrected(w: World, status: str) -> None:
    run, load = w.completed_run() if status == "completed" else w.cancelled_run()
    with unchanged(w, InvalidTransition, "invalid_transition", status, str(run.id)) as info:
        correct(w, load, brix="12")
    assert info.value.details == {"status": status}


def test_a_voided_or_unknown_load_is_not_found(w: World) -> None:
    run = w.start()
    load = w.load(run, "100")
    w.void(load, "weighed twice")
    with unchanged(w, NotFound, "not_found", "load", str(load.id)):
        correct(w, load, brix="12")
    missing = uuid.uuid4()
    with unchanged(w, NotFound, "not_found", "load", str(missing)):
        press.correct_load(w.session, w.actor, missing, {"brix": "12"})
    with unchanged(w, InvalidInput, "invalid_input", "load_id"):
        press.correct_load(w.session, w.actor, "load-1", {"brix": "12"})
    assert w.remaining() == Decimal("1000.000")


@pytest.mark.parametrize(
    ("correction", "field"),
    [
        ({}, "LoadCorrection"),
        ({"reason": "typo"}, "LoadCorrection"),
        ({"weight": None, "weight_unit": "kg"}, "weight"),
        ({"weight_unit": None}, "weight_unit"),
        ({"purchase_item_id": None}, "purchase_item_id"),
        ({"weight": "0", "weight_unit": "kg"}, "weight"),
        ({"weight": "NaN", "weight_unit": "kg"}, "weight"),
        ({"weight": "1.2345", "weight_unit": "kg"}, "weight"),
        ({"weight": "12345678", "weight_unit": "kg"}, "weight"),
        ({"weight": "10", "weight_unit": "bushel"}, "weight_unit"),
        ({"brix": "41"}, "brix"),
        ({"ph": "14.5"}, "ph"),
        ({"notes": "x" * 4001}, "notes"),
        ({"notes": "a\x00b"}, "notes"),
        ({"brix": "12", "reason": " "}, "reason"),
        ({"brix": "12", "juice_volume_l": "10"}, "juice_volume_l"),
    ],
)
def test_invalid_corrections(w: World, correction: dict[str, Any], field: str) -> None:
    run = w.start()
    load = w.load(run, "100")
    with unchanged(w, InvalidInput, "invalid_input") as info:
        correct(w, load, **correction)
    assert fields(info.value) == [field]


def test_a_weight_below_the_stored_gram(w: World) -> None:
    run = w.start()
    load = w.load(run, "0.001", "kg")
    # 0.001 lb = 0.00045 kg: below the stored gram.
    with unchanged(w, InvalidInput, "invalid_input", "0.001 lb", "1 g") as info:
        correct(w, load, weight_unit="lb")
    assert fields(info.value) == ["weight"]


def test_a_refusal_leaves_the_transaction_usable(w: World) -> None:
    run = w.start()
    load = w.load(run, "100")
    with unchanged(w, InsufficientFruit, "insufficient_fruit"):
        correct(w, load, weight="2000", weight_unit="kg")
    assert the_load(correct(w, load, weight="200", weight_unit="kg"), load).weight_kg == Decimal(
        "200.000"
    )
    w.assert_usable()


def test_an_unknown_actor_is_refused(w: World) -> None:
    run = w.start()
    load = w.load(run, "100")
    ghost = press.Actor(user_id=uuid.uuid4(), role=UserRole.OPERATOR)
    with unchanged(w, NotFound, "not_found", "user", str(ghost.user_id)):
        press.correct_load(w.session, ghost, load.id, {"brix": "12"})


# --- the audit log ------------------------------------------------------------------------


def test_a_correction_is_audited_with_old_new_and_diff(w: World) -> None:
    run = w.start()
    load = w.load(run, "100", brix=Decimal("11"))
    colleague = new_actor(w.session)
    press.correct_load(
        w.session,
        colleague,
        load.id,
        {"weight_unit": "lb", "brix": None, "reason": " scale was in pounds "},
    )
    row = _only(audit_rows(w.session, load.id), operation=AuditOperation.UPDATE)
    assert row.table_name == "press_run_loads"
    assert row.changed_by == colleague.user_id
    assert row.reason == "scale was in pounds"
    assert row.diff == {
        "weight_unit": ["kg", "lb"],
        "weight_kg": ["100.000", "45.359"],
        "brix": ["11.00", None],
        "updated_by": [str(w.actor.user_id), str(colleague.user_id)],
    }
    assert row.old_data is not None
    assert row.new_data is not None
    assert (row.old_data["weight_kg"], row.new_data["weight_kg"]) == ("100.000", "45.359")
    assert set(row.new_data) == {field.name for field in dataclasses.fields(PressRunLoadRead)}

    run_rows = [r for r in audit_rows(w.session, run.id) if r.reason == "scale was in pounds"]
    [run_row] = run_rows
    assert run_row.table_name == "press_runs"
    assert run_row.operation is AuditOperation.UPDATE
    assert run_row.changed_by == colleague.user_id
    assert run_row.diff == {
        "total_apple_weight_kg": ["100.000", "45.359"],
        "updated_by": [str(w.actor.user_id), str(colleague.user_id)],
    }


def test_a_correction_that_keeps_the_weight_logs_the_load_only(w: World) -> None:
    other = w.make.purchase_item(vendor=w.vendor, variety=w.variety)
    run = w.start()
    load = w.load(run, "100")
    logged = w.session.scalar(select(func.count()).select_from(AuditLog))
    correct(w, load, purchase_item_id=other.id, notes="bin was from the second lot")
    assert w.session.scalar(select(func.count()).select_from(AuditLog)) == (logged or 0) + 1
    row = _only(audit_rows(w.session, load.id), operation=AuditOperation.UPDATE)
    assert row.diff == {
        "purchase_item_id": [str(w.item.id), str(other.id)],
        "notes": [None, "bin was from the second lot"],
    }
    assert row.reason is None


def _only(rows: list[AuditLog], **match: object) -> AuditLog:
    found = [row for row in rows if all(getattr(row, k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} audit rows match {match}"
    return found[0]


def test_the_run_total_stays_the_sum_of_its_loads(w: World) -> None:
    other = w.make.purchase_item(vendor=w.vendor)
    run = w.start()
    first = w.load(run, "100")
    second = w.load(run, "55.5", "lb")
    correct(w, first, weight="80.25", weight_unit="kg")
    correct(w, second, weight_unit="kg", purchase_item_id=other.id)
    w.void(first, "double-counted")
    detail = w.detail(run)
    assert detail.run.total_apple_weight_kg == detail.total_weight_kg == Decimal("55.500")
    assert w.complete(run, litres="30").run.status is PressRunStatus.COMPLETED
    assert (pressed(w.session, w.item), pressed(w.session, other)) == (0, Decimal("55.500"))
    assert_fruit_agrees(w.session)
