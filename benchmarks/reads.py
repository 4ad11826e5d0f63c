"""Read benchmark: every press-run query pattern, with its indexes and with primary keys only.

Each pattern of :data:`cidery.press.queries.PATTERNS` (and the service's
:func:`cidery.press.service.available_fruit`, which wraps pattern ``fruit``)
is executed ``iterations`` times with arguments sampled from the data — runs
that have loads, the vendors of those runs and a month around their start,
vessels that received juice, the lines of one purchase — and timed as the
application runs it: ``connection.execute(select).all()`` (SQLAlchemy's cached
compilation, the round trip over the socket, the rows converted), after a
short warm-up. Its plan is read with ``EXPLAIN (FORMAT JSON)`` for the first
few argument sets.

Then the same statements run in one transaction in which every secondary index
of ``press_runs`` and ``press_run_loads`` has been dropped, leaving only their
primary keys; the transaction is rolled back, so the indexes come back
untouched (``DROP INDEX`` takes an exclusive lock on the table for that time:
a benchmark database only). The ratio is the primary-key-only median over the
indexed median.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from psycopg.errors import QueryCanceled
from sqlalchemy import Connection, Engine, Select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from benchmarks.stats import Progress, describe_plan, latency, now, quiet, ratio
from cidery.press import service
from cidery.press.queries import PATTERNS, Pattern

# Arguments a pattern receives beyond its builder's required ones, by pattern key
# (as in tests/press/test_query_plans.py).
# ``fruit`` is "purchase lines with fruit left for one vendor".
EXTRA_ARGUMENTS: dict[str, tuple[str, ...]] = {"a-vendor": ("vendor_id",), "fruit": ("vendor_id",)}
SERVICE_FRUIT = "fruit-service"
PRESS_TABLES = ("press_runs", "press_run_loads")
# A month around a sampled run's start: the date range of pattern (c).
WINDOW = timedelta(days=15)


@dataclass(frozen=True)
class ReadOptions:
    iterations: int = 200
    warmup: int = 5
    explained: int = 5  # argument sets whose plan is read
    pk_only_iterations: int = 50
    # Per pattern: without its index a pattern can take seconds per call at L, so it
    # runs until this budget is spent (at least once; the first call is dropped as a
    # warm-up when three or more were made).
    pk_only_budget_s: float = 4.0
    seed: int = 7


@dataclass
class _Entry:
    key: str
    description: str
    index: str
    statements: list[Select[Any]]
    # Executes argument set i on a connection; returns the number of rows.
    call: Callable[[Connection, int], int]


def sample_cases(conn: Connection, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` argument sets drawn from the data (repeating when it has fewer rows)."""
    salt = str(seed)
    runs = conn.execute(
        text(
            "SELECT r.id, r.vendor_id, r.start_time FROM press_runs r "
            "WHERE r.deleted_at IS NULL "
            "AND EXISTS (SELECT 1 FROM press_run_loads l WHERE l.press_run_id = r.id) "
            "ORDER BY md5(r.id::text || :salt) LIMIT :n"
        ),
        {"salt": salt, "n": count},
    ).all()
    vessels = conn.execute(
        text(
            "SELECT v.id FROM vessels v WHERE EXISTS "
            "(SELECT 1 FROM press_runs r WHERE r.vessel_id = v.id AND r.deleted_at IS NULL) "
            "ORDER BY md5(v.id::text || :salt) LIMIT :n"
        ),
        {"salt": salt, "n": count},
    ).all()
    # The lines of one purchase invoice, as the purchase screen asks for them.
    purchases = conn.execute(
        text(
            "SELECT purchase_id, array_agg(id ORDER BY id) AS ids FROM purchase_items "
            "WHERE deleted_at IS NULL AND quantity_kg IS NOT NULL GROUP BY purchase_id "
            "ORDER BY md5(purchase_id::text || :salt) LIMIT :n"
        ),
        {"salt": salt, "n": count},
    ).all()
    if not runs or not vessels or not purchases:
        raise ValueError(
            "the database has no press runs with loads, vessels used or purchase lines: "
            "generate data first"
        )
    cases = []
    for i in range(count):
        run = runs[i % len(runs)]
        cases.append(
            {
                "run_id": run.id,
                "vendor_id": run.vendor_id,
                "since": run.start_time - WINDOW,
                "until": run.start_time + WINDOW,
                "vessel_id": vessels[i % len(vessels)].id,
                "purchase_item_ids": list(purchases[i % len(purchases)].ids),
            }
        )
    return cases


