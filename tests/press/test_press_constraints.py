"""What the database itself refuses in press data, whoever writes it.

Every bad row is written with raw SQL inside a SAVEPOINT, so the test sees
PostgreSQL's own verdict (not the ORM's or Pydantic's) and the session stays
usable afterwards. Each refusal is checked by the constraint's full name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import CheckConstraint, Connection, ForeignKeyConstraint, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from cidery.models import Base, PressRun, PressRunLoad, PurchaseItem, User
from cidery.models.enums import PressRunStatus, Unit
from tests.factories import Factory

PRESS_TABLES = ("press_runs", "press_run_loads")
START = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)
END = START + timedelta(hours=6)


@dataclass
class Pressing:
    """A completed run (1000 kg -> 650 L into a vessel) with one 100 kg load."""

    run: PressRun
    load: PressRunLoad
    item: PurchaseItem

    def row_id(self, table: str) -> uuid.UUID:
        return self.run.id if table == "press_runs" else self.load.id


@pytest.fixture
def pressing(make: Factory) -> Pressing:
    item = make.purchase_item()
    run = make.run(
        status=PressRunStatus.COMPLETED,
        vessel_id=make.vessel().id,
        start_time=START,
        end_time=END,
        total_apple_weight_kg=Decimal("1000"),
        juice_volume=Decimal("650"),
        juice_volume_unit=Unit.LITRE,
        total_juice_volume_l=Decimal("650"),
        labor_hours=Decimal("6"),
        worker_count=2,
    )
    load = make.load(
        run, item, juice_volume_l=Decimal("65"), brix=Decimal("12.5"), ph=Decimal("3.6")
    )
    return Pressing(run=run, load=load, item=item)


def refused(session: Session, constraint: str, sql: str, **params: Any) -> None:
    """``sql`` fails with an IntegrityError naming ``constraint``; nothing it did remains."""
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        session.execute(text(sql), params)
    assert constraint in str(caught.value)
    assert caught.value.orig is not None
    assert caught.value.orig.diag.constraint_name == constraint  # type: ignore[attr-defined]


def drop_constraints(session: Session, table: str, names: tuple[str, ...]) -> None:
    """Drop constraints for the rest of the caller's SAVEPOINT (it rolls back with it)."""
    for name in names:
        session.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))


def insert_run(session: Session, vendor_id: uuid.UUID, **values: Any) -> dict[str, Any]:
    """INSERT a press run with raw SQL; returns the stored row."""
    values = {"vendor_id": vendor_id, **values}
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    row = session.execute(
        text(f"INSERT INTO press_runs ({columns}) VALUES ({placeholders}) RETURNING *"), values
    )
    return dict(row.mappings().one())


def completed_run_values(make: Factory, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": "completed",
        "vessel_id": make.vessel().id,
        "start_time": START,
        "end_time": END,
        "total_apple_weight_kg": Decimal("1000"),
        "juice_volume": Decimal("650"),
        "juice_volume_unit": "L",
        "total_juice_volume_l": Decimal("650"),
    }
    return {**values, **overrides}


# --- every CHECK constraint --------------------------------------------------------


@dataclass(frozen=True)
class BadRow:
    """An UPDATE of the valid ``pressing`` row that breaks exactly one CHECK constraint."""

    constraint: str
    assignments: str
    # CHECKs the bad row unavoidably breaks too. Each of these implies the tested
    # one (e.g. weight_kg = round(weight * factor) and weight_kg > 0 imply
    # weight > 0), so PostgreSQL, which tests CHECKs in alphabetical order, would
    # name them instead; dropping them inside the SAVEPOINT lets the tested
    # constraint speak for itself.
    shadowed_by: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return next(t for t in PRESS_TABLES if self.constraint.startswith(f"{t}_"))


# total_apple_weight_kg = 0 keeps extraction_rate NULL when the juice volume is broken.
NO_JUICE = "total_apple_weight_kg = 0, juice_volume = 0, total_juice_volume_l = 0"

