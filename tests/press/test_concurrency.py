"""The press service under real concurrency: many connections, one database, row locks.

Each scenario starts N threads, each with its own session (its own connection
and transaction), lines them up on a barrier so they hit the database
together, commits what succeeds and rolls back what fails. The invariants are
checked on what was committed. No sleeps: the barrier starts the race and the
database's row locks decide it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from cidery import press
from cidery.db.engine import make_engine
from cidery.models import AuditLog, PressRun, PressRunLoad, PurchaseItem, Vendor, Vessel
from cidery.models.enums import PressRunStatus, VesselStatus
from cidery.press.checks import pressed_fruit_agrees
from cidery.press.errors import (
    Conflict,
    InsufficientFruit,
    InvalidTransition,
    PressError,
    VesselUnavailable,
)
from cidery.press.schemas import CompletedRun, PressRunDetail, PressRunLoadRead, PressRunRead
from tests.factories import Factory, new_actor

THREADS = 20
JOIN_TIMEOUT = 30.0


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def race(engine: Engine, work: list[Callable[[Session], Any]]) -> list[Outcome]:
    """Run each ``work(session)`` in its own thread and transaction, all released at once.

    A call that returns is committed; one that raises is rolled back and its
    exception kept. Every session connects before the barrier, so the race is
    between statements, not between connection set-ups.
    """
    barrier = threading.Barrier(len(work))
    outcomes = [Outcome() for _ in work]

    def run(i: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            try:
                session.connection()  # connect and begin before the start signal
                barrier.wait(timeout=JOIN_TIMEOUT)
                value = work[i](session)
                session.commit()
                outcomes[i].value = value
            except BaseException as exc:  # kept and asserted on by the test
                session.rollback()
                outcomes[i].error = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"threads still running after {JOIN_TIMEOUT}s: {stuck}"
    return outcomes


@dataclass
class Stage:
    engine: Engine
    actor: press.Actor
    vendor_id: uuid.UUID
    item_id: uuid.UUID  # 1000 kg bought

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def start(self, session: Session) -> PressRunRead:
        return press.start_run(session, self.actor, {"vendor_id": self.vendor_id})

    def load(self, session: Session, run_id: uuid.UUID, kg: str) -> PressRunLoadRead:
        entry = {"purchase_item_id": self.item_id, "weight": kg, "weight_unit": "kg"}
        return press.add_load(session, self.actor, run_id, entry)

    def complete(
        self, session: Session, run_id: uuid.UUID, litres: str, vessel_id: uuid.UUID
    ) -> CompletedRun:
        outcome = {"juice_volume": litres, "juice_volume_unit": "L", "vessel_id": vessel_id}
        return press.complete_run(session, self.actor, run_id, outcome)

    def detail(self, session: Session, run_id: uuid.UUID) -> PressRunDetail:
        return press.get_run(session, self.actor, run_id)


@pytest.fixture
def stage(clone_url: str) -> Iterator[Stage]:
    engine = make_engine(clone_url, pool_size=THREADS + 4, max_overflow=0, pool_timeout=10)
    with Session(engine) as session, session.begin():
        make = Factory(session)
        actor = new_actor(session)
        vendor = make.vendor()
        item = make.purchase_item(vendor=vendor, quantity=Decimal("1000"))
        ids = (actor, vendor.id, item.id)
    try:
        yield Stage(engine, *ids)
    finally:
        engine.dispose()


def _failures(outcomes: list[Outcome]) -> list[BaseException]:
    return [o.error for o in outcomes if o.error is not None]


def _assert_clean(failures: list[BaseException], *allowed: type[PressError]) -> None:
    """Every failure is one of the service's own refusals, never a raw database error."""
    unexpected = [f for f in failures if type(f) not in allowed]
    assert not unexpected, [f"{type(f).__name__}: {f}" for f in unexpected]


def _live_loads(session: Session, run_ids: list[uuid.UUID]) -> list[PressRunLoad]:
    return list(
        session.scalars(
            select(PressRunLoad)
            .where(PressRunLoad.press_run_id.in_(run_ids), PressRunLoad.deleted_at.is_(None))
            .order_by(PressRunLoad.press_run_id, PressRunLoad.load_sequence)
        )
    )