def arguments(pattern: Pattern, case: dict[str, Any]) -> dict[str, Any]:
    """The arguments of ``pattern``'s builder, looked up by parameter name in ``case``."""
    parameters = inspect.signature(pattern.build).parameters
    names = [name for name, p in parameters.items() if p.default is inspect.Parameter.empty]
    names += EXTRA_ARGUMENTS.get(pattern.key, ())
    unknown = [name for name in names if name not in case]
    if unknown:
        raise ValueError(
            f"pattern {pattern.key}: no sample values for {unknown} (add them in sample_cases)"
        )
    return {name: case[name] for name in names}


def _entries(cases: list[dict[str, Any]]) -> list[_Entry]:
    entries = []
    for pattern in PATTERNS:
        statements = [pattern.build(**arguments(pattern, case)) for case in cases]

        def call(conn: Connection, i: int, statements: list[Select[Any]] = statements) -> int:
            return len(conn.execute(statements[i]).all())

        entries.append(_Entry(pattern.key, pattern.description, pattern.index, statements, call))
    fruit = next(p for p in PATTERNS if p.key == "fruit")

    def call_service(conn: Connection, i: int) -> int:
        with Session(bind=conn) as session:
            return len(service.available_fruit(session, vendor_id=cases[i]["vendor_id"]))

    entries.append(
        _Entry(
            SERVICE_FRUIT,
            "service.available_fruit for one vendor (pattern fruit + API types)",
            fruit.index,
            [fruit.build(**arguments(fruit, case)) for case in cases],
            call_service,
        )
    )
    return entries


def _explain(conn: Connection, statement: Select[Any]) -> Any:
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    return conn.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
    ).scalar_one()


def _plan(conn: Connection, entry: _Entry, count: int) -> dict[str, Any]:
    """The plan most of the first ``count`` argument sets get, and how many others were seen."""
    plans = [
        describe_plan(_explain(conn, statement), entry.index)
        for statement in entry.statements[: max(count, 1)]
    ]
    summaries = Counter(plan["summary"] for plan in plans)
    common, _ = summaries.most_common(1)[0]
    plan = next(p for p in plans if p["summary"] == common)
    plan["other_plans"] = [s for s in summaries if s != common]
    return plan


def _time(conn: Connection, entry: _Entry, iterations: int, warmup: int) -> tuple[list[float], int]:
    cases = len(entry.statements)
    for i in range(min(warmup, cases)):
        entry.call(conn, i)
    samples: list[float] = []
    rows = 0
    for i in range(iterations):
        t0 = now()
        rows += entry.call(conn, i % cases)
        samples.append(now() - t0)
    return samples, rows


def _time_within(
    conn: Connection, entry: _Entry, iterations: int, budget_s: float
) -> tuple[list[float], bool]:
    """Up to ``iterations`` calls while ``budget_s`` lasts; the first is a warm-up when
    three or more were made. A call is cancelled after ``budget_s`` (``statement_timeout``,
    inside a savepoint, so the caller's transaction goes on): then the samples so far
    are returned with ``True``."""
    cases = len(entry.statements)
    samples: list[float] = []
    timed_out = False
    savepoint = conn.begin_nested()
    conn.execute(text(f"SET LOCAL statement_timeout = {max(int(budget_s * 1000), 1)}"))
    started = now()
    try:
        for i in range(iterations + 1):
            t0 = now()
            entry.call(conn, i % cases)
            samples.append(now() - t0)
            if now() - started > budget_s:
                break
    except OperationalError as exc:
        if not isinstance(exc.orig, QueryCanceled):
            raise
        timed_out = True
    savepoint.rollback()  # also undoes the SET LOCAL
    return (samples[1:] if len(samples) >= 3 else samples), timed_out


