"""The price per kilogram of a purchase line.

A line states its price in one of two ways, tried in this order:

1. ``price_per_unit`` in the line's own unit, when that unit is a weight (kg, lb or
   bushel): the price of one unit, over the kilograms of one unit as
   :mod:`cidery.units` defines them (1 lb = 0.45359237 kg; a bushel of apples counts as
   42 lb). It comes first because it is the price the grower quoted, exact in any unit,
   whereas ``quantity_kg`` is the entered quantity rounded to the gram.
2. ``total_cost`` over ``quantity_kg``: what the whole line cost, per kilogram bought.

A line with neither (or with a price per litre or gallon and no ``quantity_kg``) has
no price: :func:`price_per_kg` answers ``None``, never zero. A price of zero is a price
(fruit given, or from the cidery's own trees) and is kept as one.

A price per lb or per bushel is not a whole number of cents per kg, so the price is
kept as the exact pair (amount, kilograms it buys) and the cost of some kilograms is
rounded once, to the cent, half away from zero.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from cidery.costing.money import CENT, round_exact
from cidery.enums import Unit
from cidery.units import exact_canonical, is_weight


class PriceSource(enum.StrEnum):
    PRICE_PER_UNIT = "price_per_unit"
    TOTAL_COST = "total_cost"


@dataclass(frozen=True)
class LineTerms:
    """What a purchase line says of its quantity and price (the columns of purchase_items)."""

    quantity: Decimal
    unit: Unit
    quantity_kg: Decimal | None
    price_per_unit: Decimal | None
    total_cost: Decimal | None


@dataclass(frozen=True)
class KgPrice:
    """A price of fruit: ``amount`` buys ``kg`` kilograms (both exact)."""

    amount: Decimal
    kg: Decimal
    source: PriceSource

    def _ratio(self) -> Fraction:
        return Fraction(self.amount) / Fraction(self.kg)

    def per_kg(self, places: int = 4) -> Decimal:
        """The price of one kilogram, rounded to ``places`` decimals (for showing)."""
        return round_exact(self._ratio(), Decimal(1).scaleb(-places))

    def cost_of(self, kg: Decimal) -> Decimal:
        """What ``kg`` kilograms cost, to the cent."""
        if not kg.is_finite() or kg < 0:
            raise ValueError(f"cannot price {kg} kg")
        return round_exact(self._ratio() * Fraction(kg), CENT)


def _check(value: Decimal | None, what: str) -> None:
    if value is not None and (not value.is_finite() or value < 0):
        raise ValueError(f"the line's {what} must be a non-negative number, not {value}")


def price_per_kg(line: LineTerms) -> KgPrice | None:
    """The line's price per kilogram (see the module for the order tried), or ``None``."""
    _check(line.price_per_unit, "price_per_unit")
    _check(line.total_cost, "total_cost")
    if line.quantity_kg is not None and (not line.quantity_kg.is_finite() or line.quantity_kg <= 0):
        raise ValueError(f"the line's quantity_kg must be positive, not {line.quantity_kg}")
    if line.price_per_unit is not None and is_weight(line.unit):
        return KgPrice(
            line.price_per_unit, exact_canonical(Decimal(1), line.unit), PriceSource.PRICE_PER_UNIT
        )
    if line.total_cost is not None and line.quantity_kg is not None:
        return KgPrice(line.total_cost, line.quantity_kg, PriceSource.TOTAL_COST)
    return None
