"""Completing a run into juice lots: assignments, lots, their composition and cost.

Every refusal is checked for its typed error and for nothing written: no batch, link,
cost row, cost item or audit row, and no vessel changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cidery import press
from cidery.config import DEFAULT_LABOR_RATE
from cidery.models import (
    AuditLog,
    Batch,
    BatchCost,
    CogsItem,
    PressRunBatch,
    PurchaseItem,
    Vessel,
)
from cidery.models.enums import (
    AuditOperation,
    BatchStatus,
    CogsItemType,
    PressRunStatus,
    Unit,
    UserRole,
    VesselStatus,
)
from cidery.press.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PressError,
    VesselTooSmall,
    VesselUnavailable,
    VolumesDoNotAddUp,
)
from cidery.press.lots import lot_number
from cidery.press.rules import MAX_ASSIGNMENTS
from cidery.press.schemas import CompletedRun, PressRunRead
from cidery.sample.seed import seed
from tests.factories import Factory, new_actor
from tests.press.support import World, audit_rows, fields

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
END = T0 + timedelta(hours=5)


@dataclass(frozen=True)
class LotCounts:
    batches: int
    links: int
    batch_costs: int
    cogs_items: int
    audit_logs: int
    vessels_in_use: int


def lot_counts(session: Session) -> LotCounts:
    def count(model: Any, *where: Any) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return LotCounts(
        batches=count(Batch),
        links=count(PressRunBatch),
        batch_costs=count(BatchCost),
        cogs_items=count(CogsItem),
        audit_logs=count(AuditLog),
        vessels_in_use=count(Vessel, Vessel.status == VesselStatus.IN_USE),
    )


@contextmanager
def refused(session: Session, error: type[PressError], code: str, *parts: str) -> Iterator[Any]:
    before = lot_counts(session)
    with pytest.raises(PressError) as info:
        yield info
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    assert info.value.code == code
    for part in parts:
        assert part.lower() in str(info.value).lower(), f"{part!r} not in {info.value}"
    assert lot_counts(session) == before, "a refused completion left rows behind"


def priced(item: PurchaseItem, session: Session, per_unit: str | None) -> PurchaseItem:
    item.price_per_unit = Decimal(per_unit) if per_unit is not None else None
    session.flush()
    return item


def named(w: World, vessel: Vessel, name: str) -> Vessel:
    """The vessel renamed ``name`` and a unique tag, for a message to name."""
    vessel.name = f"{name} {uuid.uuid4().hex[:6]}"
    w.session.flush()
    return vessel


@pytest.fixture
def actor(session: Session) -> press.Actor:
    return new_actor(session)


@pytest.fixture
def w(session: Session, make: Factory, actor: press.Actor) -> World:
    vendor = make.vendor(name=f"Orchard {uuid.uuid4().hex[:6]}")
    variety = make.variety()
    item = priced(make.purchase_item(vendor=vendor, variety=variety), session, "0.80")
    return World(session, make, actor, vendor, variety, item)


def _run(w: World, *weights: tuple[str, PurchaseItem | None]) -> PressRunRead:
    run = w.start(start_time=T0)
    for weight, item in weights or (("600", None),):
        w.load(run, weight, item=item)
    return run


def _split(
    w: World, run: PressRunRead, parts: list[tuple[Vessel, str, str]], juice: str, **kw: Any
) -> CompletedRun:
    outcome = {
        "juice_volume": juice,
        "juice_volume_unit": kw.pop("unit", "L"),
        "assignments": [
            {"vessel_id": vessel.id, "volume": volume, "volume_unit": unit}
            for vessel, volume, unit in parts
        ],
        "end_time": END,
        **kw,
    }
    return press.complete_run(w.session, w.actor, run.id, outcome)


# --- completing into several vessels -----------------------------------------------------


def test_a_run_split_across_two_vessels_makes_two_lots(w: World) -> None:
    second = priced(
        w.make.purchase_item(vendor=w.vendor, quantity=Decimal("500")), w.session, "1.10"
    )
    run = _run(w, ("300", None), ("300", second))
    tank, barrel = w.vessel("1000"), w.vessel("225")
    before = lot_counts(w.session)
    done = _split(
        w,
        run,
        [(tank, "200", "L"), (barrel, "200", "L")],
        "400",
        labor_hours="4",
        pomace_weight="180",
    )

    assert done.run.status is PressRunStatus.COMPLETED
    assert done.run.vessel_id == tank.id  # the first assignment's
    assert done.run.labor_rate == DEFAULT_LABOR_RATE
    assert done.run.pomace_kg == Decimal("180.000")
    a, b = done.lots
    assert a.vessel_id == tank.id
    assert b.vessel_id == barrel.id
    assert a.batch_number.endswith("-A")
    assert b.batch_number.endswith("-B")
    assert a.batch_number[:-2] == b.batch_number[:-2]
    assert a.batch_number.startswith("2026-R")
    assert (a.litres, b.litres) == (Decimal("200.000"), Decimal("200.000"))
    assert a.kg + b.kg == Decimal("600.000")
    # 300 kg at 0.80 and 300 kg at 1.10, halved; labor 4 h at 25.00, halved.
    assert (a.fruit_cost, b.fruit_cost) == (Decimal("285.00"), Decimal("285.00"))
    assert (a.labor_cost, b.labor_cost) == (Decimal("50.00"), Decimal("50.00"))
    assert a.total_cost == Decimal("335.00")
    assert a.cost_per_l == Decimal("1.6750")
    assert a.complete
    assert not a.missing_lines
    assert not a.labor_missing
    assert sum(share.kg for share in a.varieties) == a.kg
    assert sum(share.litres for share in a.growers) == a.litres
    assert [share.name for share in a.growers] == [w.vendor.name]
    assert {line.purchase_item_id for line in a.lines} == {w.item.id, second.id}
    # 600 kg gave 400 L (420 kg of juice) and 180 kg of pomace: balanced.
    assert done.warnings == []

    after = lot_counts(w.session)
    assert after.batches == before.batches + 2
    assert after.links == before.links + 2
    assert after.batch_costs == before.batch_costs + 2
    assert after.cogs_items == before.cogs_items + 6  # two lines and labor per lot
    assert after.vessels_in_use == before.vessels_in_use + 2
    # The run and two vessels updated; per lot its batch, link, cost and three items.
    assert after.audit_logs == before.audit_logs + 3 + 2 * 6

    batch = w.session.get(Batch, a.batch_id)
    assert batch is not None
    assert batch.status is BatchStatus.FERMENTING
    assert batch.vessel_id == tank.id
    assert batch.start_date == END.date()
    assert batch.initial_volume_l == batch.current_volume_l == Decimal("200.000")
    assert batch.name == f"{w.vendor.name}, pressed {END.date().isoformat()}"
    for vessel in (tank, barrel):
        w.session.refresh(vessel)
        assert vessel.status is VesselStatus.IN_USE
    [inserted] = audit_rows(w.session, a.batch_id, "batches")
    assert inserted.operation is AuditOperation.INSERT
    assert inserted.changed_by == w.actor.user_id


def test_the_single_vessel_shortcut_makes_one_lot_of_all_the_juice(w: World) -> None:
    run = _run(w)
    done = w.complete(run, "390")
    [lot] = done.lots
    assert lot.litres == Decimal("390.000")
    assert lot.vessel_id == done.run.vessel_id
    assert lot.batch_number.endswith("-A")
    assert lot.fruit_cost == Decimal("480.00")  # 600 kg at 0.80
    assert lot.labor_missing
    assert lot.labor_cost is None
    assert not lot.complete


def test_gallons_are_added_up_in_litres(w: World) -> None:
    """50 gal is 189.271 L: a share in gallons and the rest in litres add up exactly."""
    run = _run(w, ("300", None))
    tank, keg = w.vessel("1000"), w.vessel("100")
    done = _split(w, run, [(tank, "25", "gal"), (keg, "94.636", "L")], "50", unit="gal")
    assert [lot.litres for lot in done.lots] == [Decimal("94.635"), Decimal("94.636")]
    assert done.run.total_juice_volume_l == Decimal("189.271")


def test_halves_in_gallons_share_the_juice_to_the_millilitre(w: World) -> None:
    """25 + 25 gal are 94.6353 L each: rounded one by one they would miss the 189.271 L
    of 50 gal by a millilitre; shared from the juice's litres they add up."""
    run = _run(w, ("300", None))
    tank, keg = w.vessel("1000"), w.vessel("100")
    done = _split(w, run, [(tank, "25", "gal"), (keg, "25", "gal")], "50", unit="gal")
    litres = [lot.litres for lot in done.lots]
    assert sum(litres) == Decimal("189.271")
    assert sorted(litres) == [Decimal("94.635"), Decimal("94.636")]