def _drop_secondary_indexes(conn: Connection) -> list[str]:
    """Drop every index of the press tables but the primary keys (inside the caller's
    transaction); returns their names."""
    rows = conn.execute(
        text(
            "SELECT i.indexrelid::regclass::text AS name, i.indrelid::regclass::text AS tab, "
            "k.conname FROM pg_index i "
            "LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.contype IN ('u', 'x') "
            "WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) AND NOT i.indisprimary "
            "ORDER BY 1"
        ),
        {"tables": list(PRESS_TABLES)},
    ).all()
    for row in rows:
        if row.conname is not None:
            conn.execute(text(f'ALTER TABLE {row.tab} DROP CONSTRAINT "{row.conname}"'))
        else:
            conn.execute(text(f"DROP INDEX {row.name}"))
    return [row.name for row in rows]


def run_reads(
    engine: Engine, options: ReadOptions | None = None, progress: Progress = quiet
) -> dict[str, Any]:
    """Time every pattern with its indexes, then with primary keys only."""
    options = options or ReadOptions()
    results: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        cases = sample_cases(conn, options.iterations, options.seed)
        entries = _entries(cases)
        conn.rollback()
        for entry in entries:
            samples, rows = _time(conn, entry, options.iterations, options.warmup)
            results[entry.key] = {
                "key": entry.key,
                "description": entry.description,
                "expected_index": entry.index,
                **latency(samples),
                "rows_mean": round(rows / len(samples), 2),
                "plan": _plan(conn, entry, options.explained),
            }
            conn.rollback()
            progress(
                f"read {entry.key}: median {results[entry.key]['median_ms']:.3f} ms, "
                f"p95 {results[entry.key]['p95_ms']:.3f} ms"
            )
        with conn.begin() as transaction:
            dropped = _drop_secondary_indexes(conn)
            for entry in entries:
                if entry.key == SERVICE_FRUIT:
                    # The same SQL as pattern fruit: measured once.
                    results[entry.key].update(
                        pk_only=None, ratio_pk_only=None, ratio_pk_only_is_lower_bound=False
                    )
                    continue
                iterations = min(options.iterations, options.pk_only_iterations)
                samples, timed_out = _time_within(conn, entry, iterations, options.pk_only_budget_s)
                result = results[entry.key]
                result["pk_only"] = {
                    **latency(samples),
                    # No call finished within the budget: the ratio is at least budget/median.
                    "timed_out_ms": round(options.pk_only_budget_s * 1000) if timed_out else None,
                    "plan": _plan(conn, entry, 1),
                }
                pk_median = result["pk_only"]["median_ms"]
                if pk_median is None:
                    result["ratio_pk_only"] = ratio(
                        options.pk_only_budget_s * 1000, result["median_ms"]
                    )
                    said = f"no call finished within {options.pk_only_budget_s:g} s"
                else:
                    result["ratio_pk_only"] = ratio(pk_median, result["median_ms"])
                    said = f"median {pk_median:.3f} ms"
                result["ratio_pk_only_is_lower_bound"] = pk_median is None
                progress(
                    f"read {entry.key} (primary keys only): {said}, "
                    f"{result['ratio_pk_only']}x the indexed median"
                )
            transaction.rollback()
    return {
        "iterations": options.iterations,
        "pk_only_dropped_indexes": dropped,
        "patterns": list(results.values()),
    }
