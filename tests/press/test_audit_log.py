"""Every press-service mutation leaves audit_logs rows in the caller's transaction.

Each row names the table and record, the operation, the row before and after
(``old_data``/``new_data``), ``diff`` with ``[old, new]`` for exactly the
columns that changed, the acting user and, for voids and cancellations, the
reason. A refused call leaves no audit row.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from cidery import audit, press
from cidery.db.engine import make_engine, session_factory
from cidery.models import AuditLog
from cidery.models.enums import AuditOperation, UserRole
from cidery.press import queries
from cidery.press.errors import InsufficientFruit, InvalidTransition, NotFound, PressError
from cidery.press.schemas import VolumeUnit, WeightUnit
from tests.factories import Factory, new_actor
from tests.press.support import World, audit_rows, counts


def _only(rows: list[AuditLog], **match: object) -> AuditLog:
    found = [row for row in rows if all(getattr(row, k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} audit rows match {match}"
    return found[0]


def test_start_run_is_logged_as_an_insert(w: World) -> None:
    run = w.start(notes="first pressing")
    [row] = audit_rows(w.session, run.id)
    assert row.table_name == "press_runs"
    assert row.record_id == run.id
    assert row.operation is AuditOperation.INSERT
    assert row.old_data is None
    assert row.diff is None
    assert row.reason is None
    assert row.changed_by == w.actor.user_id
    assert row.new_data is not None
    assert row.new_data["id"] == str(run.id)
    assert row.new_data["vendor_id"] == str(w.vendor.id)
    assert row.new_data["status"] == "in_progress"
    assert row.new_data["total_apple_weight_kg"] == "0.000"
    assert row.new_data["notes"] == "first pressing"
    assert row.new_data["created_by"] == str(w.actor.user_id)
    assert row.new_data["start_time"] == run.start_time.isoformat()
    # The snapshot is the whole row, one key per column.
    assert set(row.new_data) == {field.name for field in dataclasses.fields(run)}


def test_add_load_logs_the_load_and_the_run_total(w: World) -> None:
    run = w.start()
    load = w.load(run, "100")
    [load_row] = audit_rows(w.session, load.id)
    assert load_row.table_name == "press_run_loads"
    assert load_row.operation is AuditOperation.INSERT
    assert load_row.changed_by == w.actor.user_id
    assert load_row.new_data is not None
    assert load_row.new_data["weight"] == "100.000"
    assert load_row.new_data["weight_unit"] == "kg"
    assert load_row.new_data["weight_kg"] == "100.000"
    assert load_row.new_data["load_sequence"] == 1
    assert load_row.new_data["purchase_item_id"] == str(w.item.id)
    assert load_row.new_data["press_run_id"] == str(run.id)

    run_row = _only(audit_rows(w.session, run.id), operation=AuditOperation.UPDATE)
    assert run_row.table_name == "press_runs"
    assert run_row.changed_by == w.actor.user_id
    assert run_row.diff == {"total_apple_weight_kg": ["0.000", "100.000"]}
    assert run_row.old_data is not None
    assert run_row.new_data is not None
    assert run_row.old_data["total_apple_weight_kg"] == "0.000"
    assert run_row.new_data["total_apple_weight_kg"] == "100.000"

    # Another operator's load: the run's updated_by changes too, and says so.
    colleague = new_actor(w.session)
    entry = {"purchase_item_id": w.item.id, "weight": "50", "weight_unit": "lb"}
    press.add_load(w.session, colleague, run.id, entry)
    rows = audit_rows(w.session, run.id, table="press_runs")
    second = _only(rows, changed_by=colleague.user_id)
    assert second.diff == {
        "total_apple_weight_kg": ["100.000", "122.680"],
        "updated_by": [str(w.actor.user_id), str(colleague.user_id)],
    }


def test_void_load_is_logged_with_its_reason(w: World) -> None:
    run = w.start()
    w.load(run, "100")
    wrong = w.load(run, "50")
    w.void(wrong, "  bin weighed twice ")
    load_row = _only(audit_rows(w.session, wrong.id), operation=AuditOperation.UPDATE)
    assert load_row.table_name == "press_run_loads"
    assert load_row.reason == "bin weighed twice"
    assert load_row.changed_by == w.actor.user_id
    assert load_row.diff is not None
    assert set(load_row.diff) == {"deleted_at"}
    assert load_row.diff["deleted_at"][0] is None
    assert load_row.diff["deleted_at"][1] is not None
    run_row = _only(audit_rows(w.session, run.id), reason="bin weighed twice")
    assert run_row.operation is AuditOperation.UPDATE
    assert run_row.diff == {"total_apple_weight_kg": ["150.000", "100.000"]}


def test_complete_run_logs_the_run_and_the_vessel(w: World) -> None:
    run = w.start()
    w.load(run, "100")
    vessel = w.vessel()
    done = w.complete(run, "65", vessel=vessel, worker_count=3)
    [run_row] = [row for row in audit_rows(w.session, run.id) if row.diff and "status" in row.diff]
    assert run_row.changed_by == w.actor.user_id
    assert run_row.diff is not None
    assert run_row.diff["status"] == ["in_progress", "completed"]
    assert run_row.diff["vessel_id"] == [None, str(vessel.id)]
    assert run_row.diff["total_juice_volume_l"] == [None, "65.000"]
    assert run_row.diff["extraction_rate"] == [None, "0.6500"]
    assert run_row.diff["worker_count"] == [None, 3]
    assert run_row.diff["end_time"][0] is None
    assert done.run.end_time is not None
    assert run_row.diff["end_time"][1] == done.run.end_time.isoformat()
    # Only what changed: the total was already right, updated_at is never diffed; the
    # labor rate the lots were costed at is kept.
    assert set(run_row.diff) == {
        "status",
        "end_time",
        "vessel_id",
        "juice_volume",
        "juice_volume_unit",
        "total_juice_volume_l",
        "extraction_rate",
        "worker_count",
        "labor_rate",
    }
    [vessel_row] = audit_rows(w.session, vessel.id)
    assert vessel_row.table_name == "vessels"
    assert vessel_row.operation is AuditOperation.UPDATE
    assert vessel_row.changed_by == w.actor.user_id
    assert vessel_row.diff == {"status": ["available", "in_use"]}


def test_cancel_run_is_logged_with_its_reason(w: World) -> None:
    run = w.start()
    w.load(run, "100")
    w.cancel(run, "storm")
    row = _only(audit_rows(w.session, run.id), reason="storm")
    assert row.operation is AuditOperation.UPDATE
    assert row.changed_by == w.actor.user_id
    assert row.diff is not None
    assert set(row.diff) == {"status", "end_time", "notes"}
    assert row.diff["status"] == ["in_progress", "cancelled"]
    assert row.diff["notes"] == [None, "Cancelled: storm"]


def test_a_refused_call_leaves_no_audit_row(w: World) -> None:
    run = w.start()
    load = w.load(run, "900")
    before = counts(w.session)
    ghost = press.Actor(user_id=uuid.uuid4(), role=UserRole.OPERATOR)
    entry = {"purchase_item_id": w.item.id, "weight": "1", "weight_unit": "kg"}
    outcome = {"juice_volume": "600", "juice_volume_unit": "L", "vessel_id": w.vessel().id}
    refusals: list[tuple[type[PressError], object]] = [
        (InsufficientFruit, lambda: w.load(run, "100.001")),
        (NotFound, lambda: press.add_load(w.session, ghost, run.id, entry)),
        (NotFound, lambda: press.void_load(w.session, ghost, load.id, {"reason": "typo"})),
        (NotFound, lambda: press.cancel_run(w.session, ghost, run.id, {"reason": "storm"})),
        (NotFound, lambda: press.complete_run(w.session, ghost, run.id, outcome)),
    ]
    for error, call in refusals:
        with pytest.raises(error):
            call()  # type: ignore[operator]
    assert counts(w.session).audit_logs == before.audit_logs
    w.cancel(run, "done for today")
    with pytest.raises(InvalidTransition):
        w.cancel(run, "again")
    assert counts(w.session).audit_logs == before.audit_logs + 1


def test_audit_rows_commit_and_roll_back_with_the_callers_transaction(clone_url: str) -> None:
    engine = make_engine(clone_url)
    sessions = session_factory(engine)
    try:
        with sessions() as setup:
            make = Factory(setup)
            actor = new_actor(setup)
            vendor = make.vendor()
            item = make.purchase_item(vendor=vendor)
            vessel = make.vessel()
            setup.commit()

        def logged() -> int:
            with engine.connect() as other:
                return other.execute(select(func.count()).select_from(AuditLog)).scalar_one()

        # The typed inputs, as the API hands them over.
        start = press.PressRunCreate(vendor_id=vendor.id)
        entry = press.PressRunLoadCreate(
            purchase_item_id=item.id, weight=Decimal("100"), weight_unit=WeightUnit.KG
        )
        outcome = press.PressRunComplete(
            juice_volume=Decimal("70"), juice_volume_unit=VolumeUnit.LITRE, vessel_id=vessel.id
        )

        # Rolled back: the run and its audit rows go together.
        with sessions() as session:
            run = press.start_run(session, actor, start)
            press.add_load(session, actor, run.id, entry)
            assert logged() == 0, "audit rows visible before commit"
            session.rollback()
        assert logged() == 0

        # Committed: all of them, in one transaction with the change.
        with sessions() as session:
            run = press.start_run(session, actor, start)
            press.add_load(session, actor, run.id, entry)
            press.complete_run(session, actor, run.id, outcome)
            assert logged() == 0
            session.commit()
        # The run (start, load, completion), the load, the vessel, and the juice lot: its
        # batch, its link to the run, its cost and its two cost items (the line, labor).
        assert logged() == 10
        with sessions() as check:
            assert len(audit_rows(check, run.id)) == 3  # insert, load, completion
            assert len(audit_rows(check, vessel.id)) == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
@pytest.mark.parametrize("microsecond", [0, 120000, 5])
def test_add_load_audit_rows_are_what_audit_entry_writes(
    w: World, zone: str, microsecond: int
) -> None:
    """The database writes add_load's audit rows (press_add_load); their JSON must be
    exactly what cidery.audit.entry makes of the same rows in Python: decimals as their
    text, timestamps as isoformat() gives them (microseconds only when there are some,
    the offset of the session's time zone, half hours included)."""
    w.session.execute(text(f"SET LOCAL TimeZone = '{zone}'"))
    run = w.start(start_time=datetime(2026, 9, 1, 8, 0, tzinfo=UTC))
    before = w.session.execute(select(queries.runs).where(queries.runs.c.id == run.id))
    old = before.mappings().one()
    pressed_at = datetime(2026, 9, 1, 8, 30, 15, microsecond, tzinfo=UTC)
    load = w.load(
        run,
        "12.5",
        "lb",
        juice_volume_l="3.250",
        brix="12.40",
        ph="3.50",
        notes="first bin",
        pressed_at=pressed_at,
    )
    new_load = (
        w.session.execute(select(queries.loads).where(queries.loads.c.id == load.id))
        .mappings()
        .one()
    )
    new_run = (
        w.session.execute(select(queries.runs).where(queries.runs.c.id == run.id)).mappings().one()
    )
    expected_load = audit.entry(
        table="press_run_loads",
        record_id=load.id,
        operation=AuditOperation.INSERT,
        actor=w.actor.user_id,
        new=new_load,
    )
    expected_run = audit.entry(
        table="press_runs",
        record_id=run.id,
        operation=AuditOperation.UPDATE,
        actor=w.actor.user_id,
        old=old,
        new=new_run,
    )
    for expected in (expected_load, expected_run):
        [row] = [
            r
            for r in audit_rows(w.session, expected["record_id"])
            if r.operation is expected["operation"]
        ]
        assert row.table_name == expected["table_name"]
        assert row.old_data == expected["old_data"]
        assert row.new_data == expected["new_data"]
        assert row.diff == expected["diff"]
        assert row.reason is None
        assert row.changed_by == w.actor.user_id
    assert (
        expected_load["new_data"]["pressed_at"]
        == pressed_at.astimezone(new_load["pressed_at"].tzinfo).isoformat()
    )