def test_lot_numbers_follow_the_sequence() -> None:
    assert lot_number(2026, 42, 0) == "2026-R0042-A"
    assert lot_number(2026, 42, 25) == "2026-R0042-Z"
    assert lot_number(2027, 12345, 1) == "2027-R12345-B"


def test_two_runs_get_different_numbers(w: World) -> None:
    first = w.complete(_run(w, ("100", None)), "60").lots[0].batch_number
    second = w.complete(_run(w, ("100", None)), "60").lots[0].batch_number
    assert first[:-2] != second[:-2]


# --- refusals ----------------------------------------------------------------------------


def test_volumes_that_do_not_add_up(w: World) -> None:
    run = _run(w)
    tank, barrel = w.vessel("1000"), w.vessel("1000")
    with refused(w.session, VolumesDoNotAddUp, "volumes_do_not_add_up", "390", "400") as info:
        _split(w, run, [(tank, "200", "L"), (barrel, "190", "L")], "400")
    assert info.value.details == {"assigned_l": "390.000", "juice_l": "400.000"}
    assert "10.000 L short" in str(info.value)
    with refused(w.session, VolumesDoNotAddUp, "volumes_do_not_add_up", "too many"):
        _split(w, run, [(tank, "200", "L"), (barrel, "200.001", "L")], "400")
    assert w.read(run).status is PressRunStatus.IN_PROGRESS


