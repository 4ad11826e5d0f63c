"""Splitting an amount into parts that add up exactly, and rounding an exact ratio once.

Money is :class:`~decimal.Decimal`, never float, kept in cents (numeric(10,2)); kilograms
and litres keep three decimals (numeric(10,3)). An amount shared among several holders is
split by the largest-remainder method: every part is a whole number of quanta (cents, or
thousandths of a kg or L), each part is within one quantum of its exact share, and the
parts add up exactly to the amount. The quanta left over after every part is rounded down
go, one each, to the parts with the largest remainders; equal remainders go to the part
that comes first. The same input always gives the same parts.

Internally the exact shares are fractions (:class:`fractions.Fraction`), so no step rounds
but the last one; every argument and every result is a Decimal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal, Inexact, localcontext
from fractions import Fraction

CENT = Decimal("0.01")
MILLI = Decimal("0.001")


def _exact(value: Decimal, what: str) -> Fraction:
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value}")
    return Fraction(value)


def _quantum(quantum: Decimal) -> Fraction:
    exact = _exact(quantum, "the quantum")
    if exact <= 0:
        raise ValueError(f"the quantum must be positive, not {quantum}")
    return exact


def _units(amount: Decimal, quantum: Decimal, what: str) -> int:
    """``amount`` as a whole number of quanta; ValueError if it is not one."""
    count = _exact(amount, what) / _quantum(quantum)
    if count.denominator != 1:
        raise ValueError(f"{what} {amount} is not a multiple of the quantum {quantum}")
    return count.numerator


def _amount(units: int, quantum: Decimal) -> Decimal:
    """``units`` quanta as a Decimal with the quantum's exponent, computed exactly."""
    with localcontext() as context:
        context.prec = len(str(abs(units))) + len(quantum.as_tuple().digits) + 2
        context.traps[Inexact] = True
        return Decimal(units) * quantum


def _weights(weights: Sequence[Decimal]) -> list[Fraction]:
    exact = [_exact(weight, f"weight {index}") for index, weight in enumerate(weights)]
    for index, weight in enumerate(exact):
        if weight < 0:
            raise ValueError(f"weight {index} is negative ({weights[index]})")
    return exact


def round_exact(value: Fraction, quantum: Decimal = CENT) -> Decimal:
    """An exact ratio rounded to a multiple of ``quantum``, half away from zero.

    Half away from zero is PostgreSQL's ``round(numeric)`` and :mod:`cidery.units`' rule.
    """
    count = value / _quantum(quantum)
    units = math.floor(abs(count) + Fraction(1, 2))
    return _amount(-units if count < 0 else units, quantum)


def _largest_remainder(units: int, weights: Sequence[Fraction]) -> list[int]:
    """``units`` (>= 0) quanta in proportion to ``weights`` (>= 0, not all 0 unless 0 units)."""
    weight_sum = sum(weights, Fraction(0))
    if weight_sum == 0:
        return [0] * len(weights)
    exact = [units * weight / weight_sum for weight in weights]
    parts = [math.floor(share) for share in exact]
    left = units - sum(parts)
    # The remainders add up to ``left`` and each is below 1, so at least ``left`` of them
    # are positive: a zero weight never receives a quantum.
    by_remainder = sorted(range(len(parts)), key=lambda i: (parts[i] - exact[i], i))
    for index in by_remainder[:left]:
        parts[index] += 1
    return parts


def split(total: Decimal, weights: Sequence[Decimal], *, quantum: Decimal = CENT) -> list[Decimal]:
    """``total`` shared in proportion to ``weights``, in whole quanta adding up to ``total``.

    Each part is within one quantum of its exact share ``total * weight / sum(weights)``;
    a larger weight never gets a smaller part, and of two equal weights the first gets
    the quantum a tie leaves over. A zero weight gets zero. A negative total is split as
    its opposite and negated. Refused with ValueError: a negative weight, weights all
    zero (or none) with a total that is not zero, a total that is not a whole number of
    quanta, a quantum that is not positive, NaN or infinity anywhere.
    """
    units = _units(total, quantum, "the total")
    exact = _weights(weights)
    if units != 0 and sum(exact, Fraction(0)) == 0:
        raise ValueError(f"cannot split {total} by weights that are all zero (or none)")
    parts = _largest_remainder(abs(units), exact)
    return [_amount(-part if units < 0 else part, quantum) for part in parts]


def split_table(
    row_totals: Sequence[Decimal],
    column_totals: Sequence[Decimal],
    *,
    quantum: Decimal = CENT,
) -> list[list[Decimal]]:
    """A table whose rows add up to ``row_totals`` and whose columns add up to ``column_totals``.

    Cell (i, j) is within one quantum of its exact share ``row_i * column_j / total``, so
    when the column totals were themselves split by some weights, each row is shared by
    the same weights. Both totals must be non-negative whole numbers of quanta with the
    same sum (ValueError otherwise).

    Every cell is first rounded down; each row then lacks a few quanta (fewer than the
    number of columns), and so does each column. They are placed one by one, row after
    row, each row's in the columns that still lack the most (then the largest remainder,
    then the first column). Placing a row's quanta in the columns that lack the most
    always leaves a placement for the rows after it (the exchange argument of the
    Gale-Ryser theorem); one exists at the start, since the cells' remainders are one.
    """
    rows = [_units(value, quantum, f"row total {i}") for i, value in enumerate(row_totals)]
    columns = [_units(value, quantum, f"column total {j}") for j, value in enumerate(column_totals)]
    if any(value < 0 for value in rows + columns):
        raise ValueError("the row and column totals must not be negative")
    grand = sum(rows)
    if grand != sum(columns):
        raise ValueError(
            f"the rows add up to {_amount(grand, quantum)}, "
            f"the columns to {_amount(sum(columns), quantum)}"
        )
    if grand == 0:
        return [[_amount(0, quantum) for _ in columns] for _ in rows]
    exact = [[Fraction(row * column, grand) for column in columns] for row in rows]
    cells = [[math.floor(share) for share in line] for line in exact]
    column_short = [columns[j] - sum(line[j] for line in cells) for j in range(len(columns))]
    for i, line in enumerate(cells):
        short = rows[i] - sum(line)
        order = sorted(
            (j for j in range(len(columns)) if column_short[j] > 0),
            key=lambda j: (-column_short[j], line[j] - exact[i][j], j),
        )
        if len(order) < short:  # pragma: no cover - excluded by the argument above
            raise AssertionError("no placement left for the table's remainders")
        for j in order[:short]:
            line[j] += 1
            column_short[j] -= 1
    return [[_amount(cell, quantum) for cell in line] for line in cells]
