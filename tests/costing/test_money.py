"""Splitting amounts to the quantum: by hand, refused inputs, and properties under Hypothesis."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cidery.costing.money import CENT, MILLI, round_exact, split, split_table

D = Decimal

QUANTA = st.sampled_from([CENT, MILLI, D("0.05"), D(1)])
WEIGHTS = st.lists(
    st.decimals(min_value=0, max_value=1_000_000, places=3, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=12,
)
PROPERTY = settings(max_examples=300, deadline=None)


def units(value: Decimal, quantum: Decimal) -> Fraction:
    return Fraction(value) / Fraction(quantum)


# --- by hand ---------------------------------------------------------------------------


def test_a_cent_left_over_goes_to_the_first_of_equal_weights() -> None:
    assert split(D("100.00"), [D(1), D(1), D(1)]) == [D("33.34"), D("33.33"), D("33.33")]


def test_the_leftover_goes_to_the_largest_remainder() -> None:
    # Exact shares 2.857..., 7.142...: the second has the larger remainder.
    assert split(D("10.00"), [D(2), D(5)], quantum=D(1)) == [D(3), D(7)]
    assert split(D("1.00"), [D(1), D(2), D(3)]) == [D("0.17"), D("0.33"), D("0.50")]


def test_zero_weights_get_nothing_and_parts_keep_the_quantum_s_places() -> None:
    assert split(D("5.00"), [D(0), D(3), D(0)]) == [D("0.00"), D("5.00"), D("0.00")]
    assert [str(part) for part in split(D(0), [D(0), D(0)])] == ["0.00", "0.00"]
    assert split(D("2000.000"), [D(1), D(1)], quantum=MILLI) == [D("1000.000")] * 2
    assert split(D("0.00"), []) == []


def test_a_negative_total_is_split_as_its_opposite() -> None:
    assert split(D("-100.00"), [D(1), D(1), D(1)]) == [D("-33.34"), D("-33.33"), D("-33.33")]


@pytest.mark.parametrize(
    ("total", "weights", "quantum", "message"),
    [
        (D("1.00"), [D(1), D(-1)], CENT, "weight 1 is negative"),
        (D("1.00"), [D(0), D(0)], CENT, "all zero"),
        (D("1.00"), [], CENT, "all zero"),
        (D("1.005"), [D(1)], CENT, "not a multiple of the quantum"),
        (D("0.10"), [D(1)], D("0.03"), "not a multiple of the quantum"),
        (D("NaN"), [D(1)], CENT, "finite"),
        (D("Infinity"), [D(1)], CENT, "finite"),
        (D("1.00"), [D("NaN")], CENT, "finite"),
        (D("1.00"), [D("-Infinity")], CENT, "finite"),
        (D("1.00"), [D(1)], D(0), "quantum must be positive"),
        (D("1.00"), [D(1)], D("-0.01"), "quantum must be positive"),
        (D("1.00"), [D(1)], D("sNaN"), "finite"),
    ],
)
def test_split_refuses(
    total: Decimal, weights: list[Decimal], quantum: Decimal, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        split(total, weights, quantum=quantum)


def test_split_refuses_floats() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        split(1.5, [D(1)])  # type: ignore[arg-type]


def test_round_exact_rounds_half_away_from_zero() -> None:
    assert round_exact(Fraction(1, 200)) == D("0.01")
    assert round_exact(Fraction(-1, 200)) == D("-0.01")
    assert round_exact(Fraction(1, 3), D("0.0001")) == D("0.3333")
    assert round_exact(Fraction(2, 3), D("0.0001")) == D("0.6667")


def test_a_table_keeps_both_margins() -> None:
    table = split_table(
        [D("800.000"), D("666.667"), D("533.333")], [D(1000), D(1000)], quantum=MILLI
    )
    assert table == [
        [D("400.000"), D("400.000")],
        [D("333.334"), D("333.333")],
        [D("266.666"), D("266.667")],
    ]


@pytest.mark.parametrize(
    ("rows", "columns", "message"),
    [
        ([D("1.00")], [D("0.99")], "add up to"),
        ([D("-1.00"), D("2.00")], [D("1.00")], "negative"),
        ([D("1.001")], [D("1.001")], "not a multiple"),
    ],
)
def test_split_table_refuses(rows: list[Decimal], columns: list[Decimal], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_table(rows, columns)


# --- properties ------------------------------------------------------------------------


@st.composite
def splits(draw: st.DrawFn) -> tuple[Decimal, list[Decimal], Decimal]:
    quantum = draw(QUANTA)
    weights = draw(WEIGHTS)
    count = draw(st.integers(0, 10**9)) if any(weights) else 0
    return count * quantum, weights, quantum


@PROPERTY
@given(splits())
def test_split_parts_add_up_in_whole_quanta_near_their_share(
    case: tuple[Decimal, list[Decimal], Decimal],
) -> None:
    total, weights, quantum = case
    parts = split(total, weights, quantum=quantum)
    assert len(parts) == len(weights)
    assert sum(parts, D(0)) == total
    weight_sum = sum((Fraction(w) for w in weights), Fraction(0))
    for part, weight in zip(parts, weights, strict=True):
        assert units(part, quantum).denominator == 1
        assert part.as_tuple().exponent == quantum.as_tuple().exponent
        exact = Fraction(total) * Fraction(weight) / weight_sum if weight_sum else Fraction(0)
        assert abs(Fraction(part) - exact) < Fraction(quantum)
        if weight == 0:
            assert part == 0


@PROPERTY
@given(splits())
def test_split_is_monotone_in_the_weights(case: tuple[Decimal, list[Decimal], Decimal]) -> None:
    total, weights, quantum = case
    parts = split(total, weights, quantum=quantum)
    for i in range(len(weights)):
        for j in range(i + 1, len(weights)):
            if weights[i] > weights[j]:
                assert parts[i] >= parts[j]
            elif weights[i] < weights[j]:
                assert parts[i] <= parts[j]
            else:  # equal weights: the first is never behind, and at most a quantum ahead
                assert D(0) <= parts[i] - parts[j] <= quantum


@PROPERTY
@given(splits())
def test_split_is_symmetric_in_the_sign_of_the_total(
    case: tuple[Decimal, list[Decimal], Decimal],
) -> None:
    total, weights, quantum = case
    assert split(-total, weights, quantum=quantum) == [
        -part for part in split(total, weights, quantum=quantum)
    ]


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[Decimal], list[Decimal], Decimal]:
    quantum = draw(QUANTA)
    rows = draw(st.lists(st.integers(0, 10**7), min_size=1, max_size=8))
    column_weights = draw(st.lists(st.integers(0, 10**4), min_size=1, max_size=6))
    if not any(column_weights):
        column_weights[0] = 1
    grand = sum(rows) * quantum
    columns = split(grand, [D(w) for w in column_weights], quantum=quantum)
    return [row * quantum for row in rows], columns, quantum


@PROPERTY
@given(tables())
def test_a_table_adds_up_both_ways_and_each_cell_is_near_its_share(
    case: tuple[list[Decimal], list[Decimal], Decimal],
) -> None:
    rows, columns, quantum = case
    table = split_table(rows, columns, quantum=quantum)
    grand = sum((Fraction(r) for r in rows), Fraction(0))
    for row, line in zip(rows, table, strict=True):
        assert sum(line, D(0)) == row
    for j, column in enumerate(columns):
        assert sum((line[j] for line in table), D(0)) == column
    for i, line in enumerate(table):
        for j, cell in enumerate(line):
            assert cell >= 0
            assert units(cell, quantum).denominator == 1
            exact = Fraction(rows[i]) * Fraction(columns[j]) / grand if grand else Fraction(0)
            assert abs(Fraction(cell) - exact) <= Fraction(quantum)
