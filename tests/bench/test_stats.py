"""The benchmarks' arithmetic that decides what a measurement means."""

from __future__ import annotations

from collections import Counter

import pytest
from benchmarks.stats import turn_order


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
