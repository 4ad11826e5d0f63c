"""The season reports on real rows: yield per variety and per grower for a harvest year,
and the juice lots with their cost per litre, an unknown cost shown as unknown.

A season is the calendar year, in UTC, in which a run ended. Rows are made in the test's
own rolled-back transaction, in seasons no other test uses, and the rows read are narrowed
to what the test made.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, update
from sqlalchemy.orm import Session

from cidery import catalog, press
from cidery.catalog.schemas import FIRST_SEASON, LAST_SEASON
from cidery.models import Batch, PressRun, PurchaseItem, Vendor
from cidery.press.errors import InvalidInput
from tests.catalog.lots import Cost, Lot, completed_run_with_lots
from tests.factories import Factory
from tests.press.support import fields

SEASON = 2041
NEW_YEAR = datetime(SEASON, 1, 1, tzinfo=UTC)
NEXT_NEW_YEAR = datetime(SEASON + 1, 1, 1, tzinfo=UTC)


def _tag() -> str:
    return uuid.uuid4().hex[:10]


def _press(
    session: Session,
    actor: press.Actor,
    vendor: Vendor,
    loads: list[tuple[PurchaseItem, str]],
    litres: str,
    ended: datetime,
    make: Factory,
) -> uuid.UUID:
    """A run of ``vendor`` with these loads (line, kg), completed with ``litres`` at
    ``ended`` through the press service; its id."""
    run = press.start_run(
        session, actor, {"vendor_id": vendor.id, "start_time": ended - timedelta(hours=4)}
    )
    for item, kg in loads:
        press.add_load(
            session, actor, run.id, {"purchase_item_id": item.id, "weight": kg, "weight_unit": "kg"}
        )
    outcome = {
        "juice_volume": litres,
        "juice_volume_unit": "L",
        "vessel_id": make.vessel().id,
        "end_time": ended,
    }
    return press.complete_run(session, actor, run.id, outcome).run.id


def _figures(row: catalog.YieldRow) -> tuple[int, Decimal, Decimal, Decimal | None]:
    return row.run_count, row.kg_pressed, row.juice_l, row.yield_l_per_kg


# --- yield for a season -------------------------------------------------------------------


@pytest.fixture
def season_runs(
    session: Session, make: Factory, operator: press.Actor
) -> tuple[Vendor, catalog.VarietyRead, catalog.VarietyRead]:
    """Runs of one grower ending on each side of the season's bounds.

    In the season: at its first instant, 300 kg of A and 100 kg of B giving 200 L (A is
    credited 150 L, B 50 L), and in its last microsecond 100 kg of A giving 60 L. Outside
    it: a run a microsecond before it, one at the next season's first instant, and one
    completed at 00:30 on 1 January of the season in UTC+1, which is 23:30 on 31 December
    of the year before in UTC.
    """
    tag = _tag()
    vendor = make.vendor(f"{tag} Orchard")
    a, b = make.variety(f"{tag} A"), make.variety(f"{tag} B")
    line_a = make.purchase_item(vendor=vendor, variety=a, quantity=Decimal("5000"))
    line_b = make.purchase_item(vendor=vendor, variety=b, quantity=Decimal("5000"))
    micro = timedelta(microseconds=1)
    _press(session, operator, vendor, [(line_a, "300"), (line_b, "100")], "200", NEW_YEAR, make)
    _press(session, operator, vendor, [(line_a, "100")], "60", NEXT_NEW_YEAR - micro, make)
    _press(session, operator, vendor, [(line_a, "100")], "50", NEW_YEAR - micro, make)
    _press(session, operator, vendor, [(line_b, "100")], "70", NEXT_NEW_YEAR, make)
    plus_one = datetime(SEASON, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    _press(session, operator, vendor, [(line_b, "100")], "80", plus_one, make)
    as_read = {v.id: v for v in catalog.list_varieties(session, operator)}
    return vendor, as_read[a.id], as_read[b.id]


def test_a_season_counts_the_runs_that_ended_in_its_calendar_year_in_utc(
    session: Session,
    viewer: press.Actor,
    season_runs: tuple[Vendor, catalog.VarietyRead, catalog.VarietyRead],
) -> None:
    vendor, a, b = season_runs

    by_variety = catalog.yield_report(session, viewer, {"season": SEASON})
    by_vendor = catalog.yield_report(session, viewer, {"season": SEASON, "group_by": "vendor"})

    mine = [row for row in by_variety if row.group_id in (a.id, b.id)]
    assert [(row.name, *_figures(row)) for row in mine] == [
        (a.name, 2, Decimal("400.000"), Decimal("210.000"), Decimal("0.5250")),
        (b.name, 1, Decimal("100.000"), Decimal("50.000"), Decimal("0.5000")),
    ]
    (grower,) = [row for row in by_vendor if row.group_id == vendor.id]
    assert (grower.name, *_figures(grower)) == (
        vendor.name,
        2,
        Decimal("500.000"),
        Decimal("260.000"),
        Decimal("0.5200"),
    )
    # The same runs as the season's range given as since and until.
    assert by_vendor == catalog.yield_report(
        session, viewer, {"since": NEW_YEAR, "until": NEXT_NEW_YEAR, "group_by": "vendor"}
    )
    # The year before holds the run a microsecond before, and the one at 00:30 in UTC+1.
    (before,) = [
        row
        for row in catalog.yield_report(
            session, viewer, {"season": SEASON - 1, "group_by": "vendor"}
        )
        if row.group_id == vendor.id
    ]
    assert _figures(before) == (2, Decimal("200.000"), Decimal("130.000"), Decimal("0.6500"))


def test_a_season_s_juice_per_variety_adds_up_to_its_growers(
    session: Session, make: Factory, operator: press.Actor, viewer: press.Actor
) -> None:
    """Each run's juice is shared among its varieties by weight, in one statement: summed
    over the varieties it is the growers' juice, to the rounding of each variety's litres."""
    tag = _tag()
    growers = [make.vendor(f"{tag} Grower {n}") for n in range(2)]
    varieties = [make.variety(f"{tag} Variety {n}") for n in range(3)]
    ended = datetime(SEASON, 10, 1, 12, tzinfo=UTC)
    for n, grower in enumerate(growers):
        lines = [
            make.purchase_item(vendor=grower, variety=variety, quantity=Decimal("1000"))
            for variety in varieties
        ]
        # Thirds of 100 L, and shares of 7 kg in 23: litres that do not divide evenly.
        _press(session, operator, grower, [(line, "100") for line in lines], "100", ended, make)
        weights = ("7", "11", "5")
        _press(
            session, operator, grower, list(zip(lines, weights, strict=True)), "13.1", ended, make
        )
        _press(session, operator, grower, [(lines[n], "250")], "150.5", ended, make)

    ids = {v.id for v in varieties}
    per_variety = [
        r for r in catalog.yield_report(session, viewer, {"season": SEASON}) if r.group_id in ids
    ]
    grower_ids = {g.id for g in growers}
    per_grower = [
        r
        for r in catalog.yield_report(session, viewer, {"season": SEASON, "group_by": "vendor"})
        if r.group_id in grower_ids
    ]

    assert len(per_variety) == 3
    assert len(per_grower) == 2
    assert sum(r.kg_pressed for r in per_variety) == sum(r.kg_pressed for r in per_grower)
    juice = sum(r.juice_l for r in per_grower)
    assert juice == Decimal("2") * (Decimal("100") + Decimal("13.1") + Decimal("150.5"))
    # Each variety's litres are rounded to the millilitre once, after summing its shares.
    assert abs(sum(r.juice_l for r in per_variety) - juice) <= Decimal("0.0005") * 3
    assert sum(r.run_count for r in per_grower) == 6
    assert [r.run_count for r in per_variety] == [5, 5, 4]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"season": FIRST_SEASON - 1}, ["season"]),
        ({"season": LAST_SEASON + 1}, ["season"]),
        ({"season": True}, ["season"]),
        ({"season": "twenty twenty-six"}, ["season"]),
        ({"season": "2026.5"}, ["season"]),
        ({"season": 2026, "since": NEW_YEAR}, ["season"]),
        ({"season": 2026, "until": NEW_YEAR}, ["season"]),
        ({"season": 0, "group_by": "week"}, ["group_by", "season"]),
    ],
    ids=["too early", "too late", "true", "words", "fraction", "with since", "with until", "both"],
)
def test_an_implausible_season_is_refused(
    session: Session, viewer: press.Actor, query: dict[str, object], expected: list[str]
) -> None:
    with pytest.raises(InvalidInput) as info:
        catalog.yield_report(session, viewer, query)
    assert fields(info.value) == expected


def test_a_season_as_text_is_read_as_a_year(session: Session, viewer: press.Actor) -> None:
    """Query strings and the command line give the year as text."""
    assert catalog.yield_report(session, viewer, {"season": str(SEASON)}) == (
        catalog.yield_report(session, viewer, {"season": SEASON})
    )


# --- juice lots and their cost per litre --------------------------------------------------


def _mine(rows: list[catalog.LotCostRow], vendor: Vendor) -> list[catalog.LotCostRow]:
    return [row for row in rows if row.vendor_id == vendor.id]


def test_lots_of_a_season_with_their_cost_per_litre(
    session: Session, make: Factory, viewer: press.Actor
) -> None:
    tag = _tag()
    vendor = make.vendor(f"{tag} Orchard")
    # Split across two vessels: one lot costed, the other drawing on a line without a price.
    split = completed_run_with_lots(
        session,
        make,
        vendor,
        datetime(SEASON, 10, 5, 15, tzinfo=UTC),
        [
            Lot("600", Cost(apple=Decimal("300.00"), labor=Decimal("30.00"))),
            Lot("400", Cost(apple=None, labor=Decimal("20.00"))),
        ],
        f"{tag}-R1",
    )
    # One lot whose cost was never worked out: no batch_costs row at all.
    uncosted = completed_run_with_lots(
        session, make, vendor, datetime(SEASON, 11, 1, 9, tzinfo=UTC), [Lot("250", None)], tag
    )
    # The next season's, and a deleted lot of this one.
    later = completed_run_with_lots(
        session,
        make,
        vendor,
        NEXT_NEW_YEAR,
        [Lot("100", Cost(apple=Decimal("10.00"), labor=Decimal("0.00")))],
        f"{tag}-R3",
    )
    deleted = completed_run_with_lots(
        session, make, vendor, datetime(SEASON, 10, 1, tzinfo=UTC), [Lot("90", None)], f"{tag}-R0"
    )
    session.execute(
        update(Batch).where(Batch.id == deleted.batches[0].id).values(deleted_at=func.now())
    )

    rows = _mine(catalog.lot_costs(session, viewer, {"season": SEASON}), vendor)

    assert [row.batch_number for row in rows] == [f"{tag}-R1-A", f"{tag}-R1-B", f"{tag}-A"]
    costed, unpriced, never = rows
    assert costed.model_dump() == {
        "batch_id": split.batches[0].id,
        "batch_number": f"{tag}-R1-A",
        "vessel_id": split.vessels[0].id,
        "vessel_name": split.vessels[0].name,
        "press_run_id": split.run.id,
        "vendor_id": vendor.id,
        "vendor_name": vendor.name,
        "start_date": date(SEASON, 10, 5),
        "litres": Decimal("600.000"),
        "total_apple_cost": Decimal("300.00"),
        "labor_cost": Decimal("30.00"),
        "total_cost": Decimal("330.00"),
        "cost_per_l": Decimal("0.5500"),
        "complete": True,
    }
    # Unknown is unknown: never a zero.
    assert (unpriced.vessel_id, unpriced.press_run_id) == (split.vessels[1].id, split.run.id)
    assert (unpriced.litres, unpriced.labor_cost) == (Decimal("400.000"), Decimal("20.00"))
    assert (unpriced.total_apple_cost, unpriced.total_cost, unpriced.cost_per_l) == (None,) * 3
    assert unpriced.complete is False
    assert never.press_run_id == uncosted.run.id
    assert never.litres == Decimal("250.000")
    costs = (never.total_apple_cost, never.labor_cost, never.total_cost, never.cost_per_l)
    assert costs == (None,) * 4
    assert never.complete is False

    # Without a season: every lot, the next season's too, oldest first.
    every = _mine(catalog.lot_costs(session, viewer), vendor)
    assert [row.batch_id for row in every] == [
        split.batches[0].id,
        split.batches[1].id,
        uncosted.batches[0].id,
        later.batches[0].id,
    ]
    assert every[-1].complete is True
    assert every[-1].cost_per_l == Decimal("0.1000")


def test_lots_of_deleted_runs_are_not_listed(
    session: Session, make: Factory, viewer: press.Actor
) -> None:
    vendor = make.vendor(f"{_tag()} Orchard")
    made = completed_run_with_lots(
        session, make, vendor, datetime(SEASON, 9, 9, tzinfo=UTC), [Lot("80", None)], _tag()
    )
    assert len(_mine(catalog.lot_costs(session, viewer, {"season": SEASON}), vendor)) == 1
    session.execute(
        update(PressRun).where(PressRun.id == made.run.id).values(deleted_at=func.now())
    )
    assert _mine(catalog.lot_costs(session, viewer, {"season": SEASON}), vendor) == []


def test_a_season_without_lots_lists_none(session: Session, viewer: press.Actor) -> None:
    assert catalog.lot_costs(session, viewer, {"season": FIRST_SEASON}) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"season": 1066}, ["season"]),
        ({"season": "next"}, ["season"]),
        ({"since": NEW_YEAR}, ["since"]),
        (2026, ["LotQuery"]),
    ],
    ids=["too early", "words", "unknown field", "not a mapping"],
)
def test_lot_queries_refused(
    session: Session, viewer: press.Actor, query: object, expected: list[str]
) -> None:
    with pytest.raises(InvalidInput) as info:
        catalog.lot_costs(session, viewer, query)
    assert fields(info.value) == expected


def test_every_role_reads_the_reports_and_the_actor_is_checked_first(
    session: Session, viewer: press.Actor, operator: press.Actor, admin: press.Actor
) -> None:
    for actor in (viewer, operator, admin):
        catalog.lot_costs(session, actor, {"season": SEASON})
        catalog.yield_report(session, actor, {"season": SEASON})
    with pytest.raises(InvalidInput) as info:
        catalog.lot_costs(session, {"user_id": None, "role": "admin"}, {"season": "x"})
    assert fields(info.value) == ["actor"]


def test_a_season_filter_has_a_default(session: Session, admin: press.Actor) -> None:
    assert catalog.lot_costs(session, admin, None) == catalog.lot_costs(
        session, admin, catalog.LotQuery()
    )
