"""The user journeys of the press-run workflow, end to end on a real database.

Each journey runs on a database of its own holding the sample cidery
(:mod:`cidery.sample.seed`) and commits step by step, as the app would: one
transaction per request, a new session for a phone that reconnects.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from cidery import press
from cidery.db.engine import make_engine, session_factory
from cidery.models import PressRun, PressRunLoad, Vessel
from cidery.models.enums import AuditOperation, PressRunStatus, Unit, VesselStatus
from cidery.press.errors import InsufficientFruit
from cidery.press.schemas import (
    AvailableFruit,
    CompletedRun,
    PressRunLoadRead,
    PressRunRead,
    PressRunSummary,
)
from cidery.sample.seed import seed
from tests.factories import Factory, new_actor
from tests.press.support import audit_rows


@dataclass
class Cidery:
    engine: Engine
    sessions: sessionmaker[Session]
    operator: press.Actor
    vendor_id: uuid.UUID
    lb_line: uuid.UUID  # 1000 lb of one variety (453.592 kg)
    kg_line: uuid.UUID  # 600 kg of another
    vessel_id: uuid.UUID  # 1000 L, available

    def request(self) -> Session:
        """A new session, like one API request (the caller commits)."""
        return self.sessions()

    def start(self, s: Session, **kw: object) -> PressRunRead:
        return press.start_run(s, self.operator, {"vendor_id": self.vendor_id, **kw})

    def load(
        self, s: Session, run_id: uuid.UUID, line: uuid.UUID, weight: str, unit: str, **kw: object
    ) -> PressRunLoadRead:
        entry = {"purchase_item_id": line, "weight": weight, "weight_unit": unit, **kw}
        return press.add_load(s, self.operator, run_id, entry)

    def complete(
        self, s: Session, run_id: uuid.UUID, juice: str, unit: str, **kw: object
    ) -> CompletedRun:
        outcome = {
            "juice_volume": juice,
            "juice_volume_unit": unit,
            "vessel_id": self.vessel_id,
            **kw,
        }
        return press.complete_run(s, self.operator, run_id, outcome)

    def picker(self, s: Session) -> dict[uuid.UUID, AvailableFruit]:
        """The variety picker for the journey's grower, by purchase line."""
        rows = press.available_fruit(s, self.operator, {"vendor_id": self.vendor_id})
        return {row.purchase_item_id: row for row in rows}

    def open_runs(self, s: Session, **filters: object) -> list[PressRunSummary]:
        """The runs a phone offers to resume."""
        query = {"status": "in_progress", "limit": 200, **filters}
        return press.list_runs(s, self.operator, query).items


