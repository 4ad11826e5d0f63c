"""Unit conversions, exact with Decimal, in one place.

Canonical amounts are kilograms for fruit and litres for juice, stored as
numeric(10,3). The factors are exact by definition:

* 1 lb = 0.45359237 kg (international avoirdupois pound, 1959)
* 1 US gal = 3.785411784 L (231 cubic inches)
* 1 bushel of apples = 42 lb = 19.05087954 kg. The bushel is a volume, and the
  weight a bushel of apples counts for varies by state; 42 lb is the USDA
  figure for apples and the common trade convention, so cidery uses it.

Rounding is half away from zero, as PostgreSQL's ``round(numeric)`` does, so
a CHECK constraint that recomputes a canonical amount agrees with Python.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from cidery.enums import Unit

CANONICAL_PLACES = 3
KG_PER_LB = Decimal("0.45359237")
LB_PER_BUSHEL = Decimal(42)
KG_PER_BUSHEL = LB_PER_BUSHEL * KG_PER_LB
L_PER_GALLON = Decimal("3.785411784")

WEIGHT_UNITS = frozenset({Unit.KG, Unit.LB, Unit.BUSHEL})

_FACTORS: dict[Unit, Decimal] = {
    Unit.KG: Decimal(1),
    Unit.LB: KG_PER_LB,
    Unit.BUSHEL: KG_PER_BUSHEL,
    Unit.LITRE: Decimal(1),
    Unit.GALLON: L_PER_GALLON,
}


def quantize(value: Decimal, places: int = CANONICAL_PLACES) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def exact_canonical(value: Decimal, unit: Unit) -> Decimal:
    """The amount in kg (weights) or L (volumes), unrounded."""
    return value * _FACTORS[unit]


def to_canonical(value: Decimal, unit: Unit) -> Decimal:
    """The amount in kg or L, rounded to the stored three decimals."""
    return quantize(exact_canonical(value, unit))


def from_canonical(value: Decimal, unit: Unit, places: int) -> Decimal:
    """A canonical kg or L amount shown in ``unit`` with ``places`` decimals."""
    return quantize(value / _FACTORS[unit], places)


def is_weight(unit: Unit) -> bool:
    return unit in WEIGHT_UNITS