CHECK_CASES = [
    BadRow("press_runs_completed_has_outcome_check", "vessel_id = NULL"),
    BadRow("press_runs_end_after_start_check", "end_time = start_time - interval '1 second'"),
    BadRow("press_runs_extraction_rate_range_check", "total_apple_weight_kg = 295"),
    BadRow("press_runs_juice_volume_complete_check", "juice_volume_unit = NULL"),
    BadRow(
        "press_runs_juice_volume_positive_check",
        NO_JUICE,
        shadowed_by=("press_runs_total_juice_volume_l_positive_check",),
    ),
    BadRow("press_runs_juice_volume_unit_is_volume_check", "juice_volume_unit = 'kg'"),
    BadRow("press_runs_labor_hours_nonnegative_check", "labor_hours = -0.01"),
    BadRow("press_runs_open_has_no_end_check", "status = 'in_progress'"),
    BadRow("press_runs_total_apple_weight_kg_nonnegative_check", "total_apple_weight_kg = -0.001"),
    BadRow("press_runs_total_juice_volume_l_matches_entry_check", "total_juice_volume_l = 650.001"),
    BadRow(
        "press_runs_total_juice_volume_l_positive_check",
        NO_JUICE,
        shadowed_by=("press_runs_juice_volume_positive_check",),
    ),
    BadRow("press_runs_worker_count_positive_check", "worker_count = 0"),
    BadRow("press_runs_labor_rate_nonnegative_check", "labor_rate = -0.01"),
    BadRow("press_runs_pomace_kg_positive_check", "pomace_kg = 0"),
    # The valid load has no weigh tag; these give it one that is wrong in one way.
    BadRow("press_run_loads_weigh_tag_complete_check", "gross_weight = 120"),
    BadRow("press_run_loads_tare_weight_nonnegative_check", "gross_weight = 99, tare_weight = -1"),
    # Also not a net of 100: weight_is_net_of_tare sorts after it.
    BadRow("press_run_loads_tare_below_gross_check", "gross_weight = 100, tare_weight = 100"),
    BadRow("press_run_loads_weight_is_net_of_tare_check", "gross_weight = 120, tare_weight = 10"),
    BadRow("press_run_loads_brix_range_check", "brix = 40.01"),
    BadRow("press_run_loads_juice_volume_l_positive_check", "juice_volume_l = 0"),
    BadRow("press_run_loads_load_sequence_positive_check", "load_sequence = 0"),
    BadRow("press_run_loads_ph_range_check", "ph = -0.01"),
    BadRow("press_run_loads_weight_kg_matches_entry_check", "weight_kg = 100.001"),
    # 0.001 lb is 0.00045 kg, which rounds to 0.000: weight > 0 but weight_kg is not.
    BadRow(
        "press_run_loads_weight_kg_positive_check",
        "weight = 0.001, weight_unit = 'lb', weight_kg = 0",
    ),
    BadRow(
        "press_run_loads_weight_positive_check",
        "weight = 0, weight_kg = 0",
        shadowed_by=("press_run_loads_weight_kg_positive_check",),
    ),
    # bushel is a weight unit of purchases, not of loads: the weight_kg check
    # would otherwise take a bushel for a kilogram.
    BadRow("press_run_loads_weight_unit_is_weight_check", "weight_unit = 'bushel'"),
]


@pytest.mark.parametrize("case", CHECK_CASES, ids=lambda case: case.constraint)
def test_check_constraint_refuses_a_bad_row(
    session: Session, pressing: Pressing, case: BadRow
) -> None:
    update = f"UPDATE {case.table} SET {case.assignments} WHERE id = :id"
    with session.begin_nested() as savepoint:
        drop_constraints(session, case.table, case.shadowed_by)
        refused(session, case.constraint, update, id=pressing.row_id(case.table))
        savepoint.rollback()  # the dropped constraints come back with it

    assert set(case.shadowed_by) <= checks_in_database(session)
    # The row the case starts from is still there and passes every CHECK (an UPDATE
    # tests them all again), so the refusal was the bad value's doing.
    touched = session.execute(
        text(f"UPDATE {case.table} SET notes = 'ok' WHERE id = :id"),
        {"id": pressing.row_id(case.table)},
    )
    assert touched.rowcount == 1


def _declared_checks() -> set[str]:
    return {
        str(constraint.name)
        for table in PRESS_TABLES
        for constraint in Base.metadata.tables[table].constraints
        if isinstance(constraint, CheckConstraint)
    }


def test_check_cases_cover_every_declared_check_constraint() -> None:
    covered = [case.constraint for case in CHECK_CASES]
    duplicated = sorted({name for name in covered if covered.count(name) > 1})
    assert not duplicated, f"more than one case for {duplicated}"
    declared = _declared_checks()
    assert not declared - set(covered), f"no case for {sorted(declared - set(covered))}"
    assert not set(covered) - declared, f"not declared: {sorted(set(covered) - declared)}"
    for case in CHECK_CASES:
        assert set(case.shadowed_by) <= declared, case


def checks_in_database(db: Connection | Session) -> set[str]:
    return set(
        db.execute(
            text(
                "SELECT conname FROM pg_constraint "
                "WHERE contype = 'c' AND conrelid = ANY(CAST(:tables AS regclass[]))"
            ),
            {"tables": list(PRESS_TABLES)},
        ).scalars()
    )