def test_volumes_in_gallons_that_do_not_add_up(w: World) -> None:
    run = _run(w, ("300", None))
    tank, keg = w.vessel("1000"), w.vessel("1000")
    # 30 gal + 25 gal = 113.562 + 94.635 = 208.197 L, the run gave 50 gal = 189.271 L.
    with refused(w.session, VolumesDoNotAddUp, "volumes_do_not_add_up", "208.197", "189.271"):
        _split(w, run, [(tank, "30", "gal"), (keg, "25", "gal")], "50", unit="gal")
    # Shares in litres of a juice given in gallons are taken as typed: one millilitre short.
    with refused(w.session, VolumesDoNotAddUp, "volumes_do_not_add_up", "189.270", "189.271"):
        _split(w, run, [(tank, "94.635", "L"), (keg, "94.635", "L")], "50", unit="gal")


def test_a_vessel_too_small_for_its_share(w: World) -> None:
    run = _run(w)
    tank, barrel = w.vessel("1000"), named(w, w.vessel("225"), "Barrel")
    with refused(w.session, VesselTooSmall, "vessel_too_small", barrel.name, "225", "250") as info:
        _split(w, run, [(tank, "150", "L"), (barrel, "250", "L")], "400")
    assert info.value.details == {
        "vessel_id": str(barrel.id),
        "vessel_name": barrel.name,
        "capacity_l": "225.000",
        "juice_l": "250.000",
    }
    w.session.refresh(tank)
    assert tank.status is VesselStatus.AVAILABLE


@pytest.mark.parametrize("status", [VesselStatus.IN_USE, VesselStatus.CLEANING])
def test_a_vessel_in_use(w: World, status: VesselStatus) -> None:
    run = _run(w)
    tank = w.vessel("1000")
    busy = named(w, w.vessel("1000", status), "FV-busy")
    in_words = status.value.replace("_", " ")  # "in use"
    with refused(w.session, VesselUnavailable, "vessel_unavailable", busy.name, in_words):
        _split(w, run, [(tank, "200", "L"), (busy, "200", "L")], "400")


def test_an_unknown_vessel(w: World) -> None:
    run = _run(w)
    missing = uuid.uuid4()
    outcome = {
        "juice_volume": "400",
        "juice_volume_unit": "L",
        "assignments": [
            {"vessel_id": w.vessel().id, "volume": "200"},  # litres by default
            {"vessel_id": missing, "volume": "200"},
        ],
    }
    with refused(w.session, NotFound, "not_found", str(missing)):
        press.complete_run(w.session, w.actor, run.id, outcome)


def test_the_same_vessel_twice(w: World) -> None:
    run = _run(w)
    tank = w.vessel("1000")
    with refused(w.session, InvalidInput, "invalid_input", str(tank.id), "more than once") as info:
        _split(w, run, [(tank, "200", "L"), (tank, "200", "L")], "400")
    assert fields(info.value) == ["PressRunComplete"]


