"""What the benchmarks share: latency summaries, a clock, plan summaries."""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from benchmarks.results import Latency, PlanSummary

Progress = Callable[[str], None]


def quiet(_message: str) -> None:
    """A progress callback that says nothing."""


def now() -> float:
    return time.perf_counter()


def turn_order(turn: int, count: int) -> list[int]:
    """Which of ``count`` measured calls goes first on ``turn``, and which next: each
    goes first as often as the others. Of two statements sent one after the other, the
    second runs measurably faster (about 0.04 ms of a 0.4 ms read: caches the first
    warmed, on the client and in the server), so a fixed order would charge that to
    whichever is always first."""
    return [(turn + k) % count for k in range(count)]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency(seconds: Sequence[float]) -> Latency:
    """Milliseconds: count, median, p95, p99, mean and max of the samples (in seconds)."""
    if not seconds:
        return Latency(n=0)
    ms = [s * 1000 for s in seconds]
    return Latency(
        n=len(ms),
        median_ms=round(percentile(ms, 50), 4),
        p95_ms=round(percentile(ms, 95), 4),
        p99_ms=round(percentile(ms, 99), 4),
        mean_ms=round(sum(ms) / len(ms), 4),
        max_ms=round(max(ms), 4),
    )


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return round(numerator / denominator, 3)


def median_ratio_interval(
    numerators: Sequence[float],
    denominators: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float] | None:
    """The bootstrap interval of ``median(numerators) / median(denominators)`` at
    ``confidence``, the samples paired by position (taken in the same turn); ``None``
    with fewer than two pairs. Seeded: the same samples give the same interval.

    Turns are resampled in runs of consecutive ones (a moving-block bootstrap, blocks of
    about the square root of the count): drift on the machine lasts longer than a turn,
    and resampling turns one by one would take its spells for independent luck and
    draw the interval too narrow."""
    count = min(len(numerators), len(denominators))
    if count < 2:
        return None
    block = max(1, math.isqrt(count))
    starts = range(count - block + 1)
    rng = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        picked = [i for start in rng.choices(starts, k=-(-count // block))
                  for i in range(start, start + block)][:count]  # fmt: skip
        below = statistics.median([denominators[i] for i in picked])
        if below > 0:
            ratios.append(statistics.median([numerators[i] for i in picked]) / below)
    if not ratios:
        return None
    tail = (1 - confidence) / 2 * 100
    return round(percentile(ratios, tail), 3), round(percentile(ratios, 100 - tail), 3)


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of an ``EXPLAIN (FORMAT JSON)`` plan, depth first."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def describe_plan(explained: Any, expected_index: str | None = None) -> PlanSummary:
    """Node types, index names and a one-line summary of an EXPLAIN (FORMAT JSON) result."""
    root = explained[0]["Plan"] if isinstance(explained, list) else explained["Plan"]
    nodes = list(plan_nodes(root))
    indexes: list[str] = []
    for node in nodes:
        name = node.get("Index Name")
        if name and name not in indexes:
            indexes.append(name)
    parts = []
    for node in nodes:
        part = node["Node Type"]
        if "Index Name" in node:
            part += f" using {node['Index Name']}"
        elif "Relation Name" in node:
            part += f" on {node['Relation Name']}"
        parts.append(part)
    seq_scans = sorted({node["Relation Name"] for node in nodes if node["Node Type"] == "Seq Scan"})
    return PlanSummary(
        summary=" → ".join(parts),
        node_types=tuple(node["Node Type"] for node in nodes),
        indexes=tuple(indexes),
        seq_scans=tuple(seq_scans),
        total_cost=root.get("Total Cost"),
        uses_expected_index=expected_index in indexes if expected_index else None,
    )
