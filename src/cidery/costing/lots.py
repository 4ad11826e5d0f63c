"""A press run's juice split into lots, with what is in each lot and what it cost.

Each vessel a run's juice goes to holds one juice lot. From the run's live loads, its
juice, its labor and the vessels' litres, :func:`juice_lots` works out for every lot:

* its kilograms of fruit: the run's kilograms shared by the lots' litres;
* its varieties and growers, in kg and in litres, shared by the weight of the loads:
  within a lot they add up to the lot's kg and litres, and each variety's (grower's)
  parts over the lots add up to the run's (:func:`~cidery.costing.money.split_table`);
* the fruit cost of every purchase line drawn on: the line's price per kg
  (:mod:`cidery.costing.prices`) times the kg pressed from it, to the cent, shared
  among the lots by litres so the parts add up to the line's cost;
* its share of labor (hours times the rate, to the cent) by litres;
* totals, and the cost per litre to four decimals.

A line without a price makes every lot drawing on it incomplete: that line's cost is
``None`` and listed as missing, and so are the lot's fruit cost, total and cost per
litre; the priced part is kept apart (``priced_fruit_cost``). Labor with no recorded
hours is missing the same way. Nothing unknown is ever counted as zero.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from cidery.costing.money import MILLI, round_exact, split, split_table
from cidery.costing.prices import LineTerms, price_per_kg
from cidery.enums import CogsItemType, Unit

COST_PER_L_QUANTUM = Decimal("0.0001")  # batch_costs.cost_per_l is numeric(8,4)


@dataclass(frozen=True)
class Load:
    """A live load of the run: kilograms drawn from one purchase line."""

    line_id: uuid.UUID
    variety: str
    grower: str
    weight_kg: Decimal


@dataclass(frozen=True)
class Assignment:
    """Litres of the run's juice sent to one vessel."""

    vessel_id: uuid.UUID
    litres: Decimal


@dataclass(frozen=True)
class Share:
    """A variety's or a grower's part of a lot (or of the run)."""

    name: str
    kg: Decimal
    litres: Decimal


@dataclass(frozen=True)
class LineCost:
    """The fruit of one purchase line in a lot (or in the run); ``cost`` None: no price."""

    line_id: uuid.UUID
    variety: str
    grower: str
    kg: Decimal
    cost: Decimal | None


@dataclass(frozen=True)
class BatchCostRow:
    """The columns of a ``batch_costs`` row; the fruit total and what depends on it are
    None while the lot is incomplete."""

    total_apple_cost: Decimal | None
    labor_cost: Decimal | None
    total_cost: Decimal | None
    cost_per_l: Decimal | None


@dataclass(frozen=True)
class CogsItemRow:
    """The columns of a ``cogs_items`` row; ``cost`` None: the cost is missing."""

    item_type: CogsItemType
    description: str
    cost: Decimal | None
    quantity: Decimal | None
    unit: Unit | None


@dataclass(frozen=True)
class Lot:
    vessel_id: uuid.UUID
    litres: Decimal
    kg: Decimal
    varieties: tuple[Share, ...]
    growers: tuple[Share, ...]
    lines: tuple[LineCost, ...]
    priced_fruit_cost: Decimal
    fruit_cost: Decimal | None
    labor_cost: Decimal | None
    total_cost: Decimal | None
    cost_per_l: Decimal | None
    missing_lines: tuple[uuid.UUID, ...]
    labor_missing: bool
    batch_cost: BatchCostRow
    cogs_items: tuple[CogsItemRow, ...]

    @property
    def complete(self) -> bool:
        return not self.missing_lines and not self.labor_missing


@dataclass(frozen=True)
class RunLots:
    """The lots of one run, and the run's own figures they add up to."""

    lots: tuple[Lot, ...]
    juice_l: Decimal
    kg: Decimal
    lines: tuple[LineCost, ...]
    priced_fruit_cost: Decimal
    labor_cost: Decimal | None
    missing_lines: tuple[uuid.UUID, ...]
    labor_missing: bool

    @property
    def complete(self) -> bool:
        return not self.missing_lines and not self.labor_missing


