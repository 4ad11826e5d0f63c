"""A purchase line's price per kg: its precedence, its units, and no price as None."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cidery.costing.prices import KgPrice, LineTerms, PriceSource, price_per_kg
from cidery.enums import Unit
from cidery.units import KG_PER_BUSHEL, KG_PER_LB

D = Decimal


def terms(
    unit: Unit = Unit.KG,
    *,
    quantity: str = "1000",
    quantity_kg: str | None = "1000",
    price_per_unit: str | None = None,
    total_cost: str | None = None,
) -> LineTerms:
    return LineTerms(
        quantity=D(quantity),
        unit=unit,
        quantity_kg=None if quantity_kg is None else D(quantity_kg),
        price_per_unit=None if price_per_unit is None else D(price_per_unit),
        total_cost=None if total_cost is None else D(total_cost),
    )


def test_a_price_per_kg_is_taken_as_it_is() -> None:
    price = price_per_kg(terms(price_per_unit="0.8000"))
    assert price == KgPrice(D("0.8000"), D(1), PriceSource.PRICE_PER_UNIT)
    assert price.cost_of(D("1000.000")) == D("800.00")


def test_a_price_per_lb_uses_the_pound_of_units() -> None:
    price = price_per_kg(terms(Unit.LB, quantity="2204.623", price_per_unit="0.5000"))
    assert price is not None
    assert price.kg == KG_PER_LB
    assert price.per_kg() == D("1.1023")
    # 1200 kg is 2645.547... lb: 1322.7735... dollars, rounded once.
    assert price.cost_of(D("1200.000")) == D("1322.77")


def test_a_price_per_bushel_counts_a_bushel_as_42_lb() -> None:
    price = price_per_kg(terms(Unit.BUSHEL, quantity="100", price_per_unit="21.0000"))
    assert price is not None
    assert price.kg == KG_PER_BUSHEL
    assert price.per_kg() == D("1.1023")
    assert price.cost_of(D("1905.088")) == D("2100.00")  # 100 bushels, to the gram


def test_the_price_per_unit_comes_before_the_total_cost() -> None:
    price = price_per_kg(terms(price_per_unit="0.8000", total_cost="900.00"))
    assert price is not None
    assert price.source is PriceSource.PRICE_PER_UNIT


def test_without_a_price_per_unit_the_total_is_shared_by_the_kg_bought() -> None:
    price = price_per_kg(terms(quantity_kg="1500.000", total_cost="900.00"))
    assert price == KgPrice(D("900.00"), D("1500.000"), PriceSource.TOTAL_COST)
    assert price.per_kg() == D("0.6000")
    assert price.cost_of(D("800.000")) == D("480.00")


def test_a_price_per_litre_is_not_a_price_per_kg() -> None:
    line = terms(Unit.LITRE, quantity="500", quantity_kg=None, price_per_unit="2.0000")
    assert price_per_kg(line) is None
    with_kg = terms(
        Unit.LITRE, quantity_kg="520.000", price_per_unit="2.0000", total_cost="1000.00"
    )
    assert price_per_kg(with_kg) == KgPrice(D("1000.00"), D("520.000"), PriceSource.TOTAL_COST)


def test_a_line_without_a_price_has_none_and_a_zero_price_is_a_price() -> None:
    assert price_per_kg(terms()) is None
    assert price_per_kg(terms(quantity_kg=None, total_cost="900.00", unit=Unit.GALLON)) is None
    free = price_per_kg(terms(price_per_unit="0"))
    assert free is not None
    assert free.cost_of(D("250.000")) == D("0.00")
    assert price_per_kg(terms(total_cost="0.00")) is not None


@pytest.mark.parametrize(
    "line",
    [
        terms(price_per_unit="-0.10"),
        terms(total_cost="-1.00"),
        terms(price_per_unit="NaN"),
        terms(quantity_kg="0", total_cost="10.00"),
    ],
)
def test_impossible_terms_are_refused(line: LineTerms) -> None:
    with pytest.raises(ValueError, match="line's"):
        price_per_kg(line)


def test_a_negative_weight_cannot_be_priced() -> None:
    price = price_per_kg(terms(price_per_unit="1.0000"))
    assert price is not None
    with pytest.raises(ValueError, match="cannot price"):
        price.cost_of(D("-1"))
