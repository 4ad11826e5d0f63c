"""A run's juice lots: a worked example by hand, refused inputs, and properties."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cidery.costing.lots import Assignment, Load, RunLots, Share, juice_lots
from cidery.costing.prices import LineTerms, price_per_kg
from cidery.enums import CogsItemType, Unit

D = Decimal

KINGSTON = uuid.UUID(int=1)  # Kingston Black, Orchard Hill: 0.80 per kg
DABINETT = uuid.UUID(int=2)  # Dabinett, Orchard Hill: 0.50 per lb
RUSSET = uuid.UUID(int=3)  # Golden Russet, Valley Farm: 900.00 for 1500 kg
TANK_A = uuid.UUID(int=101)
TANK_B = uuid.UUID(int=102)

LINES = {
    KINGSTON: LineTerms(D("2000"), Unit.KG, D("2000.000"), D("0.8000"), None),
    DABINETT: LineTerms(D("4409.245"), Unit.LB, D("2000.000"), D("0.5000"), None),
    RUSSET: LineTerms(D("1500"), Unit.KG, D("1500.000"), None, D("900.00")),
}
LOADS = [
    Load(KINGSTON, "Kingston Black", "Orchard Hill", D("600.000")),
    Load(DABINETT, "Dabinett", "Orchard Hill", D("700.000")),
    Load(RUSSET, "Golden Russet", "Valley Farm", D("800.000")),
    Load(KINGSTON, "Kingston Black", "Orchard Hill", D("400.000")),
    Load(DABINETT, "Dabinett", "Orchard Hill", D("500.000")),
]
TWO_TANKS = [Assignment(TANK_A, D("1000.000")), Assignment(TANK_B, D("1000.000"))]


def two_tanks(lines: dict[uuid.UUID, LineTerms] = LINES) -> RunLots:
    return juice_lots(
        LOADS,
        lines,
        juice_l=D("2000.000"),
        labor_hours=D("6.00"),
        labor_rate=D("25.00"),
        assignments=TWO_TANKS,
    )


def test_a_2000_l_run_into_two_1000_l_tanks() -> None:
    run = two_tanks()
    assert run.complete
    assert run.kg == D("3000.000")
    # 1000 kg x 0.80; 1200 kg at 0.50 per lb = 1322.7735...; 800 kg x 900.00 / 1500.
    assert [(line.line_id, line.kg, line.cost) for line in run.lines] == [
        (KINGSTON, D("1000.000"), D("800.00")),
        (DABINETT, D("1200.000"), D("1322.77")),
        (RUSSET, D("800.000"), D("480.00")),
    ]
    assert run.priced_fruit_cost == D("2602.77")
    assert run.labor_cost == D("150.00")

    first, second = run.lots
    assert (first.vessel_id, first.litres, first.kg) == (TANK_A, D("1000.000"), D("1500.000"))
    assert (second.vessel_id, second.litres, second.kg) == (TANK_B, D("1000.000"), D("1500.000"))
    # The odd cent of 2602.77 goes to the first tank, and it comes from the Dabinett.
    assert [line.cost for line in first.lines] == [D("400.00"), D("661.39"), D("240.00")]
    assert [line.cost for line in second.lines] == [D("400.00"), D("661.38"), D("240.00")]
    assert (first.fruit_cost, first.labor_cost, first.total_cost) == (
        D("1301.39"),
        D("75.00"),
        D("1376.39"),
    )
    assert (second.fruit_cost, second.labor_cost, second.total_cost) == (
        D("1301.38"),
        D("75.00"),
        D("1376.38"),
    )
    assert first.cost_per_l == D("1.3764")
    assert second.cost_per_l == D("1.3764")


def test_each_lot_s_varieties_and_growers_add_up_both_ways() -> None:
    first, second = two_tanks().lots
    # By kg: Dabinett 1200, Kingston Black 1000, Golden Russet 800; litres 800, 666.667,
    # 533.333 for the run, the spare thousandths in turn.
    assert first.varieties == (
        Share("Dabinett", D("600.000"), D("400.000")),
        Share("Kingston Black", D("500.000"), D("333.334")),
        Share("Golden Russet", D("400.000"), D("266.666")),
    )
    assert second.varieties == (
        Share("Dabinett", D("600.000"), D("400.000")),
        Share("Kingston Black", D("500.000"), D("333.333")),
        Share("Golden Russet", D("400.000"), D("266.667")),
    )
    assert first.growers == (
        Share("Orchard Hill", D("1100.000"), D("733.334")),
        Share("Valley Farm", D("400.000"), D("266.666")),
    )
    assert second.growers == (
        Share("Orchard Hill", D("1100.000"), D("733.333")),
        Share("Valley Farm", D("400.000"), D("266.667")),
    )


def test_the_rows_for_batch_costs_and_cogs_items() -> None:
    first = two_tanks().lots[0]
    assert first.batch_cost.total_apple_cost == D("1301.39")
    assert first.batch_cost.labor_cost == D("75.00")
    assert first.batch_cost.total_cost == D("1376.39")
    assert first.batch_cost.cost_per_l == D("1.3764")
    items = first.cogs_items
    assert [item.item_type for item in items] == [CogsItemType.APPLES] * 3 + [CogsItemType.LABOR]
    assert [(item.cost, item.quantity, item.unit) for item in items] == [
        (D("400.00"), D("500.000"), Unit.KG),
        (D("661.39"), D("600.000"), Unit.KG),
        (D("240.00"), D("400.000"), Unit.KG),
        (D("75.00"), None, None),
    ]
    assert items[1].description == (
        f"Apples: Dabinett from Orchard Hill (purchase line {DABINETT})"
    )
    assert items[3].description == "Labor: share of the run's 6.00 h at 25.00 per hour"


def test_a_line_without_a_price_makes_the_lots_incomplete_not_cheaper() -> None:
    unpriced = {**LINES, RUSSET: LineTerms(D("1500"), Unit.KG, D("1500.000"), None, None)}
    run = two_tanks(unpriced)
    assert not run.complete
    assert run.missing_lines == (RUSSET,)
    assert run.lines[2].cost is None
    assert run.priced_fruit_cost == D("2122.77")
    for lot in run.lots:
        assert not lot.complete
        assert lot.missing_lines == (RUSSET,)
        assert lot.fruit_cost is None
        assert lot.total_cost is None
        assert lot.cost_per_l is None
        assert lot.batch_cost.total_apple_cost is None
        assert lot.labor_cost == D("75.00")
        russet = lot.cogs_items[2]
        assert russet.cost is None
        assert russet.description.endswith(", no price")
    assert [lot.priced_fruit_cost for lot in run.lots] == [D("1061.39"), D("1061.38")]


def test_labor_without_hours_is_missing_not_free() -> None:
    run = juice_lots(
        LOADS,
        LINES,
        juice_l=D("2000.000"),
        labor_hours=None,
        labor_rate=D("25.00"),
        assignments=TWO_TANKS,
    )
    assert run.labor_missing
    assert not run.complete
    assert all(lot.labor_cost is None and lot.total_cost is None for lot in run.lots)
    assert run.lots[0].fruit_cost == D("1301.39")
    assert run.lots[0].cogs_items[-1].cost is None


def test_one_vessel_takes_it_all() -> None:
    run = juice_lots(
        LOADS,
        LINES,
        juice_l=D("2000.000"),
        labor_hours=D("0"),
        labor_rate=D("25.00"),
        assignments=[Assignment(TANK_A, D("2000.000"))],
    )
    (lot,) = run.lots
    assert lot.total_cost == D("2602.77")
    assert lot.cost_per_l == D("1.3014")  # 1.301385
    assert lot.labor_cost == D("0.00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"assignments": [Assignment(TANK_A, D("1000.000"))]}, "add up to 1000.000"),
        ({"assignments": []}, "at least one vessel"),
        (
            {"assignments": [Assignment(TANK_A, D(1000)), Assignment(TANK_A, D(1000))]},
            "more than once",
        ),
        (
            {"assignments": [Assignment(TANK_A, D(2000)), Assignment(TANK_B, D(0))]},
            "must be positive",
        ),
        ({"juice_l": D("2000.0005")}, "three decimals"),
        ({"loads": []}, "no live loads"),
        ({"loads": [Load(KINGSTON, "Kingston Black", "Orchard Hill", D(-1))]}, "positive"),
        ({"loads": [Load(uuid.UUID(int=9), "Jonagold", "Nowhere", D(10))]}, "terms are missing"),
        (
            {"loads": [*LOADS, Load(KINGSTON, "Dabinett", "Orchard Hill", D(1))]},
            "disagree",
        ),
        ({"labor_hours": D(-1)}, "non-negative"),
        ({"labor_rate": D("NaN")}, "finite"),
    ],
)
def test_refused_inputs(change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "loads": LOADS,
        "lines": LINES,
        "juice_l": D("2000.000"),
        "labor_hours": D("6.00"),
        "labor_rate": D("25.00"),
        "assignments": TWO_TANKS,
    }
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        juice_lots(**arguments)  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------

KG = st.decimals(min_value=D("0.001"), max_value=D("5000"), places=3)
PRICES = st.one_of(
    st.none(),
    st.tuples(st.sampled_from([Unit.KG, Unit.LB, Unit.BUSHEL]), st.decimals(0, 100, places=4)),
    st.decimals(0, 100_000, places=2),
)


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[Load], dict[uuid.UUID, LineTerms], list[Assignment]]:
    line_count = draw(st.integers(1, 5))
    lines: dict[uuid.UUID, LineTerms] = {}
    fruit: dict[uuid.UUID, tuple[str, str]] = {}
    for index in range(line_count):
        line_id = uuid.UUID(int=index + 1)
        price = draw(PRICES)
        if isinstance(price, tuple):
            unit, per_unit = price
            lines[line_id] = LineTerms(D(100), unit, D("1000.000"), per_unit, None)
        else:
            lines[line_id] = LineTerms(D(1000), Unit.KG, D("1000.000"), None, price)
        fruit[line_id] = (
            draw(st.sampled_from(["Dabinett", "Kingston Black", "Golden Russet"])),
            draw(st.sampled_from(["Orchard Hill", "Valley Farm"])),
        )
    loads = [
        Load(line_id, *fruit[line_id], draw(KG))
        for line_id in draw(st.lists(st.sampled_from(list(lines)), min_size=1, max_size=12))
    ]
    litres = draw(st.lists(st.decimals(D("0.001"), D("3000"), places=3), min_size=1, max_size=4))
    assignments = [Assignment(uuid.UUID(int=100 + i), amount) for i, amount in enumerate(litres)]
    return loads, lines, assignments


@settings(max_examples=150, deadline=None)
@given(runs(), st.decimals(0, 50, places=2), st.decimals(0, 80, places=2))
def test_every_litre_kg_and_cent_adds_up(
    case: tuple[list[Load], dict[uuid.UUID, LineTerms], list[Assignment]],
    hours: Decimal,
    rate: Decimal,
) -> None:
    loads, lines, assignments = case
    juice = sum((a.litres for a in assignments), D(0))
    run = juice_lots(
        loads, lines, juice_l=juice, labor_hours=hours, labor_rate=rate, assignments=assignments
    )
    lots = run.lots
    assert [lot.vessel_id for lot in lots] == [a.vessel_id for a in assignments]
    assert sum((lot.litres for lot in lots), D(0)) == juice
    assert (
        sum((lot.kg for lot in lots), D(0)) == run.kg == sum((ld.weight_kg for ld in loads), D(0))
    )

    for index, line in enumerate(run.lines):
        parts = [lot.lines[index] for lot in lots]
        assert {part.line_id for part in parts} == {line.line_id}
        assert sum((part.kg for part in parts), D(0)) == line.kg
        assert line.kg == sum((ld.weight_kg for ld in loads if ld.line_id == line.line_id), D(0))
        price = price_per_kg(lines[line.line_id])
        if price is None:
            assert line.cost is None
            assert all(part.cost is None for part in parts)
        else:
            assert line.cost == price.cost_of(line.kg)
            assert sum((part.cost or D(0) for part in parts), D(0)) == line.cost

    priced = all(price_per_kg(lines[line.line_id]) is not None for line in run.lines)
    assert run.complete is priced
    assert sum((lot.priced_fruit_cost for lot in lots), D(0)) == run.priced_fruit_cost
    assert run.labor_cost is not None
    assert sum((lot.labor_cost or D(0) for lot in lots), D(0)) == run.labor_cost
    for lot in lots:
        assert lot.complete is priced
        assert sum((line.kg for line in lot.lines), D(0)) == lot.kg
        assert sum((line.cost or D(0) for line in lot.lines), D(0)) == lot.priced_fruit_cost
        for shares in (lot.varieties, lot.growers):
            assert sum((share.kg for share in shares), D(0)) == lot.kg
            assert sum((share.litres for share in shares), D(0)) == lot.litres
        if priced:
            assert lot.fruit_cost is not None
            assert lot.labor_cost is not None
            assert lot.total_cost == lot.fruit_cost + lot.labor_cost
            assert lot.cost_per_l is not None
            assert abs(lot.cost_per_l * lot.litres - lot.total_cost) <= lot.litres * D("0.00005")
        else:
            assert lot.total_cost is None
            assert lot.cost_per_l is None
        assert len(lot.cogs_items) == len(run.lines) + 1
        assert all(item.cost is None or item.cost >= 0 for item in lot.cogs_items)
        assert all(item.quantity is None or item.quantity > 0 for item in lot.cogs_items)

    for attribute in ("variety", "grower"):
        by_name: dict[str, Decimal] = {}
        for load in loads:
            name = getattr(load, attribute)
            by_name[name] = by_name.get(name, D(0)) + load.weight_kg
        kg_over_lots: dict[str, Decimal] = {}
        litres_over_lots: dict[str, Decimal] = {}
        for lot in lots:
            for share in lot.varieties if attribute == "variety" else lot.growers:
                kg_over_lots[share.name] = kg_over_lots.get(share.name, D(0)) + share.kg
                litres_over_lots[share.name] = litres_over_lots.get(share.name, D(0)) + share.litres
        assert kg_over_lots == by_name
        assert sum(litres_over_lots.values(), D(0)) == juice