def test_twenty_loads_on_one_run_and_one_purchase_line(stage: Stage) -> None:
    """1000 kg bought, 20 loads of 70 kg at once: exactly 14 fit, numbered 1..14."""
    with stage.session() as s, s.begin():
        run = stage.start(s)

    def add(session: Session) -> Any:
        return stage.load(session, run.id, "70")

    outcomes = race(stage.engine, [add] * THREADS)
    failures = _failures(outcomes)
    _assert_clean(failures, InsufficientFruit, Conflict)
    successes = [o.value for o in outcomes if o.error is None]
    conflicts = [f for f in failures if isinstance(f, Conflict)]
    assert all(f.retryable for f in conflicts)
    if not conflicts:
        assert len(successes) == 14
        assert len(failures) == THREADS - 14
    for failure in failures:
        if isinstance(failure, InsufficientFruit):
            assert failure.remaining_kg < Decimal("70")
            assert failure.remaining_kg == Decimal("20.000") or conflicts

    with stage.session() as s:
        loads = _live_loads(s, [run.id])
        total = sum((load.weight_kg for load in loads), Decimal(0))
        assert total <= Decimal("1000")
        assert total == len(successes) * Decimal("70")
        assert len(loads) == len(successes)
        assert [load.load_sequence for load in loads] == list(range(1, len(loads) + 1))
        assert sorted(load.id for load in loads) == sorted(v.id for v in successes)
        assert sorted(v.load_sequence for v in successes) == list(range(1, len(loads) + 1))
        assert stage.detail(s, run.id).run.total_apple_weight_kg == total
        # One audit row per committed load, one per run update, one for the start.
        logged = s.scalar(select(func.count()).select_from(AuditLog)) or 0
        assert logged == 1 + 2 * len(successes)
        fruit = {row.purchase_item_id: row for row in press.available_fruit(s, stage.actor)}
        left = Decimal("1000") - total
        assert (fruit[stage.item_id].remaining_kg if stage.item_id in fruit else 0) == left


def test_twenty_runs_drawing_on_one_purchase_line(stage: Stage) -> None:
    """Twenty runs of the same grower, one load each, all from one line: the line's lock holds."""
    with stage.session() as s, s.begin():
        runs = [stage.start(s) for _ in range(THREADS)]

    def adder(run_id: uuid.UUID) -> Callable[[Session], Any]:
        def add(session: Session) -> Any:
            return stage.load(session, run_id, "70")

        return add

    outcomes = race(stage.engine, [adder(run.id) for run in runs])
    failures = _failures(outcomes)
    _assert_clean(failures, InsufficientFruit, Conflict)
    successes = [o.value for o in outcomes if o.error is None]
    if not any(isinstance(f, Conflict) for f in failures):
        assert len(successes) == 14
        assert len(failures) == THREADS - 14

    with stage.session() as s:
        loads = _live_loads(s, [run.id for run in runs])
        total = sum((load.weight_kg for load in loads), Decimal(0))
        assert total <= Decimal("1000")
        assert total == len(successes) * Decimal("70")
        assert all(load.load_sequence == 1 for load in loads)
        totals = dict(
            s.execute(
                select(PressRun.id, PressRun.total_apple_weight_kg).where(
                    PressRun.id.in_([run.id for run in runs])
                )
            ).all()
        )
        with_load = {load.press_run_id for load in loads}
        for run in runs:
            assert totals[run.id] == (Decimal("70") if run.id in with_load else 0)


