"""The fruit pressed from a purchase line: ``purchase_items.pressed_kg``, kept by triggers.

Whatever writes the loads — the service, the ORM, plain SQL — the line's
``pressed_kg`` equals what :data:`cidery.press.queries.PRESSED_BY_LINE` sums from
the loads, the database refuses an over-allocation, and two transactions cannot
both draw the last kilograms at any isolation level.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cidery import press
from cidery.db.engine import make_engine
from cidery.migrations import runner
from cidery.models import PressRun, PressRunLoad, PurchaseItem
from cidery.models.enums import PressRunStatus, UserRole
from cidery.press import queries
from cidery.press.checks import pressed_fruit_agrees
from cidery.press.errors import Conflict, InsufficientFruit
from tests.factories import Factory, new_actor


def pressed(session: Session | Connection, item_id: uuid.UUID) -> Decimal:
    return session.execute(
        select(PurchaseItem.pressed_kg).where(PurchaseItem.id == item_id)
    ).scalar_one()


def summed(session: Session | Connection, item_id: uuid.UUID) -> Decimal:
    row = session.execute(
        queries.PRESSED_BY_LINE.where(PressRunLoad.purchase_item_id == item_id)
    ).first()
    return row.pressed_kg if row else Decimal(0)


def assert_kept(session: Session, *item_ids: uuid.UUID) -> None:
    for item_id in item_ids:
        assert pressed(session, item_id) == summed(session, item_id)


def test_every_change_to_loads_and_runs_keeps_pressed_kg(session: Session, make: Factory) -> None:
    vendor = make.vendor()
    variety = make.variety()
    first = make.purchase_item(vendor=vendor, variety=variety)
    second = make.purchase_item(vendor=vendor, variety=variety)
    run = make.run(vendor)
    a = make.load(run, first, sequence=1, weight=Decimal("100"))
    b = make.load(run, first, sequence=2, weight=Decimal("50"))
    assert pressed(session, first.id) == Decimal("150.000")

    session.execute(
        update(PressRunLoad).where(PressRunLoad.id == a.id).values(deleted_at=func.now())
    )
    assert pressed(session, first.id) == Decimal("50.000")
    session.execute(
        update(PressRunLoad)
        .where(PressRunLoad.id == b.id)
        .values(purchase_item_id=second.id, weight=Decimal("70"), weight_kg=Decimal("70"))
    )
    assert (pressed(session, first.id), pressed(session, second.id)) == (0, Decimal("70.000"))

    session.execute(
        update(PressRun)
        .where(PressRun.id == run.id)
        .values(status=PressRunStatus.CANCELLED, end_time=func.now())
    )
    assert pressed(session, second.id) == 0
    session.execute(
        update(PressRun)
        .where(PressRun.id == run.id)
        .values(status=PressRunStatus.IN_PROGRESS, end_time=None)
    )
    assert pressed(session, second.id) == Decimal("70.000")
    session.execute(update(PressRun).where(PressRun.id == run.id).values(deleted_at=func.now()))
    assert pressed(session, second.id) == 0
    assert_kept(session, first.id, second.id)


def test_deleting_a_run_gives_its_fruit_back_once(session: Session, make: Factory) -> None:
    """The run's trigger gives the loads back before the cascade deletes them; the loads'
    own trigger then finds no run and gives nothing back a second time."""
    item = make.purchase_item()
    kept = make.run()
    make.load(kept, item, weight=Decimal("100"))
    run = make.run()
    make.load(run, item, sequence=1, weight=Decimal("300"))
    make.load(run, item, sequence=2, weight=Decimal("200"))
    assert pressed(session, item.id) == Decimal("600.000")
    session.execute(delete(PressRun).where(PressRun.id == run.id))
    assert pressed(session, item.id) == Decimal("100.000")
    assert_kept(session, item.id)


def test_the_database_refuses_an_over_allocation_whoever_writes(
    session: Session, make: Factory
) -> None:
    item = make.purchase_item(quantity=Decimal("100"))
    run = make.run()
    make.load(run, item, sequence=1, weight=Decimal("60"))
    with pytest.raises(IntegrityError) as info, session.begin_nested():
        make.load(run, item, sequence=2, weight=Decimal("41"))
    assert "purchase_items_fruit_within_quantity_check" in str(info.value)
    assert pressed(session, item.id) == Decimal("60.000")


# Voids (by index into the loads so far), cancels and weight changes, in any order.
_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("load"), st.integers(0, 2), st.integers(1, 40)),
        st.tuples(st.just("void"), st.integers(0, 50), st.just(0)),
        st.tuples(st.just("reweigh"), st.integers(0, 50), st.integers(1, 40)),
        st.tuples(st.just("cancel"), st.integers(0, 2), st.just(0)),
    ),
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=_STEPS)
def test_pressed_kg_equals_the_loads_sum_after_any_history(
    connection: Connection, steps: list[tuple[str, int, int]]
) -> None:
    savepoint = connection.begin_nested()
    try:
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            make = Factory(session)
            vendor = make.vendor()
            item = make.purchase_item(vendor=vendor, quantity=Decimal("100000"))
            runs = [make.run(vendor) for _ in range(3)]
            loads: list[PressRunLoad] = []
            for kind, index, amount in steps:
                if kind == "load":
                    loads.append(
                        make.load(
                            runs[index], item, sequence=len(loads) + 1, weight=Decimal(amount)
                        )
                    )
                elif kind == "void" and loads:
                    target = loads[index % len(loads)]
                    session.execute(
                        update(PressRunLoad)
                        .where(PressRunLoad.id == target.id)
                        .values(deleted_at=func.now())
                    )
                elif kind == "reweigh" and loads:
                    target = loads[index % len(loads)]
                    session.execute(
                        update(PressRunLoad)
                        .where(PressRunLoad.id == target.id)
                        .values(weight=Decimal(amount), weight_kg=Decimal(amount))
                    )
                elif kind == "cancel":
                    session.execute(
                        update(PressRun)
                        .where(PressRun.id == runs[index].id)
                        .values(status=PressRunStatus.CANCELLED, end_time=func.now())
                    )
            assert_kept(session, item.id)
    finally:
        savepoint.rollback()


# --- isolation levels ---------------------------------------------------------------------


@pytest.fixture
def committed(clone_url: str) -> Iterator[Engine]:
    engine = make_engine(clone_url)
    yield engine
    engine.dispose()


def _line_with_two_runs(engine: Engine) -> tuple[press.Actor, uuid.UUID, uuid.UUID, uuid.UUID]:
    with Session(engine) as session, session.begin():
        make = Factory(session)
        actor = new_actor(session, UserRole.OPERATOR)
        vendor = make.vendor()
        item = make.purchase_item(vendor=vendor, quantity=Decimal("1000"))
        first = press.start_run(session, actor, {"vendor_id": vendor.id})
        second = press.start_run(session, actor, {"vendor_id": vendor.id})
        return actor, item.id, first.id, second.id


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"])
def test_a_second_draw_on_an_old_snapshot_never_over_allocates(
    committed: Engine, isolation: str
) -> None:
    """Two operators' transactions, the second begun (its snapshot taken) before the
    first commits 600 kg of a 1000 kg line; the second then asks for 600 kg too.

    Reading the pressed sum from its snapshot, the second would see 1000 kg left and
    take them (1200 kg pressed of 1000). It must instead be refused with the figures
    (READ COMMITTED reads the line's latest row once locked) or fail to serialise
    (the retryable Conflict)."""
    actor, item_id, first_run, second_run = _line_with_two_runs(committed)
    engine = committed.execution_options(isolation_level=isolation.replace(" ", "_"))
    load = {"purchase_item_id": item_id, "weight": "600", "weight_unit": "kg"}
    with Session(engine) as late, Session(engine) as early:
        late.execute(select(PurchaseItem.pressed_kg).where(PurchaseItem.id == item_id))
        press.add_load(early, actor, first_run, load)
        early.commit()
        with pytest.raises((InsufficientFruit, Conflict)) as info:
            press.add_load(late, actor, second_run, load)
        late.rollback()
    if isolation == "READ COMMITTED":
        assert isinstance(info.value, InsufficientFruit)
        assert info.value.remaining_kg == Decimal("400.000")
    else:
        assert isinstance(info.value, Conflict)
        assert info.value.retryable
    with committed.connect() as conn:
        assert pressed(conn, item_id) == summed(conn, item_id) == Decimal("600.000")


def test_the_backfill_computes_pressed_kg_from_existing_loads(empty_url: str) -> None:
    """Revision 0003 on a database with press data: every line gets what its live loads
    of live, uncancelled runs drew, and rolling back and forth keeps it."""
    engine = make_engine(empty_url)
    try:
        runner.upgrade(engine, "0002")
        ids = {name: uuid.uuid4() for name in ("vendor", "variety", "purchase", "item")}
        live_run, cancelled_run = uuid.uuid4(), uuid.uuid4()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO vendors (id, name) VALUES (:vendor, 'G')"), ids)
            conn.execute(text("INSERT INTO apple_varieties (id, name) VALUES (:variety, 'V')"), ids)
            conn.execute(
                text(
                    "INSERT INTO purchases (id, vendor_id, purchase_date) "
                    "VALUES (:purchase, :vendor, '2026-10-01')"
                ),
                ids,
            )
            conn.execute(
                text(
                    "INSERT INTO purchase_items "
                    "(id, purchase_id, apple_variety_id, quantity, unit, quantity_kg) "
                    "VALUES (:item, :purchase, :variety, 1000, 'kg', 1000)"
                ),
                ids,
            )
            conn.execute(
                text(
                    "INSERT INTO press_runs (id, vendor_id, status, end_time) VALUES "
                    "(:live, :vendor, 'in_progress', NULL), "
                    "(:cancelled, :vendor, 'cancelled', now())"
                ),
                {**ids, "live": live_run, "cancelled": cancelled_run},
            )
            # Drawn: 300 kg (live). Not drawn: 50 kg voided, 200 kg of a cancelled run.
            conn.execute(
                text(
                    "INSERT INTO press_run_loads (press_run_id, purchase_item_id, "
                    "apple_variety_id, load_sequence, weight, weight_unit, weight_kg, deleted_at) "
                    "VALUES (:run, :item, :variety, :n, :kg, 'kg', :kg, "
                    "CASE WHEN :voided THEN now() END)"
                ),
                [
                    {**ids, "run": live_run, "n": 1, "kg": 300, "voided": False},
                    {**ids, "run": live_run, "n": 2, "kg": 50, "voided": True},
                    {**ids, "run": cancelled_run, "n": 1, "kg": 200, "voided": False},
                ],
            )
        item_id = ids["item"]
        for _ in range(2):
            runner.upgrade(engine, "head")
            with engine.connect() as conn:
                assert pressed(conn, item_id) == Decimal("300.000")
            runner.downgrade(engine, "0002")
    finally:
        engine.dispose()


def test_the_smoke_check_catches_a_line_that_disagrees(
    connection: Connection, session: Session, make: Factory
) -> None:
    item = make.purchase_item()
    make.load(make.run(), item, weight=Decimal("100"))
    passed, detail = pressed_fruit_agrees(connection)
    assert passed, detail
    session.execute(
        update(PurchaseItem).where(PurchaseItem.id == item.id).values(pressed_kg=Decimal("99"))
    )
    passed, detail = pressed_fruit_agrees(connection)
    assert not passed
    assert f"{item.id}: 99.000 kg kept, 100.000 kg drawn" in detail
