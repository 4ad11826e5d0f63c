"""Juice lots under real concurrency and on a committed database.

Two completions sharing a vessel race on separate connections: the locks (the run,
then the vessels in id order) let one win and tell the other the vessel is in use,
whatever order their assignments name the vessels in, and what the loser would have
written is not there. The deferred trigger is checked at a real commit. The property
that the cost items of a run's lots add up to each line's cost runs on the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cidery import press
from cidery.db.engine import make_engine
from cidery.models import Batch, CogsItem, PressRun, PressRunBatch, Vessel
from cidery.models.enums import CogsItemType, PressRunStatus, VesselStatus
from cidery.press.errors import Conflict, VesselUnavailable
from tests.factories import Factory, new_actor
from tests.press.support import World
from tests.press.test_concurrency import race


@pytest.fixture
def w(session: Session, make: Factory) -> World:
    vendor = make.vendor()
    variety = make.variety()
    item = make.purchase_item(vendor=vendor, variety=variety)
    return World(session, make, new_actor(session), vendor, variety, item)


@pytest.fixture
def engine_of_clone(clone_url: str) -> Iterator[Engine]:
    engine = make_engine(clone_url, pool_size=6, max_overflow=0, pool_timeout=10)
    try:
        yield engine
    finally:
        engine.dispose()


def test_two_runs_completing_into_a_shared_vessel(engine_of_clone: Engine) -> None:
    """Run A goes to (shared, own A), run B to (own B, shared): opposite orders. The
    vessels are locked in id order, so neither waits on the other while holding what it
    wants: one completes, the other is told the shared vessel is in use."""
    with Session(engine_of_clone) as s, s.begin():
        make = Factory(s)
        actor = new_actor(s)
        vendor = make.vendor()
        item = make.purchase_item(vendor=vendor, quantity=Decimal("1000"))
        shared, own_a, own_b = (make.vessel(capacity_l=Decimal("500")).id for _ in range(3))
        runs = []
        for _ in range(2):
            run = press.start_run(s, actor, {"vendor_id": vendor.id})
            entry = {"purchase_item_id": item.id, "weight": "300", "weight_unit": "kg"}
            press.add_load(s, actor, run.id, entry)
            runs.append(run.id)

    def completer(run_id: uuid.UUID, vessels: list[uuid.UUID]) -> Callable[[Session], Any]:
        def complete(session: Session) -> Any:
            outcome = {
                "juice_volume": "200",
                "juice_volume_unit": "L",
                "assignments": [{"vessel_id": v, "volume": "100"} for v in vessels],
            }
            return press.complete_run(session, actor, run_id, outcome)

        return complete

    outcomes = race(
        engine_of_clone,
        [completer(runs[0], [shared, own_a]), completer(runs[1], [own_b, shared])],
    )
    failures = [o.error for o in outcomes if o.error is not None]
    winners = [o.value for o in outcomes if o.error is None]
    assert len(winners) == 1, failures
    [failure] = failures
    assert type(failure) in (VesselUnavailable, Conflict), f"{type(failure).__name__}: {failure}"
    winner = winners[0].run.id
    loser = runs[1] if winner == runs[0] else runs[0]
    loser_own = own_b if winner == runs[0] else own_a
    with Session(engine_of_clone) as s:
        statuses = {row.id: row.status for row in s.execute(select(PressRun.id, PressRun.status))}
        assert statuses[winner] is PressRunStatus.COMPLETED
        assert statuses[loser] is PressRunStatus.IN_PROGRESS
        linked = s.scalars(select(PressRunBatch.press_run_id)).all()
        assert sorted(map(str, linked)) == [str(winner)] * 2
        in_shared = s.scalars(select(Batch.id).where(Batch.vessel_id == shared)).all()
        assert len(in_shared) == 1
        assert s.scalar(select(Vessel.status).where(Vessel.id == loser_own)) is (
            VesselStatus.AVAILABLE
        )


def test_the_deferred_trigger_refuses_the_commit(engine_of_clone: Engine) -> None:
    """A link whose litres break the run's sum is written, and refused at the commit."""
    with Session(engine_of_clone) as s, s.begin():
        make = Factory(s)
        actor = new_actor(s)
        vendor = make.vendor()
        item = make.purchase_item(vendor=vendor)
        run = press.start_run(s, actor, {"vendor_id": vendor.id})
        entry = {"purchase_item_id": item.id, "weight": "100", "weight_unit": "kg"}
        press.add_load(s, actor, run.id, entry)
        outcome = {"juice_volume": "60", "juice_volume_unit": "L", "vessel_id": make.vessel().id}
        [lot] = press.complete_run(s, actor, run.id, outcome).lots
    with Session(engine_of_clone) as s:
        s.execute(
            PressRunBatch.__table__.update()
            .where(PressRunBatch.batch_id == lot.batch_id)
            .values(volume_l=Decimal("59"))
        )
        with pytest.raises(IntegrityError) as info:
            s.commit()
        assert "press_run_batches_match_juice" in str(info.value)
    with Session(engine_of_clone) as s:
        assert s.scalar(
            select(PressRunBatch.volume_l).where(PressRunBatch.batch_id == lot.batch_id)
        ) == Decimal("60.000")