def test_migrated_check_constraints_are_the_declared_ones(connection: Connection) -> None:
    assert checks_in_database(connection) == _declared_checks()


# --- canonical amounts -----------------------------------------------------------------


def insert_load(
    session: Session, pressing: Pressing, sequence: int, **values: Any
) -> dict[str, Any]:
    values = {
        "press_run_id": pressing.run.id,
        "purchase_item_id": pressing.item.id,
        "apple_variety_id": pressing.item.apple_variety_id,
        "load_sequence": sequence,
        **values,
    }
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    sql = f"INSERT INTO press_run_loads ({columns}) VALUES ({placeholders}) RETURNING *"
    return dict(session.execute(text(sql), values).mappings().one())


def test_100_lb_is_stored_as_45_359_kg(session: Session, pressing: Pressing) -> None:
    row = insert_load(
        session, pressing, 2, weight=Decimal("100"), weight_unit="lb", weight_kg=Decimal("45.359")
    )
    assert (row["weight"], row["weight_unit"], row["weight_kg"]) == (
        Decimal("100.000"),
        "lb",
        Decimal("45.359"),
    )


@pytest.mark.parametrize(
    ("unit", "weight_kg"),
    [
        ("lb", "45.358"),  # a thousandth either side of round(100 * 0.45359237, 3)
        ("lb", "45.360"),
        ("lb", "100"),  # pounds stored as if they were kilograms
        ("kg", "45.359"),  # kilograms converted as if they were pounds
    ],
)
def test_weight_kg_that_disagrees_with_the_entry_is_refused(
    session: Session, pressing: Pressing, unit: str, weight_kg: str
) -> None:
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        insert_load(
            session, pressing, 2, weight=Decimal("100"), weight_unit=unit, weight_kg=weight_kg
        )
    assert "press_run_loads_weight_kg_matches_entry_check" in str(caught.value)


# --- press runs ----------------------------------------------------------------------------


def test_a_complete_completed_run_is_accepted(session: Session, make: Factory) -> None:
    row = insert_run(session, make.vendor().id, **completed_run_values(make))
    assert row["status"] == "completed"


@pytest.mark.parametrize(
    "missing",
    [
        {"vessel_id": None},
        {"end_time": None},
        {"juice_volume": None, "juice_volume_unit": None, "total_juice_volume_l": None},
    ],
    ids=["vessel", "end_time", "juice"],
)
def test_a_completed_run_without_its_outcome_is_refused(
    session: Session, make: Factory, missing: dict[str, None]
) -> None:
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        insert_run(session, make.vendor().id, **completed_run_values(make, **missing))
    assert "press_runs_completed_has_outcome_check" in str(caught.value)


def test_extraction_rate_is_generated_from_the_totals(session: Session, make: Factory) -> None:
    row = insert_run(session, make.vendor().id, **completed_run_values(make))
    assert row["extraction_rate"] == Decimal("0.6500")

    recomputed = session.execute(
        text(
            "UPDATE press_runs SET total_apple_weight_kg = 1300 "
            "WHERE id = :id RETURNING extraction_rate"
        ),
        {"id": row["id"]},
    ).scalar_one()
    assert recomputed == Decimal("0.5000")

    with pytest.raises(DBAPIError, match="extraction_rate"), session.begin_nested():
        session.execute(
            text("UPDATE press_runs SET extraction_rate = 0.7 WHERE id = :id"), {"id": row["id"]}
        )


def test_an_in_progress_run_without_weight_has_no_extraction_rate(
    session: Session, make: Factory
) -> None:
    row = insert_run(session, make.vendor().id)
    assert (row["status"], row["total_apple_weight_kg"], row["extraction_rate"]) == (
        "in_progress",
        Decimal("0.000"),
        None,
    )


@pytest.mark.parametrize(
    ("weight_kg", "juice_l"),
    [
        ("1000", "2200"),  # 2.2 L/kg: the factor of a pound/kilogram mix-up
        ("453.592", "650"),  # 1000 kg of fruit entered as 1000 lb: 1.433 L/kg
        ("1000", "1200.1"),  # 1.2001 L/kg, just over the limit
    ],
)
def test_an_impossible_extraction_rate_is_refused(
    session: Session, make: Factory, weight_kg: str, juice_l: str
) -> None:
    values = completed_run_values(
        make,
        total_apple_weight_kg=Decimal(weight_kg),
        juice_volume=Decimal(juice_l),
        total_juice_volume_l=Decimal(juice_l),
    )
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        insert_run(session, make.vendor().id, **values)
    assert "press_runs_extraction_rate_range_check" in str(caught.value)