def _amount(value: Decimal, what: str, *, positive: bool = True) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{what} must be a finite Decimal, not {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{what} must be {'positive' if positive else 'non-negative'}: {value}")
    if positive and value != value.quantize(MILLI):
        raise ValueError(f"{what} has more than three decimals: {value}")


def _validate(
    loads: Sequence[Load],
    juice_l: Decimal,
    labor_hours: Decimal | None,
    labor_rate: Decimal,
    assignments: Sequence[Assignment],
) -> None:
    if not loads:
        raise ValueError("the run has no live loads")
    for index, load in enumerate(loads):
        _amount(load.weight_kg, f"load {index}'s weight_kg")
    _amount(juice_l, "the run's juice")
    if labor_hours is not None:
        _amount(labor_hours, "labor_hours", positive=False)
    _amount(labor_rate, "the labor rate", positive=False)
    if not assignments:
        raise ValueError("the juice must go to at least one vessel")
    for index, assignment in enumerate(assignments):
        _amount(assignment.litres, f"assignment {index}'s litres")
    vessels = [assignment.vessel_id for assignment in assignments]
    if len(set(vessels)) != len(vessels):
        raise ValueError("a vessel is assigned more than once")
    assigned = sum((assignment.litres for assignment in assignments), Decimal(0))
    if assigned != juice_l:
        raise ValueError(f"the vessels' litres add up to {assigned}, the run's juice is {juice_l}")


def _totals(keys_and_kg: Sequence[tuple[str, Decimal]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for key, kg in keys_and_kg:
        totals[key] = totals.get(key, Decimal(0)) + kg
    # The largest first, then by name: the order the pages and reports show.
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def _composition(
    kg_by_name: dict[str, Decimal],
    juice_l: Decimal,
    lot_kg: list[Decimal],
    lot_litres: list[Decimal],
) -> tuple[list[Share], list[list[Share]]]:
    """The run's shares by name, and each lot's (names in the same order, every one)."""
    names = list(kg_by_name)
    kg = list(kg_by_name.values())
    litres = split(juice_l, kg, quantum=MILLI)
    kg_table = split_table(kg, lot_kg, quantum=MILLI)
    litre_table = split_table(litres, lot_litres, quantum=MILLI)
    run = [Share(name, kg[i], litres[i]) for i, name in enumerate(names)]
    per_lot = [
        [Share(name, kg_table[i][j], litre_table[i][j]) for i, name in enumerate(names)]
        for j in range(len(lot_kg))
    ]
    return run, per_lot


def _line_row(line: LineCost) -> CogsItemRow:
    description = f"Apples: {line.variety} from {line.grower} (purchase line {line.line_id})"
    if line.cost is None:
        description += ", no price"
    has_kg = line.kg > 0  # cogs_items.quantity is positive or null
    return CogsItemRow(
        CogsItemType.APPLES,
        description,
        line.cost,
        line.kg if has_kg else None,
        Unit.KG if has_kg else None,
    )


def _labor_row(cost: Decimal | None, hours: Decimal | None, rate: Decimal) -> CogsItemRow:
    if hours is None:
        description = "Labor: share of the run's labor, hours not recorded"
    else:
        description = f"Labor: share of the run's {hours} h at {rate} per hour"
    return CogsItemRow(CogsItemType.LABOR, description, cost, None, None)


def juice_lots(
    loads: Sequence[Load],
    lines: Mapping[uuid.UUID, LineTerms],
    *,
    juice_l: Decimal,
    labor_hours: Decimal | None,
    labor_rate: Decimal,
    assignments: Sequence[Assignment],
) -> RunLots:
    """Each vessel's lot of a run's juice: its litres, composition and cost.

    ``loads`` are the run's live loads (kg with three decimals), ``lines`` the terms of
    every purchase line they draw on, ``juice_l`` the run's litres, ``labor_hours``
    (None when not recorded) at ``labor_rate`` per hour, and ``assignments`` the litres
    each vessel receives, adding up exactly to ``juice_l``. Refused with ValueError: no
    loads or no vessels, amounts not positive (or with more than three decimals), a
    vessel twice, litres that do not add up, a line missing from ``lines``, loads of
    one line with different varieties or growers. The lots come in the order of the
    assignments.
    """
    _validate(loads, juice_l, labor_hours, labor_rate, assignments)

    line_kg: dict[uuid.UUID, Decimal] = {}
    line_names: dict[uuid.UUID, tuple[str, str]] = {}
    for load in loads:
        if load.line_id not in lines:
            raise ValueError(f"purchase line {load.line_id} is drawn on but its terms are missing")
        names = line_names.setdefault(load.line_id, (load.variety, load.grower))
        if names != (load.variety, load.grower):
            raise ValueError(f"the loads of purchase line {load.line_id} disagree on its fruit")
        line_kg[load.line_id] = line_kg.get(load.line_id, Decimal(0)) + load.weight_kg
    line_ids = list(line_kg)  # in the order the loads first draw on them

    run_kg = sum(line_kg.values(), Decimal(0))
    lot_litres = [assignment.litres for assignment in assignments]
    lot_kg = split(run_kg, lot_litres, quantum=MILLI)
    lot_range = range(len(assignments))

    _, varieties = _composition(
        _totals([(load.variety, load.weight_kg) for load in loads]), juice_l, lot_kg, lot_litres
    )
    _, growers = _composition(
        _totals([(load.grower, load.weight_kg) for load in loads]), juice_l, lot_kg, lot_litres
    )

    # Each line's kg in each lot, and its cost (None: no price).
    kg_table = split_table([line_kg[i] for i in line_ids], lot_kg, quantum=MILLI)
    prices = {line_id: price_per_kg(lines[line_id]) for line_id in line_ids}
    run_cost: dict[uuid.UUID, Decimal | None] = {}
    for line_id in line_ids:
        price = prices[line_id]
        run_cost[line_id] = None if price is None else price.cost_of(line_kg[line_id])
    missing = tuple(line_id for line_id in line_ids if run_cost[line_id] is None)
    priced = [line_id for line_id in line_ids if run_cost[line_id] is not None]
    priced_costs = [cost for cost in run_cost.values() if cost is not None]
    priced_total = sum(priced_costs, Decimal(0))
    lot_fruit = split(priced_total, lot_litres)
    cost_table = dict(zip(priced, split_table(priced_costs, lot_fruit), strict=True))

    labor_missing = labor_hours is None
    labor_total = (
        None if labor_hours is None else round_exact(Fraction(labor_hours) * Fraction(labor_rate))
    )
    lot_labor: list[Decimal | None] = (
        [None for _ in lot_range] if labor_total is None else list(split(labor_total, lot_litres))
    )

    lots = []
    for j in lot_range:
        lot_lines = tuple(
            LineCost(
                line_id,
                *line_names[line_id],
                kg_table[i][j],
                cost_table[line_id][j] if line_id in cost_table else None,
            )
            for i, line_id in enumerate(line_ids)
        )
        fruit = None if missing else lot_fruit[j]
        labor = lot_labor[j]
        total = None if fruit is None or labor is None else fruit + labor
        per_litre = (
            None
            if total is None
            else round_exact(Fraction(total) / Fraction(lot_litres[j]), COST_PER_L_QUANTUM)
        )
        lots.append(
            Lot(
                vessel_id=assignments[j].vessel_id,
                litres=lot_litres[j],
                kg=lot_kg[j],
                varieties=tuple(varieties[j]),
                growers=tuple(growers[j]),
                lines=lot_lines,
                priced_fruit_cost=lot_fruit[j],
                fruit_cost=fruit,
                labor_cost=labor,
                total_cost=total,
                cost_per_l=per_litre,
                missing_lines=missing,
                labor_missing=labor_missing,
                batch_cost=BatchCostRow(fruit, labor, total, per_litre),
                cogs_items=(
                    *(_line_row(line) for line in lot_lines),
                    _labor_row(labor, labor_hours, labor_rate),
                ),
            )
        )

    return RunLots(
        lots=tuple(lots),
        juice_l=juice_l,
        kg=run_kg,
        lines=tuple(
            LineCost(line_id, *line_names[line_id], line_kg[line_id], run_cost[line_id])
            for line_id in line_ids
        ),
        priced_fruit_cost=priced_total,
        labor_cost=labor_total,
        missing_lines=missing,
        labor_missing=labor_missing,
    )