@pytest.mark.parametrize(
    ("outcome", "field"),
    [
        ({}, "PressRunComplete"),  # neither a vessel nor assignments
        ({"vessel_id": "both"}, "PressRunComplete"),
        ({"assignments": []}, "assignments"),
        ({"assignments": [{"volume": "1"}]}, "assignments.0.vessel_id"),
        ({"assignments": "x", "vessel_id": None}, "assignments"),
        ({"pomace_weight": "-1", "vessel_id": "one"}, "pomace_weight"),
        ({"pomace_weight": "10", "pomace_unit": "gal", "vessel_id": "one"}, "pomace_unit"),
        ({"labor_rate": "-1", "vessel_id": "one"}, "labor_rate"),
        ({"labor_rate": "12.345", "vessel_id": "one"}, "labor_rate"),
    ],
)
def test_malformed_destinations(w: World, outcome: dict[str, Any], field: str) -> None:
    run = _run(w)
    tank = w.vessel()
    body: dict[str, Any] = {"juice_volume": "400", "juice_volume_unit": "L", **outcome}
    if body.get("vessel_id") in ("one", "both"):
        if body["vessel_id"] == "both":
            body["assignments"] = [{"vessel_id": tank.id, "volume": "400"}]
        body["vessel_id"] = tank.id
    with refused(w.session, InvalidInput, "invalid_input", field.split(".")[0]) as info:
        press.complete_run(w.session, w.actor, run.id, body)
    assert field in fields(info.value)


def test_at_most_26_vessels(w: World) -> None:
    run = _run(w)
    vessels = [w.vessel("10") for _ in range(MAX_ASSIGNMENTS + 1)]
    parts = [(vessel, "1", "L") for vessel in vessels]
    with refused(w.session, InvalidInput, "invalid_input", "assignments"):
        _split(w, run, parts, str(MAX_ASSIGNMENTS + 1))
    done = _split(w, run, parts[:MAX_ASSIGNMENTS], str(MAX_ASSIGNMENTS))
    assert [lot.batch_number[-1] for lot in done.lots] == [chr(ord("A") + i) for i in range(26)]


# --- cost --------------------------------------------------------------------------------


def test_a_line_without_a_price_leaves_the_lots_incomplete_with_nulls(w: World) -> None:
    unpriced = priced(w.make.purchase_item(vendor=w.vendor), w.session, None)
    run = _run(w, ("300", None), ("300", unpriced))
    tank, barrel = w.vessel("1000"), w.vessel("1000")
    done = _split(w, run, [(tank, "250", "L"), (barrel, "150", "L")], "400", labor_hours="2")
    for lot in done.lots:
        assert not lot.complete
        assert lot.missing_lines == [unpriced.id]
        assert lot.fruit_cost is None
        assert lot.total_cost is None
        assert lot.cost_per_l is None
        assert lot.labor_cost is not None  # labor is known
        [line] = [line for line in lot.lines if line.purchase_item_id == unpriced.id]
        assert line.cost is None
        assert line.kg > 0
    rows = w.session.scalars(
        select(BatchCost).where(BatchCost.batch_id.in_([lot.batch_id for lot in done.lots]))
    ).all()
    assert len(rows) == 2
    for row in rows:
        assert row.total_apple_cost is None
        assert row.total_cost is None
        assert row.cost_per_l is None
        assert row.labor_cost is not None
    unpriced_items = w.session.scalars(
        select(CogsItem).where(CogsItem.purchase_item_id == unpriced.id)
    ).all()
    assert len(unpriced_items) == 2
    assert all(item.cost is None for item in unpriced_items)
    assert all("no price" in item.description for item in unpriced_items)
    listed = press.list_lots(w.session, w.actor, {"incomplete": True, "limit": 200})
    assert {lot.batch_id for lot in done.lots} <= {item.batch_id for item in listed.items}