@pytest.fixture
def cidery(clone_url: str) -> Iterator[Cidery]:
    engine = make_engine(clone_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        seed(session)
        make = Factory(session)
        operator = new_actor(session)
        vendor = make.vendor(name="Journey Orchard")
        lb_line = make.purchase_item(
            vendor=vendor,
            variety=make.variety("Journey Kingston Black"),
            quantity=Decimal("1000"),
            unit=Unit.LB,
        )
        kg_line = make.purchase_item(
            vendor=vendor, variety=make.variety("Journey Dabinett"), quantity=Decimal("600")
        )
        vessel = make.vessel(capacity_l=Decimal("1000"))
        ids = (operator, vendor.id, lb_line.id, kg_line.id, vessel.id)
    try:
        yield Cidery(engine, sessions, *ids)
    finally:
        engine.dispose()


def _rate(litres: Decimal, kg: Decimal) -> Decimal:
    return (litres / kg).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def test_journey_complete_run(cidery: Cidery) -> None:
    """Start, three loads from two purchase lines (lb and kg), complete into a free vessel."""
    c = cidery
    with c.request() as s, s.begin():
        picker = c.picker(s)
        assert picker[c.lb_line].remaining_kg == Decimal("453.592")
        assert picker[c.kg_line].remaining_kg == Decimal("600.000")
        run = c.start(s, notes="Saturday pressing")

    loads = []
    for line, weight, unit in [
        (c.lb_line, "400", "lb"),  # 181.437 kg
        (c.kg_line, "250", "kg"),
        (c.lb_line, "300.5", "lb"),  # 136.305 kg
    ]:
        with c.request() as s, s.begin():
            loads.append(c.load(s, run.id, line, weight, unit, brix=Decimal("14.2")))
    assert [load.load_sequence for load in loads] == [1, 2, 3]
    assert [load.weight_kg for load in loads] == [
        Decimal("181.437"),
        Decimal("250.000"),
        Decimal("136.305"),
    ]
    total_kg = Decimal("567.742")

    with c.request() as s, s.begin():
        done = c.complete(s, run.id, "100", "gal", labor_hours=Decimal("4"), worker_count=2)
    juice_l = Decimal("378.541")  # 100 US gal
    assert done.warnings == []
    completed = done.run
    assert completed.status is PressRunStatus.COMPLETED
    assert completed.total_apple_weight_kg == total_kg
    assert completed.total_juice_volume_l == juice_l
    assert completed.extraction_rate == _rate(juice_l, total_kg) == Decimal("0.6667")
    assert completed.vessel_id == c.vessel_id
    assert completed.end_time is not None

    with c.request() as s:
        detail = press.get_run(s, c.operator, run.id)
        assert detail.run == completed
        assert detail.total_weight_kg == total_kg
        assert [load.id for load in detail.loads] == [load.id for load in loads]
        vessel = s.get(Vessel, c.vessel_id)
        assert vessel is not None
        assert vessel.status is VesselStatus.IN_USE
        picker = c.picker(s)
        assert picker[c.lb_line].remaining_kg == Decimal("135.850")  # 453.592 - 317.742
        assert picker[c.kg_line].remaining_kg == Decimal("350.000")
        assert run.id not in {r.id for r in press.yield_outliers(s, c.operator)}

        # The audit trail, request by request: each update starts from the row the
        # previous one left, and the last one is the completion.
        trail = audit_rows(s, run.id)
        assert [row.operation for row in trail] == [AuditOperation.INSERT] + [
            AuditOperation.UPDATE
        ] * 4
        assert all(row.changed_by == c.operator.user_id for row in trail)
        for previous, row in itertools.pairwise(trail):
            assert row.old_data == previous.new_data
        assert [row.diff["total_apple_weight_kg"][1] for row in trail[1:4] if row.diff] == [
            "181.437",
            "431.437",
            "567.742",
        ]
        assert trail[-1].diff is not None
        assert trail[-1].diff["status"] == ["in_progress", "completed"]
        for load in loads:
            [row] = audit_rows(s, load.id)
            assert row.operation is AuditOperation.INSERT
        [vessel_row] = audit_rows(s, c.vessel_id)
        assert vessel_row.diff == {"status": ["available", "in_use"]}


def test_journey_interrupted_and_resumed_run(cidery: Cidery) -> None:
    """Loads saved, the phone loses signal, a new session finds the run and finishes it."""
    c = cidery
    started = datetime.now(UTC) - timedelta(hours=1)
    with c.request() as s, s.begin():
        run = c.start(s, start_time=started)
        c.load(s, run.id, c.lb_line, "500", "lb")
        c.load(s, run.id, c.kg_line, "120.5", "kg")

    # A load whose request never completed: the session dies before the commit.
    lost = c.request()
    c.load(lost, run.id, c.kg_line, "99", "kg")
    lost.close()

    with c.request() as s, s.begin():
        # The phone reconnects and looks for its open runs.
        page = c.open_runs(s, limit=10)
        assert run.id in [item.id for item in page]
        summary = next(item for item in page if item.id == run.id)
        assert summary.load_count == 2
        assert summary.total_apple_weight_kg == Decimal("347.296")
        assert [item.id for item in c.open_runs(s, vendor_id=c.vendor_id)] == [run.id]

        detail = press.get_run(s, c.operator, run.id)
        assert [
            (load.load_sequence, load.weight, load.weight_unit.value) for load in detail.loads
        ] == [
            (1, Decimal("500.000"), "lb"),
            (2, Decimal("120.500"), "kg"),
        ]
        assert detail.load_count == 2
        assert detail.total_weight_kg == detail.run.total_apple_weight_kg == Decimal("347.296")
        assert {(v.variety_name, v.weight_kg) for v in detail.varieties} == {
            ("Journey Kingston Black", Decimal("226.796")),
            ("Journey Dabinett", Decimal("120.500")),
        }
        # Running totals, load by load, as the resume screen shows them.
        running = [sum(load.weight_kg for load in detail.loads[: i + 1]) for i in range(2)]
        assert running == [Decimal("226.796"), Decimal("347.296")]

    with c.request() as s, s.begin():
        third = c.load(s, run.id, c.kg_line, "150", "kg")
        assert third.load_sequence == 3  # the lost load took no number
    with c.request() as s, s.begin():
        done = c.complete(s, run.id, "330", "L")
    assert done.run.status is PressRunStatus.COMPLETED
    assert done.run.total_apple_weight_kg == Decimal("497.296")
    assert done.run.extraction_rate == _rate(Decimal("330"), Decimal("497.296"))
    assert done.run.end_time is not None
    assert done.run.end_time >= started

    with c.request() as s:
        assert run.id not in [item.id for item in c.open_runs(s)]
        assert c.open_runs(s, vendor_id=c.vendor_id) == []
        resumed = press.get_run(s, c.operator, run.id)
        assert [load.load_sequence for load in resumed.loads] == [1, 2, 3]


def test_journey_admin_reconciliation(cidery: Cidery) -> None:
    """Every kilogram bought is pressed (live loads of runs not cancelled) or still available."""
    c = cidery
    with c.request() as s, s.begin():
        done = c.start(s)
        c.load(s, done.id, c.lb_line, "300", "lb")
        c.load(s, done.id, c.kg_line, "200", "kg")
        c.complete(s, done.id, "150", "L")
    with c.request() as s, s.begin():
        cancelled = c.start(s)
        c.load(s, cancelled.id, c.kg_line, "380", "kg")
    with c.request() as s, s.begin():
        # The cancelled run's fruit is still held: 600 - 200 - 380 = 20 kg left.
        corrected = c.start(s)
        with pytest.raises(InsufficientFruit) as info:
            c.load(s, corrected.id, c.kg_line, "100", "kg")
        assert info.value.remaining_kg == Decimal("20.000")
    with c.request() as s, s.begin():
        press.cancel_run(s, c.operator, cancelled.id, {"reason": "mill jammed"})
    with c.request() as s, s.begin():
        c.load(s, corrected.id, c.kg_line, "100", "kg")
        wrong = c.load(s, corrected.id, c.lb_line, "300", "kg")
        press.void_load(s, c.operator, wrong.id, {"reason": "scale was in pounds"})
        c.load(s, corrected.id, c.lb_line, "600", "lb")
    with c.request() as s, s.begin():
        open_run = c.start(s)
        c.load(s, open_run.id, c.kg_line, "55.5", "kg")

    with c.request() as s:
        # Each line's pressed kilograms summed from the loads, beside the figure the
        # triggers keep and whether its grower may still be pressed.
        lines = s.execute(
            text(
                """
                SELECT i.id, i.quantity_kg, i.pressed_kg AS kept, i.written_off_kg, v.is_active,
                       COALESCE((
                           SELECT sum(l.weight_kg)
                           FROM press_run_loads l JOIN press_runs r ON r.id = l.press_run_id
                           WHERE l.purchase_item_id = i.id AND l.deleted_at IS NULL
                             AND r.deleted_at IS NULL AND r.status <> 'cancelled'
                       ), 0) AS pressed
                FROM purchase_items i
                JOIN purchases p ON p.id = i.purchase_id
                JOIN vendors v ON v.id = p.vendor_id
                WHERE i.deleted_at IS NULL AND p.deleted_at IS NULL AND v.deleted_at IS NULL
                  AND i.quantity_kg IS NOT NULL
                """
            )
        ).all()
        available = {row.purchase_item_id: row for row in press.available_fruit(s, c.operator)}
        assert len(lines) >= 2 + 10, "the sample cidery's purchase lines are there too"
        retired = [line for line in lines if not line.is_active]
        assert retired, "the sample cidery has purchase lines of a retired grower"
        for line in lines:
            assert line.pressed <= line.quantity_kg, f"line {line.id} over-pressed"
            assert line.kept == line.pressed, f"line {line.id}: pressed_kg drifted"
            shown = available.get(line.id)
            if not line.is_active:
                # A retired grower's fruit is not offered: no run can be started for it.
                assert shown is None, f"line {line.id} of an inactive grower offered"
                continue
            remaining = shown.remaining_kg if shown else Decimal(0)
            # Bought = pressed + written off as waste + left.
            assert line.quantity_kg == line.pressed + line.written_off_kg + remaining, line.id
            if shown:
                assert shown.pressed_kg == line.pressed
        assert set(available) <= {line.id for line in lines if line.is_active}
        by_id = {line.id: line for line in lines}
        assert by_id[c.kg_line].pressed == Decimal("355.500")  # 200 + 100 + 55.5
        assert by_id[c.lb_line].pressed == Decimal("408.233")  # 300 lb + 600 lb
        assert available[c.kg_line].remaining_kg == Decimal("244.500")

        # Every run's total is the sum of its live loads, cancelled runs included.
        runs = s.scalars(select(PressRun).where(PressRun.deleted_at.is_(None))).all()
        assert len(runs) >= 4 + 4
        for run in runs:
            live = s.scalars(
                select(PressRunLoad.weight_kg).where(
                    PressRunLoad.press_run_id == run.id, PressRunLoad.deleted_at.is_(None)
                )
            ).all()
            assert run.total_apple_weight_kg == sum(live, Decimal(0)), run.id
        # And what the runs not cancelled pressed is what the purchase lines lost.
        pressed_by_runs = sum(
            (
                run.total_apple_weight_kg
                for run in runs
                if run.status is not PressRunStatus.CANCELLED
            ),
            Decimal(0),
        )
        assert pressed_by_runs == sum((line.pressed for line in lines), Decimal(0))
        statuses = {run.id: run.status for run in runs}
        assert statuses[cancelled.id] is PressRunStatus.CANCELLED
        assert statuses[corrected.id] is PressRunStatus.IN_PROGRESS
        assert statuses[done.id] is PressRunStatus.COMPLETED