def test_completing_a_run_while_loads_arrive(stage: Stage) -> None:
    """A load lands before the completion (and counts in it) or is refused: never after."""
    with stage.session() as s, s.begin():
        run = stage.start(s)
        stage.load(s, run.id, "100")
        vessel = Factory(s).vessel(capacity_l=Decimal("5000"))
        vessel_id = vessel.id

    def add(session: Session) -> Any:
        return stage.load(session, run.id, "10")

    def complete(session: Session) -> Any:
        return stage.complete(session, run.id, "70", vessel_id)

    work: list[Callable[[Session], Any]] = [add] * (THREADS - 1)
    work.insert(THREADS // 2, complete)
    outcomes = race(stage.engine, work)
    completion = outcomes[THREADS // 2]
    assert completion.error is None, repr(completion.error)
    load_outcomes = outcomes[: THREADS // 2] + outcomes[THREADS // 2 + 1 :]
    failures = _failures(load_outcomes)
    _assert_clean(failures, InvalidTransition, Conflict)
    landed = [o.value for o in load_outcomes if o.error is None]

    with stage.session() as s:
        final = stage.detail(s, run.id)
        assert final.run.status is PressRunStatus.COMPLETED
        loads = _live_loads(s, [run.id])
        assert len(loads) == 1 + len(landed)
        assert [load.load_sequence for load in loads] == list(range(1, len(loads) + 1))
        total = sum((load.weight_kg for load in loads), Decimal(0))
        assert total == Decimal("100") + Decimal("10") * len(landed)
        # The completion counted exactly the loads that landed before it.
        assert final.run.total_apple_weight_kg == total
        assert completion.value.run.total_apple_weight_kg == total
        assert final.run.extraction_rate == (Decimal("70") / total).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )
        # Every load either landed (and was counted) or was refused as too late.
        assert len(landed) + len(failures) == THREADS - 1
        assert s.scalar(select(Vessel.status).where(Vessel.id == vessel_id)) is (
            VesselStatus.IN_USE
        )


def test_twenty_runs_completing_into_one_vessel(stage: Stage) -> None:
    """The vessel's lock: one run gets the tank, the others are told it is in use."""
    with stage.session() as s, s.begin():
        runs = [stage.start(s) for _ in range(THREADS)]
        for run in runs:
            stage.load(s, run.id, "10")
        vessel_id = Factory(s).vessel(capacity_l=Decimal("1000")).id

    def completer(run_id: uuid.UUID) -> Callable[[Session], Any]:
        def complete(session: Session) -> Any:
            return stage.complete(session, run_id, "7", vessel_id)

        return complete

    outcomes = race(stage.engine, [completer(run.id) for run in runs])
    failures = _failures(outcomes)
    _assert_clean(failures, VesselUnavailable, Conflict)
    winners = [o.value for o in outcomes if o.error is None]
    assert len(winners) == 1
    with stage.session() as s:
        completed = s.scalars(
            select(PressRun.id).where(
                PressRun.vessel_id == vessel_id, PressRun.status == PressRunStatus.COMPLETED
            )
        ).all()
        assert completed == [winners[0].run.id]


def test_a_lock_timeout_is_a_retryable_conflict(stage: Stage) -> None:
    """A call that cannot get the run's lock in time fails cleanly, and can be retried."""
    with stage.session() as s, s.begin():
        run = stage.start(s)
    with stage.session() as holder, stage.session() as waiter:
        holder.execute(select(PressRun).where(PressRun.id == run.id).with_for_update())
        waiter.execute(text("SET LOCAL lock_timeout = '100ms'"))
        with pytest.raises(Conflict) as info:
            stage.load(waiter, run.id, "70")
        assert info.value.code == "conflict"
        assert info.value.retryable is True
        assert "try again" in str(info.value)
        holder.commit()
        # The waiter's transaction survived the refusal: retry in it and commit.
        load = stage.load(waiter, run.id, "70")
        waiter.commit()
    assert load.load_sequence == 1
    with stage.session() as s:
        assert stage.detail(s, run.id).total_weight_kg == Decimal("70.000")


# --- correcting loads while others draw on the same line ------------------------------------


def _pressed(session: Session, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    rows = session.execute(
        select(PurchaseItem.id, PurchaseItem.pressed_kg).where(PurchaseItem.id.in_(item_ids))
    ).all()
    return {row.id: row.pressed_kg for row in rows}


def _assert_books_balance(session: Session, run_ids: list[uuid.UUID]) -> None:
    """Every line's pressed kg is what its loads draw (and within what was bought), and
    every run's total is the sum of its live loads."""
    agrees, detail = pressed_fruit_agrees(session.connection())
    assert agrees, detail
    over = session.scalar(
        select(func.count())
        .select_from(PurchaseItem)
        .where(PurchaseItem.pressed_kg > PurchaseItem.quantity_kg)
    )
    assert over == 0
    for run_id in run_ids:
        loads = _live_loads(session, [run_id])
        total = sum((load.weight_kg for load in loads), Decimal(0))
        assert press.get_run(session, press.Actor.system(), run_id).run.total_apple_weight_kg == (
            total
        )


def _corrector(stage: Stage, load_id: uuid.UUID, **fields: Any) -> Callable[[Session], Any]:
    def correct(session: Session) -> Any:
        return press.correct_load(session, stage.actor, load_id, fields)

    return correct


def test_a_correction_and_a_load_racing_for_the_last_fruit(stage: Stage) -> None:
    """600 kg drawn, 400 left: a correction to 900 kg (300 more) and a new load of 300 kg
    cannot both land; whichever does, the line is never overdrawn."""
    for _ in range(5):
        with stage.session() as s, s.begin():
            item = Factory(s).purchase_item(
                vendor=s.get(Vendor, stage.vendor_id), quantity=Decimal("1000")
            )
            first, second = stage.start(s), stage.start(s)
            entry = {"purchase_item_id": item.id, "weight": "600", "weight_unit": "kg"}
            load = press.add_load(s, stage.actor, first.id, entry)
            item_id = item.id

        def add(
            session: Session, run_id: uuid.UUID = second.id, item_id: uuid.UUID = item_id
        ) -> Any:
            entry = {"purchase_item_id": item_id, "weight": "300", "weight_unit": "kg"}
            return press.add_load(session, stage.actor, run_id, entry)

        outcomes = race(
            stage.engine, [_corrector(stage, load.id, weight="900", weight_unit="kg"), add]
        )
        failures = _failures(outcomes)
        _assert_clean(failures, InsufficientFruit, Conflict)
        assert len(failures) >= 1, "both drew 300 kg of the last 400"
        with stage.session() as s:
            assert _pressed(s, [item_id])[item_id] <= Decimal("1000")
            _assert_books_balance(s, [first.id, second.id])


def test_corrections_and_loads_on_one_line_never_overdraw_it(stage: Stage) -> None:
    """Two runs with a 400 kg load each on the 1000 kg line; at once, each load corrected
    to several heavier weights and new 70 kg loads added to both runs."""
    with stage.session() as s, s.begin():
        runs = [stage.start(s), stage.start(s)]
        loads = [stage.load(s, run.id, "400") for run in runs]

    work: list[Callable[[Session], Any]] = []
    for i in range(THREADS):
        if i % 2:
            work.append(
                _corrector(stage, loads[i % 4 // 2].id, weight=str(400 + 10 * i), weight_unit="kg")
            )
        else:
            run_id = runs[i % 4 // 2].id
            work.append(lambda session, run_id=run_id: stage.load(session, run_id, "70"))
    outcomes = race(stage.engine, work)
    _assert_clean(_failures(outcomes), InsufficientFruit, Conflict)
    assert any(o.error is None for o in outcomes)
    with stage.session() as s:
        assert _pressed(s, [stage.item_id])[stage.item_id] <= Decimal("1000")
        _assert_books_balance(s, [run.id for run in runs])


def test_loads_moved_across_two_lines_in_opposite_directions(stage: Stage) -> None:
    """Twenty runs, one load each: half move their load from line X to Y while the others
    move theirs from Y to X. Each move locks both lines, always in id order, so no two
    moves deadlock (the test's connections have no lock timeout: every move lands), and
    the fruit follows the loads."""
    with stage.session() as s, s.begin():
        make = Factory(s)
        vendor = s.get(Vendor, stage.vendor_id)
        x, y = (make.purchase_item(vendor=vendor, quantity=Decimal("500")) for _ in range(2))
        x_id, y_id = x.id, y.id
        moves: list[tuple[PressRunLoadRead, uuid.UUID]] = []
        for i in range(THREADS):
            run = stage.start(s)
            line, kg, to = (x_id, "30", y_id) if i % 2 == 0 else (y_id, "20", x_id)
            entry = {"purchase_item_id": line, "weight": kg, "weight_unit": "kg"}
            moves.append((press.add_load(s, stage.actor, run.id, entry), to))
        assert _pressed(s, [x_id, y_id]) == {x_id: Decimal(300), y_id: Decimal(200)}

    outcomes = race(
        stage.engine, [_corrector(stage, load.id, purchase_item_id=to) for load, to in moves]
    )
    assert _failures(outcomes) == []
    with stage.session() as s:
        assert _pressed(s, [x_id, y_id]) == {x_id: Decimal(200), y_id: Decimal(300)}
        moved = _live_loads(s, [load.press_run_id for load, _ in moves])
        assert sorted((load.purchase_item_id, load.weight_kg) for load in moved) == sorted(
            (to, load.weight_kg) for load, to in moves
        )
        _assert_books_balance(s, [load.press_run_id for load, _ in moves])


def test_a_correction_that_cannot_lock_the_run_is_a_retryable_conflict(stage: Stage) -> None:
    with stage.session() as s, s.begin():
        run = stage.start(s)
        load = stage.load(s, run.id, "100")
    with stage.session() as holder, stage.session() as waiter:
        holder.execute(select(PressRun).where(PressRun.id == run.id).with_for_update())
        waiter.execute(text("SET LOCAL lock_timeout = '100ms'"))
        with pytest.raises(Conflict) as info:
            press.correct_load(waiter, stage.actor, load.id, {"weight": "90", "weight_unit": "kg"})
        assert info.value.retryable is True
        holder.commit()
        detail = press.correct_load(
            waiter, stage.actor, load.id, {"weight": "90", "weight_unit": "kg"}
        )
        waiter.commit()
    assert detail.run.total_apple_weight_kg == Decimal("90.000")


# --- writing off a line while loads draw on it ------------------------------------------------


def _writer_off(stage: Stage, item_id: uuid.UUID) -> Callable[[Session], Any]:
    def write_off(session: Session) -> Any:
        return press.write_off_line(session, stage.actor, item_id, {"reason": "rotten"})

    return write_off


def test_a_write_off_and_a_load_racing_on_one_line(stage: Stage) -> None:
    """A write-off of all that is left and a load of 300 kg on a 1000 kg line, at once: the
    line's lock serialises them. Either the load lands and the write-off takes the 700 kg
    it left, or the write-off takes all 1000 kg and the load is refused; never both 300 kg
    pressed and 1000 kg written off."""
    seen = set()
    for _ in range(5):
        with stage.session() as s, s.begin():
            item = Factory(s).purchase_item(
                vendor=s.get(Vendor, stage.vendor_id), quantity=Decimal("1000")
            )
            run = stage.start(s)
            item_id, run_id = item.id, run.id

        def add(session: Session, run_id: uuid.UUID = run_id, item_id: uuid.UUID = item_id) -> Any:
            entry = {"purchase_item_id": item_id, "weight": "300", "weight_unit": "kg"}
            return press.add_load(session, stage.actor, run_id, entry)

        written, loaded = race(stage.engine, [_writer_off(stage, item_id), add])
        _assert_clean(_failures([written, loaded]), InsufficientFruit, Conflict)
        with stage.session() as s:
            line = s.execute(
                select(PurchaseItem.pressed_kg, PurchaseItem.written_off_kg).where(
                    PurchaseItem.id == item_id
                )
            ).one()
            assert line.pressed_kg + line.written_off_kg <= Decimal("1000")
            _assert_books_balance(s, [run_id])
        if written.error is None and loaded.error is None:
            seen.add("load first")
            assert written.value.weight_kg == Decimal("700.000")
            assert (line.pressed_kg, line.written_off_kg) == (
                Decimal("300.000"),
                Decimal("700.000"),
            )
        elif written.error is None:
            seen.add("write-off first")
            assert isinstance(loaded.error, InsufficientFruit | Conflict)
            assert (line.pressed_kg, line.written_off_kg) == (Decimal("0.000"), Decimal("1000.000"))
        else:
            assert isinstance(written.error, Conflict), written.error
    assert seen, "every round failed"


def test_a_write_off_holds_the_line_until_it_commits(stage: Stage) -> None:
    """A load cannot draw on a line while a write-off of it is uncommitted: it waits for
    the line's lock (here until its lock timeout: a retryable conflict), then sees the
    fruit gone."""
    with stage.session() as s, s.begin():
        item = Factory(s).purchase_item(
            vendor=s.get(Vendor, stage.vendor_id), quantity=Decimal("500")
        )
        run = stage.start(s)
        item_id, run_id = item.id, run.id
    entry = {"purchase_item_id": item_id, "weight": "100", "weight_unit": "kg"}
    with stage.session() as holder, stage.session() as waiter:
        written = press.write_off_line(holder, stage.actor, item_id, {"reason": "mould"})
        assert written.weight_kg == Decimal("500.000")
        waiter.execute(text("SET LOCAL lock_timeout = '100ms'"))
        with pytest.raises(Conflict):
            press.add_load(waiter, stage.actor, run_id, entry)
        holder.commit()
        with pytest.raises(InsufficientFruit) as info:
            press.add_load(waiter, stage.actor, run_id, entry)
        assert info.value.remaining_kg == Decimal("0.000")
        waiter.rollback()