def test_an_extraction_rate_of_exactly_1_2_is_accepted(session: Session, make: Factory) -> None:
    values = completed_run_values(
        make, juice_volume=Decimal("1200"), total_juice_volume_l=Decimal("1200")
    )
    assert insert_run(session, make.vendor().id, **values)["extraction_rate"] == Decimal("1.2")


def test_end_time_before_start_time_is_refused(session: Session, make: Factory) -> None:
    vendor_id = make.vendor().id
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        insert_run(
            session,
            vendor_id,
            status="cancelled",
            start_time=START,
            end_time=START - timedelta(microseconds=1),
        )
    assert "press_runs_end_after_start_check" in str(caught.value)
    # The boundary: a run may end the moment it starts.
    insert_run(session, vendor_id, status="cancelled", start_time=START, end_time=START)


# --- loads --------------------------------------------------------------------------------


def test_a_load_sequence_number_cannot_repeat_within_a_run(
    session: Session, make: Factory, pressing: Pressing
) -> None:
    refused(
        session,
        "press_run_loads_press_run_id_idx",
        "INSERT INTO press_run_loads "
        "(press_run_id, purchase_item_id, apple_variety_id, load_sequence, "
        " weight, weight_unit, weight_kg) "
        "VALUES (:run, :item, :variety, 1, 50, 'kg', 50)",
        run=pressing.run.id,
        item=pressing.item.id,
        variety=pressing.item.apple_variety_id,
    )
    # The same number in another run is fine.
    make.load(make.run(), pressing.item, sequence=1)


def test_a_load_must_have_its_purchase_lines_variety(
    session: Session, make: Factory, pressing: Pressing
) -> None:
    other_variety = make.variety()
    insert = (
        "INSERT INTO press_run_loads "
        "(press_run_id, purchase_item_id, apple_variety_id, load_sequence, "
        " weight, weight_unit, weight_kg) "
        "VALUES (:run, :item, :variety, 2, 50, 'kg', 50)"
    )
    refused(
        session,
        "press_run_loads_purchase_item_id_apple_variety_id_fkey",
        insert,
        run=pressing.run.id,
        item=pressing.item.id,
        variety=other_variety.id,
    )
    session.execute(
        text(insert),
        {
            "run": pressing.run.id,
            "item": pressing.item.id,
            "variety": pressing.item.apple_variety_id,
        },
    )


# --- deleting ------------------------------------------------------------------------------


def _count_loads(session: Session, run_id: uuid.UUID) -> int:
    return session.execute(
        text("SELECT count(*) FROM press_run_loads WHERE press_run_id = :id"), {"id": run_id}
    ).scalar_one()


def test_deleting_a_run_deletes_its_loads_only(
    session: Session, make: Factory, pressing: Pressing
) -> None:
    make.load(pressing.run, pressing.item, sequence=2)
    other = make.run()
    make.load(other, pressing.item)
    assert _count_loads(session, pressing.run.id) == 2

    session.execute(text("DELETE FROM press_runs WHERE id = :id"), {"id": pressing.run.id})

    assert _count_loads(session, pressing.run.id) == 0
    assert _count_loads(session, other.id) == 1


@dataclass(frozen=True)
class ReferencedRow:
    """Deleting the row ``target`` picks out is refused by ``constraint``."""

    constraint: str
    table: str
    target: Callable[[Pressing, uuid.UUID], uuid.UUID]
    # For users: the press column that references the user in this case.
    references: str | None = None
    # Other tables' foreign keys that PostgreSQL would check first (see the case).
    shadowed_by: tuple[tuple[str, str], ...] = ()


def _user(_: Pressing, user_id: uuid.UUID) -> uuid.UUID:
    return user_id


DELETE_CASES = [
    ReferencedRow("press_runs_vendor_id_fkey", "vendors", lambda p, _: p.run.vendor_id),
    ReferencedRow("press_runs_vessel_id_fkey", "vessels", lambda p, _: p.run.vessel_id),
    ReferencedRow(
        "press_run_loads_purchase_item_id_apple_variety_id_fkey",
        "purchase_items",
        lambda p, _: p.item.id,
    ),
    # A load's variety is always its purchase line's, so that line references
    # the variety too, and purchase_items' older foreign key fires first.
    ReferencedRow(
        "press_run_loads_apple_variety_id_fkey",
        "apple_varieties",
        lambda p, _: p.load.apple_variety_id,
        shadowed_by=(("purchase_items", "purchase_items_apple_variety_id_fkey"),),
    ),
    ReferencedRow("press_runs_created_by_fkey", "users", _user, "press_runs.created_by"),
    ReferencedRow("press_runs_updated_by_fkey", "users", _user, "press_runs.updated_by"),
    ReferencedRow("press_run_loads_created_by_fkey", "users", _user, "press_run_loads.created_by"),
    ReferencedRow("press_run_loads_updated_by_fkey", "users", _user, "press_run_loads.updated_by"),
]


