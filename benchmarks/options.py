"""What a benchmark run measures: the options of each benchmark and the run's plan.

Kept apart from the benchmarks themselves so that the results
(:mod:`benchmarks.results`), which record the plan they were measured with,
and the benchmarks, which return results, do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.generate import DEFAULT_SEED


@dataclass(frozen=True)
class ReadOptions:
    iterations: int = 200
    warmup: int = 5
    explained: int = 5  # argument sets whose plan is read
    # Per entry, with the indexes: the whole-table summaries take hundreds of ms per call
    # at L, so timing stops once this is spent, after at least min_iterations calls.
    budget_s: float = 5.0
    min_iterations: int = 10
    pk_only_iterations: int = 50
    # Per pattern: without its index a pattern can take seconds per call at L, so it
    # runs until this budget is spent (at least once; the first call is dropped as a
    # warm-up when three or more were made).
    pk_only_budget_s: float = 4.0
    seed: int = 7
    # A service read and its raw SQL, taking turns: the ratio of two medians about 0.2 ms
    # apart wants more calls than a pattern's median does (200 left its 95% interval
    # about 0.1x wide).
    service_iterations: int = 1000
    # Comparing our indexes with the original app's: turns between two swaps of the
    # copies the two connections read (a connection can be the slower one for a minute).
    swap_every: int = 20


@dataclass(frozen=True)
class WriteOptions:
    iterations: int = 500  # single operator, and again for the floor
    warmup: int = 20
    operator_counts: tuple[int, ...] = (1, 8, 50)
    duration_s: float = 10.0  # per operator count, and for the contention run
    # The crews' operators are spread over up to this many client processes, so that
    # no one interpreter's lock sets the pace (a few per core).
    client_processes: int = 8
    contention_operators: int = 10
    # The largest crew again, each operator adding one load every pace_s seconds
    # (0: skipped) instead of flat out.
    pace_s: float = 1.0


@dataclass(frozen=True)
class ImpactOptions:
    writer_pause_s: float = 0.002  # between the writer's transactions
    baseline_s: float = 2.0  # the writer alone, before each revision
    settle_s: float = 0.5  # the writer alone, after each revision
    # Every revision after this one is measured, each applied to the database
    # downgraded to the revision before it.
    since: str = "0001"


@dataclass(frozen=True)
class ApiOptions:
    """The HTTP API benchmark (:mod:`benchmarks.api`)."""

    operator_counts: tuple[int, ...] = (1, 10, 50)
    # uvicorn worker processes serving each app.
    workers: tuple[int, ...] = (1, 2)
    # One loop of the three calls per operator every pace_s seconds; None: flat out.
    paces: tuple[float | None, ...] = (1.0, None)
    duration_s: float = 15.0  # per point
    # The operators are spread over up to this many client processes.
    client_processes: int = 4
    # Each worker's pool, for both apps (as many again of overflow, as create_app has it).
    pool_size: int = 10


@dataclass(frozen=True)
class StartupOptions:
    """The command line's start-up (:mod:`benchmarks.startup`)."""

    runs: int = 15  # timed runs of each command
    warmup: int = 2  # untimed runs first: they fill the bytecode cache


@dataclass(frozen=True)
class Plan:
    """What a run measures, and where."""

    scales: tuple[str, ...] = ("S", "M", "L")
    write_scales: tuple[str, ...] = ("S", "L")
    impact_scale: str | None = "L"
    reads: ReadOptions = field(default_factory=ReadOptions)
    writes: WriteOptions = field(default_factory=WriteOptions)
    impact: ImpactOptions = field(default_factory=ImpactOptions)
    seed: int = DEFAULT_SEED
    # None: no API benchmark (it runs in a database of its own, after the scales).
    api: ApiOptions | None = field(default_factory=ApiOptions)
    # None: the command line's start-up is not measured.
    startup: StartupOptions | None = field(default_factory=StartupOptions)


FULL = Plan()
QUICK = Plan(
    scales=("S",),
    write_scales=("S",),
    impact_scale="S",
    reads=ReadOptions(
        iterations=50, service_iterations=200, pk_only_iterations=10, pk_only_budget_s=1.0
    ),
    writes=WriteOptions(iterations=100, warmup=5, duration_s=1.0),
    impact=ImpactOptions(baseline_s=0.5, settle_s=0.2),
    api=ApiOptions(workers=(1,), duration_s=4.0),
    startup=StartupOptions(runs=5, warmup=1),
)