def test_cost_items_name_their_line_and_add_up_per_line(w: World) -> None:
    run = _run(w, ("333.333", None))
    parts = [(w.vessel("1000"), litres, "L") for litres in ("70", "70", "60.001")]
    done = _split(w, run, parts, "200.001", labor_hours="3.25")
    items = w.session.scalars(
        select(CogsItem).where(CogsItem.batch_id.in_([lot.batch_id for lot in done.lots]))
    ).all()
    fruit = [item for item in items if item.item_type is CogsItemType.APPLES]
    labor = [item for item in items if item.item_type is CogsItemType.LABOR]
    assert {item.purchase_item_id for item in fruit} == {w.item.id}
    # 333.333 kg at 0.80 is 266.67 (to the cent); 3.25 h at 25.00 is 81.25.
    assert sum(item.cost or 0 for item in fruit) == Decimal("266.67")
    assert sum(item.quantity or 0 for item in fruit) == Decimal("333.333")
    assert all(item.unit is Unit.KG for item in fruit)
    assert sum(item.cost or 0 for item in labor) == Decimal("81.25")
    assert all(item.purchase_item_id is None for item in labor)
    assert sum(lot.total_cost or 0 for lot in done.lots) == Decimal("347.92")


def test_a_labor_rate_given_for_the_run_or_by_the_setting(w: World) -> None:
    run = _run(w, ("100", None))
    done = press.complete_run(
        w.session,
        w.actor,
        run.id,
        {
            "juice_volume": "60",
            "juice_volume_unit": "L",
            "vessel_id": w.vessel().id,
            "labor_hours": "2",
            "labor_rate": "31.50",
        },
        labor_rate=Decimal("99.00"),
    )
    assert done.run.labor_rate == Decimal("31.50")
    assert done.lots[0].labor_cost == Decimal("63.00")
    other = _run(w, ("100", None))
    outcome = {
        "juice_volume": "60",
        "juice_volume_unit": "L",
        "vessel_id": w.vessel().id,
        "labor_hours": "2",
    }
    done = press.complete_run(w.session, w.actor, other.id, outcome, labor_rate=Decimal("40.00"))
    assert done.run.labor_rate == Decimal("40.00")
    assert done.lots[0].labor_cost == Decimal("80.00")


# --- the mass balance --------------------------------------------------------------------


def test_a_mass_balance_off_is_a_warning_not_a_refusal(w: World) -> None:
    run = _run(w)  # 600 kg
    # 400 L (420 kg) + 40 kg of pomace is 460 kg of the 600: more than 10 % apart.
    done = w.complete(run, "400", pomace_weight="40")
    assert done.run.status is PressRunStatus.COMPLETED
    [warning] = done.warnings
    assert "mass balance" in warning
    assert "600.000 kg of fruit" in warning
    assert "460.000 kg" in warning


def test_a_mass_balance_within_tolerance_or_without_pomace_is_quiet(w: World) -> None:
    assert w.complete(_run(w), "400", pomace_weight="400", pomace_unit="lb").warnings == []
    assert w.complete(_run(w, ("100", None)), "60").warnings == []


# --- the database's own rule -------------------------------------------------------------


def test_the_deferred_trigger_refuses_a_link_that_breaks_the_sum(w: World) -> None:
    done = w.complete(_run(w, ("100", None)), "60")
    extra = Batch(
        batch_number=f"X-{uuid.uuid4().hex[:8]}",
        start_date=date(2026, 10, 5),
        initial_volume_l=Decimal("5"),
        current_volume_l=Decimal("5"),
    )
    w.session.add(extra)
    w.session.flush()
    w.session.add(PressRunBatch(press_run_id=done.run.id, batch_id=extra.id, volume_l=Decimal(5)))
    w.session.flush()  # deferred: accepted until the commit
    with pytest.raises(IntegrityError) as info:
        w.session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    assert "press_run_batches_match_juice" in str(info.value)
    assert "65.000" in str(info.value)
    assert "60.000" in str(info.value)


# --- reading lots ------------------------------------------------------------------------


def test_get_lot_computes_its_composition_from_the_loads(w: World) -> None:
    other = w.make.variety()
    second = priced(
        w.make.purchase_item(vendor=w.vendor, variety=other, quantity=Decimal("400")),
        w.session,
        "0.50",
    )
    run = _run(w, ("300", None), ("100", second))
    done = _split(w, run, [(w.vessel(), "180", "L"), (w.vessel(), "60", "L")], "240")
    detail = press.get_lot(w.session, w.actor, done.lots[1].batch_id)
    assert detail.lot == done.lots[1]
    assert detail.run.id == run.id
    assert detail.vendor_name == w.vendor.name
    assert detail.status is BatchStatus.FERMENTING
    assert detail.calculated_at is not None
    # The second lot has a quarter of the juice: a quarter of each variety.
    assert [(s.name, s.kg, s.litres) for s in detail.lot.varieties] == [
        (w.variety.name, Decimal("75.000"), Decimal("45.000")),
        (other.name, Decimal("25.000"), Decimal("15.000")),
    ]
    assert [item.item_type for item in detail.cogs_items] == [
        CogsItemType.APPLES,
        CogsItemType.APPLES,
        CogsItemType.LABOR,
    ]
    assert detail.lot.fruit_cost == Decimal("72.50")  # 75 kg at 0.80 + 25 kg at 0.50