@pytest.mark.parametrize("case", DELETE_CASES, ids=lambda case: case.constraint)
def test_deleting_a_row_press_data_references_is_refused(
    session: Session, pressing: Pressing, case: ReferencedRow
) -> None:
    user = User(email=f"{uuid.uuid4().hex[:8]}@example.com", name="Operator", password_hash="x")
    session.add(user)
    session.flush()
    if case.references:
        table, column = case.references.split(".")
        session.execute(
            text(f"UPDATE {table} SET {column} = :user WHERE id = :id"),
            {"user": user.id, "id": pressing.row_id(table)},
        )
    target = case.target(pressing, user.id)
    delete = f"DELETE FROM {case.table} WHERE id = :id"

    with session.begin_nested() as savepoint:
        for table, constraint in case.shadowed_by:
            drop_constraints(session, table, (constraint,))
        refused(session, case.constraint, delete, id=target)

        # Once the press run (and with it its loads) is gone, the same row can go:
        # the refusal was the press data's doing.
        session.execute(text("DELETE FROM press_runs WHERE id = :id"), {"id": pressing.run.id})
        assert session.execute(text(delete), {"id": target}).rowcount == 1
        savepoint.rollback()

    remaining = session.execute(
        text(f"SELECT count(*) FROM {case.table} WHERE id = :id"), {"id": target}
    ).scalar_one()
    assert remaining == 1


def test_delete_cases_cover_every_foreign_key_but_the_cascading_one() -> None:
    foreign_keys = {
        str(constraint.name): constraint
        for table in PRESS_TABLES
        for constraint in Base.metadata.tables[table].constraints
        if isinstance(constraint, ForeignKeyConstraint)
    }
    cascading = {name for name, fk in foreign_keys.items() if fk.ondelete == "CASCADE"}
    assert cascading == {"press_run_loads_press_run_id_fkey"}
    covered = {case.constraint for case in DELETE_CASES}
    assert len(covered) == len(DELETE_CASES)
    assert covered == foreign_keys.keys() - cascading


def test_deleting_a_purchase_whose_line_was_pressed_is_refused(
    session: Session, make: Factory, pressing: Pressing
) -> None:
    refused(
        session,
        "press_run_loads_purchase_item_id_apple_variety_id_fkey",
        "DELETE FROM purchases WHERE id = :id",
        id=pressing.item.purchase_id,
    )
    # A purchase whose lines were never pressed goes, and takes its lines with it.
    unpressed = make.purchase_item()
    session.execute(text("DELETE FROM purchases WHERE id = :id"), {"id": unpressed.purchase_id})
    remaining = session.execute(
        text("SELECT count(*) FROM purchase_items WHERE id = :id"), {"id": unpressed.id}
    ).scalar_one()
    assert remaining == 0


# --- a gap: NaN ------------------------------------------------------------------------------

# numeric columns accept 'NaN', and PostgreSQL orders NaN above every number, so
# "x > 0" holds for it and "x = round(NaN * f, 3)" too (NaN equals NaN). Only the
# CHECKs with an upper bound (brix, ph, extraction_rate) keep it out.
NAN_CASES = [
    pytest.param("press_run_loads", "weight = 'NaN', weight_kg = 'NaN'", id="load-weight"),
    pytest.param("press_run_loads", "juice_volume_l = 'NaN'", id="load-juice"),
    pytest.param("press_runs", "labor_hours = 'NaN'", id="labor-hours"),
    pytest.param(
        "press_runs",
        "total_apple_weight_kg = 0, juice_volume = 'NaN', total_juice_volume_l = 'NaN'",
        id="run-juice",
    ),
    pytest.param(
        "press_runs",
        "status = 'cancelled', total_apple_weight_kg = 'NaN', "
        "juice_volume = NULL, juice_volume_unit = NULL, total_juice_volume_l = NULL",
        id="run-apple-weight",
    ),
]


@pytest.mark.parametrize(("table", "assignments"), NAN_CASES)
def test_nan_amounts_are_refused(
    session: Session, pressing: Pressing, table: str, assignments: str
) -> None:
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text(f"UPDATE {table} SET {assignments} WHERE id = :id"),
            {"id": pressing.row_id(table)},
        )
