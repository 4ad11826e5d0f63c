"""The benchmarks' arithmetic that decides what a measurement means."""

from __future__ import annotations

from collections import Counter

import pytest
from benchmarks.stats import median_ratio_interval, turn_order


@pytest.mark.parametrize("count", [1, 2, 3])
def test_calls_taking_turns_each_go_first_as_often(count: int) -> None:
    turns = [turn_order(turn, count) for turn in range(6 * count)]
    # Every turn runs each call once.
    assert all(sorted(order) == list(range(count)) for order in turns)
    firsts = Counter(order[0] for order in turns)
    assert firsts == dict.fromkeys(range(count), 6)
    # A service call and its floor: first in turn.
    if count == 2:
        assert turns[:2] == [[0, 1], [1, 0]]


def test_the_ratio_interval_holds_one_for_alike_samples_and_not_for_a_real_gap() -> None:
    # Alike: the same skewed latencies on both sides, in another order.
    base = [0.2 + 0.01 * (i % 17) + (0.3 if i % 23 == 0 else 0.0) for i in range(400)]
    alike = median_ratio_interval(base, base[::-1])
    assert alike is not None
    assert alike[0] < 1 < alike[1]
    # Twice as slow in every turn: the interval sits around 2, far from 1.
    doubled = median_ratio_interval([2 * value for value in base], base)
    assert doubled is not None
    assert 1.9 < doubled[0] <= 2 <= doubled[1] < 2.1
    # Seeded: the same samples, the same interval.
    assert median_ratio_interval(base, base[::-1]) == alike


def test_the_ratio_interval_needs_two_pairs() -> None:
    assert median_ratio_interval([1.0], [1.0]) is None
    assert median_ratio_interval([], []) is None