def test_run_lots_reads_a_runs_lots_in_order(w: World) -> None:
    run = _run(w)
    assert press.run_lots(w.session, w.actor, run.id) == []  # not completed yet
    done = _split(w, run, [(w.vessel(), "250", "L"), (w.vessel(), "150", "L")], "400")
    assert press.run_lots(w.session, w.actor, run.id) == done.lots
    with pytest.raises(NotFound):
        press.run_lots(w.session, w.actor, uuid.uuid4())


def test_get_lot_of_a_batch_that_is_not_a_juice_lot(w: World) -> None:
    plain = Batch(
        batch_number=f"B-{uuid.uuid4().hex[:8]}",
        start_date=date(2026, 10, 5),
        initial_volume_l=Decimal("5"),
        current_volume_l=Decimal("5"),
    )
    w.session.add(plain)
    w.session.flush()
    for missing in (plain.id, uuid.uuid4()):
        with pytest.raises(NotFound) as info:
            press.get_lot(w.session, w.actor, missing)
        assert info.value.details == {"entity": "juice lot", "id": str(missing)}
    with pytest.raises(InvalidInput):
        press.get_lot(w.session, w.actor, "not-an-id")


def test_list_lots_by_season_and_in_pages(w: World) -> None:
    run = _run(w)
    done = _split(w, run, [(w.vessel(), "100", "L") for _ in range(3)], "300")
    mine = {lot.batch_id for lot in done.lots}
    seen: list[uuid.UUID] = []
    page = press.list_lots(w.session, w.actor, {"season": 2026, "limit": 2})
    while True:
        seen.extend(item.batch_id for item in page.items)
        assert all(item.start_date.year == 2026 for item in page.items)
        if page.next_cursor is None:
            break
        page = press.list_lots(
            w.session, w.actor, {"season": 2026, "limit": 2, "after": page.next_cursor}
        )
    assert mine <= set(seen)
    assert len(seen) == len(set(seen))
    earlier = press.list_lots(w.session, w.actor, {"season": 2025, "limit": 200})
    assert not mine & {item.batch_id for item in earlier.items}
    incomplete = press.list_lots(w.session, w.actor, {"incomplete": True, "limit": 200})
    assert mine <= {item.batch_id for item in incomplete.items}  # no labor hours
    with pytest.raises(InvalidInput):
        press.list_lots(w.session, w.actor, {"after": "garbage"})


# --- recomputing -------------------------------------------------------------------------