# --- the written rows add up --------------------------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    weights=st.lists(st.decimals("0.001", "300", places=3), min_size=1, max_size=4),
    prices=st.lists(st.one_of(st.none(), st.decimals("0", "3", places=4)), min_size=2, max_size=2),
    shares=st.lists(st.integers(1, 1000), min_size=1, max_size=4),
)
def test_written_cost_items_add_up_to_each_lines_cost(
    w: World, weights: list[Decimal], prices: list[Decimal | None], shares: list[int]
) -> None:
    """However the fruit and juice are split, the lots' cost items of each line add up
    to the line's cost of the kg pressed (to the cent), and its kg to the kg pressed."""
    savepoint = w.session.begin_nested()
    try:
        lines = [w.make.purchase_item(vendor=w.vendor, quantity=Decimal("1000")) for _ in prices]
        for line, price in zip(lines, prices, strict=True):
            line.price_per_unit = price
        w.session.flush()
        run = w.start()
        pressed: dict[uuid.UUID, Decimal] = {}
        for index, kg in enumerate(weights):
            line = lines[index % len(lines)]
            w.load(run, kg, item=line)
            pressed[line.id] = pressed.get(line.id, Decimal(0)) + kg
        total_kg = sum(weights, Decimal(0))
        juice = (total_kg * Decimal("0.6")).quantize(Decimal("0.001"))
        if juice < Decimal("0.001") * len(shares):
            return
        # Litres in proportion to the shares, the last one taking what is left.
        litres = [(juice * share / sum(shares)).quantize(Decimal("0.001")) for share in shares[:-1]]
        litres.append(juice - sum(litres, Decimal(0)))
        if any(part <= 0 for part in litres):
            return
        outcome = {
            "juice_volume": juice,
            "juice_volume_unit": "L",
            "assignments": [
                {"vessel_id": w.vessel(str(part)).id, "volume": part} for part in litres
            ],
        }
        done = press.complete_run(w.session, w.actor, run.id, outcome)
        batch_ids = [lot.batch_id for lot in done.lots]
        rows = w.session.execute(
            select(CogsItem.purchase_item_id, func.sum(CogsItem.quantity), func.sum(CogsItem.cost))
            .where(CogsItem.batch_id.in_(batch_ids), CogsItem.item_type == CogsItemType.APPLES)
            .group_by(CogsItem.purchase_item_id)
        ).all()
        for line_id, kg, cost in rows:
            line = next(line for line in lines if line.id == line_id)
            assert kg == pressed[line_id]
            if line.price_per_unit is None:
                assert cost is None  # every lot's item of an unpriced line is NULL
            else:
                # The line's cost of the kg pressed, rounded once (half away from zero).
                exact = line.price_per_unit * pressed[line_id]
                assert cost == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                shown = [
                    part.cost
                    for lot in done.lots
                    for part in lot.lines
                    if part.purchase_item_id == line_id
                ]
                assert sum((part or Decimal(0) for part in shown), Decimal(0)) == cost
        assert {line_id for line_id, _, _ in rows} == set(pressed)
    finally:
        savepoint.rollback()