def test_recompute_costs_is_for_admins_and_audited(w: World) -> None:
    unpriced = priced(w.make.purchase_item(vendor=w.vendor), w.session, None)
    run = _run(w, ("300", None), ("300", unpriced))
    done = _split(
        w, run, [(w.vessel(), "200", "L"), (w.vessel(), "200", "L")], "400", labor_hours="2"
    )
    assert not any(lot.complete for lot in done.lots)

    with pytest.raises(Forbidden):
        press.recompute_costs(w.session, w.actor, run.id, {"reason": "price came in"})

    admin = new_actor(w.session, UserRole.ADMIN)
    priced(unpriced, w.session, "1.00")
    before = lot_counts(w.session)
    again = press.recompute_costs(
        w.session, admin, run.id, {"reason": "price came in", "labor_rate": "30.00"}
    )
    assert again.run.labor_rate == Decimal("30.00")
    assert all(lot.complete for lot in again.lots)
    # 300 kg at 0.80 + 300 kg at 1.00 = 540.00, 2 h at 30.00 = 60.00; halved.
    assert [lot.total_cost for lot in again.lots] == [Decimal("300.00"), Decimal("300.00")]
    after = lot_counts(w.session)
    assert after.batch_costs == before.batch_costs  # updated in place
    # The old items are kept, deleted; three new ones per lot.
    assert after.cogs_items == before.cogs_items + 6
    live_items = w.session.scalars(
        select(CogsItem).where(
            CogsItem.batch_id == again.lots[0].batch_id, CogsItem.deleted_at.is_(None)
        )
    ).all()
    assert len(live_items) == 3
    assert all(item.cost is not None for item in live_items)
    detail = press.get_lot(w.session, w.actor, again.lots[0].batch_id)
    assert len(detail.cogs_items) == 3

    [run_row] = [row for row in audit_rows(w.session, run.id) if row.reason == "price came in"]
    assert run_row.diff is not None
    assert run_row.diff["labor_rate"] == ["25.00", "30.00"]
    assert set(run_row.diff) == {"labor_rate", "updated_by"}
    assert run_row.changed_by == admin.user_id
    cost_id = w.session.scalar(
        select(BatchCost.id).where(BatchCost.batch_id == again.lots[0].batch_id)
    )
    assert cost_id is not None
    [cost_row] = [r for r in audit_rows(w.session, cost_id) if r.reason == "price came in"]
    assert cost_row.operation is AuditOperation.UPDATE
    assert cost_row.diff is not None
    assert cost_row.diff["total_cost"] == [None, "300.00"]
    assert cost_row.diff["total_apple_cost"] == [None, "270.00"]


def test_recompute_costs_refusals(w: World) -> None:
    admin = new_actor(w.session, UserRole.ADMIN)
    open_run = _run(w, ("100", None))
    before = lot_counts(w.session)
    with pytest.raises(InvalidTransition) as info:
        press.recompute_costs(w.session, admin, open_run.id, {"reason": "why not"})
    assert "in_progress" in str(info.value)
    with pytest.raises(NotFound):
        press.recompute_costs(w.session, admin, uuid.uuid4(), {"reason": "why not"})
    with pytest.raises(InvalidInput) as invalid:
        press.recompute_costs(w.session, admin, open_run.id, {"reason": ""})
    assert fields(invalid.value) == ["reason"]
    # A run completed before lots were recorded has none to cost.
    legacy = w.make.run(
        vendor=w.vendor,
        status=PressRunStatus.COMPLETED,
        start_time=T0,
        end_time=END,
        vessel_id=w.vessel().id,
        total_apple_weight_kg=Decimal("0"),
        juice_volume=Decimal("10"),
        juice_volume_unit=Unit.LITRE,
        total_juice_volume_l=Decimal("10"),
    )
    with pytest.raises(InvalidTransition) as info:
        press.recompute_costs(w.session, admin, legacy.id, {"reason": "why not"})
    assert "no lots" in str(info.value)
    assert lot_counts(w.session) == before


def test_correcting_a_load_before_completion_touches_no_lot(w: World) -> None:
    run = _run(w, ("100", None))
    load = w.detail(run).loads[0]
    before = lot_counts(w.session)
    press.correct_load(w.session, w.actor, load.id, {"weight": "90", "weight_unit": "kg"})
    w.void(w.load(run, "10"), "double weighed")
    after = lot_counts(w.session)
    assert (after.batches, after.batch_costs, after.cogs_items) == (
        before.batches,
        before.batch_costs,
        before.cogs_items,
    )
    [lot] = w.complete(run, "54").lots
    assert lot.kg == Decimal("90.000")


def test_the_sample_split_run_has_its_lots_costed(session: Session) -> None:
    """The seed writes its split run's lots through the lot writer: priced lines and
    labor hours, so both lots are complete, and seeding again adds nothing."""
    seed(session)
    admin = new_actor(session, UserRole.ADMIN)
    lots = [
        lot
        for lot in press.list_lots(session, admin, {"season": 2024, "limit": 200}).items
        if lot.vendor_name == "Hillside Heritage Orchard"
    ]
    assert sorted(lot.litres for lot in lots) == [Decimal("200.000"), Decimal("260.000")]
    assert all(lot.complete and lot.cost_per_l is not None for lot in lots)
    detail = press.get_lot(session, admin, lots[0].batch_id)
    assert {share.name for share in detail.lot.varieties} == {"Gravenstein", "McIntosh"}
    assert detail.run.labor_rate == Decimal("25.00")
    before = lot_counts(session)
    assert seed(session).inserted["cogs_items"] == 0
    assert lot_counts(session) == before
