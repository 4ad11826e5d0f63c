"""Migration impact: apply each pending revision while a writer keeps working.

The database starts at an older revision with data in it (the benchmark
runner downgrades a generated database to ``0001``, which keeps vendors,
purchases and purchase lines at full scale). A writer thread on its own
connection loops over small transactions on the tables the revisions touch —
``UPDATE vendors``, ``UPDATE purchase_items``, ``INSERT INTO purchase_items`` —
one statement per transaction (autocommit), timing each. Meanwhile every
pending revision is applied in turn with :func:`cidery.migrations.runner.upgrade`,
exactly as ``cidery db migrate`` applies it. For each revision the report
gives its duration and the writer statements that overlapped it: how many,
their median and p99, and the longest (the longest stall a writer saw, what it
was doing and when, relative to the revision's start).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import Engine, text

from benchmarks.stats import Progress, latency, now, quiet
from benchmarks.writes import libpq_url
from cidery.migrations import runner


@dataclass(frozen=True)
class ImpactOptions:
    writer_pause_s: float = 0.002  # between the writer's transactions
    baseline_s: float = 2.0  # the writer alone, before the first revision
    settle_s: float = 0.5  # the writer alone, after each revision
    target: str = "head"


@dataclass(frozen=True)
class _Write:
    started: float
    seconds: float
    kind: str


class Writer(threading.Thread):
    """Small write transactions in a loop until :meth:`stop`; every statement timed."""

    def __init__(self, url: str, pause_s: float) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.pause_s = pause_s
        self.writes: list[_Write] = []
        self.errors: dict[str, int] = {}
        self._halt = threading.Event()
        self.ready = threading.Event()
        self.failure: BaseException | None = None

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=60)

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # reported by the caller
            self.failure = exc
            self.ready.set()

    def _loop(self) -> None:
        with psycopg.connect(
            self.url, autocommit=True, application_name="cidery-bench-writer"
        ) as conn:
            vendors = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM vendors WHERE deleted_at IS NULL ORDER BY id LIMIT 500"
                )
            ]
            lines = conn.execute(
                "SELECT id, purchase_id, apple_variety_id FROM purchase_items "
                "WHERE deleted_at IS NULL ORDER BY id LIMIT 2000"
            ).fetchall()
            if not vendors or not lines:
                raise ValueError("the writer needs vendors and purchase lines: generate first")
            i = 0
            self.ready.set()
            while not self._halt.is_set():
                vendor = vendors[i % len(vendors)]
                line = lines[i % len(lines)]
                step = i % 3
                params: tuple[Any, ...]
                if step == 0:
                    kind, sql, params = (
                        "update vendors",
                        "UPDATE vendors SET contact_info = "
                        "jsonb_build_object('benchmark', %s::int) WHERE id = %s",
                        (i, vendor),
                    )
                elif step == 1:
                    kind, sql, params = (
                        "update purchase_items",
                        "UPDATE purchase_items SET notes = %s WHERE id = %s",
                        (f"benchmark write {i}", line[0]),
                    )
                else:
                    kind, sql, params = (
                        "insert purchase_items",
                        "INSERT INTO purchase_items "
                        "(id, purchase_id, apple_variety_id, quantity, unit, quantity_kg) "
                        "VALUES (%s, %s, %s, %s, 'kg', %s)",
                        (uuid.uuid4(), line[1], line[2], Decimal("100"), Decimal("100")),
                    )
                t0 = now()
                try:
                    conn.execute(sql, params)
                except psycopg.Error as exc:
                    name = type(exc).__name__
                    self.errors[name] = self.errors.get(name, 0) + 1
                self.writes.append(_Write(t0, now() - t0, kind))
                i += 1
                if self.pause_s:
                    time.sleep(self.pause_s)


def _overlapping(writes: list[_Write], start: float, end: float) -> list[_Write]:
    return [w for w in writes if w.started < end and w.started + w.seconds > start]


def _summary(writes: list[_Write], start: float) -> dict[str, Any]:
    stats = latency([w.seconds for w in writes])
    worst = max(writes, key=lambda w: w.seconds, default=None)
    return {
        **stats,
        "longest_stall_ms": round(worst.seconds * 1000, 3) if worst else None,
        "longest_stall_statement": worst.kind if worst else None,
        "longest_stall_at_ms": round((worst.started - start) * 1000, 1) if worst else None,
    }


def pending_revisions(engine: Engine, target: str = "head") -> list[str]:
    with engine.connect() as conn:
        current = runner.current_revision(conn)
    order = [s.revision for s in runner.revisions_in_order()]
    start = order.index(current) + 1 if current is not None else 0
    end = len(order) if target == "head" else order.index(target) + 1
    return order[start:end]


def run_impact(
    engine: Engine, options: ImpactOptions | None = None, progress: Progress = quiet
) -> dict[str, Any]:
    """Apply every pending revision up to ``options.target`` under a concurrent writer."""
    options = options or ImpactOptions()
    revisions = pending_revisions(engine, options.target)
    with engine.connect() as conn:
        start_revision = runner.current_revision(conn)
        sizes: dict[str, int] = {
            row.relname: row.n_live_tup
            for row in conn.execute(
                text(
                    "SELECT relname, n_live_tup FROM pg_stat_user_tables "
                    "WHERE relname IN ('vendors', 'purchases', 'purchase_items')"
                )
            )
        }
    writer = Writer(libpq_url(engine), options.writer_pause_s)
    writer.start()
    writer.ready.wait(timeout=60)
    if writer.failure is not None:
        raise writer.failure
    results: list[dict[str, Any]] = []
    try:
        began = now()
        time.sleep(options.baseline_s)
        baseline = _overlapping(writer.writes[:], began, now())
        for revision in revisions:
            t0 = now()
            runner.upgrade(engine, revision)
            t1 = now()
            time.sleep(options.settle_s)
            during = _overlapping(writer.writes[:], t0, t1)
            result: dict[str, Any] = {
                "revision": revision,
                "duration_ms": round((t1 - t0) * 1000, 1),
                "writer": _summary(during, t0),
            }
            results.append(result)
            progress(
                f"migration {revision}: {result['duration_ms']:.0f} ms; writer's longest stall "
                f"{result['writer']['longest_stall_ms']} ms "
                f"({result['writer']['n']} writes during it)"
            )
    finally:
        writer.stop()
    if writer.failure is not None:
        raise writer.failure
    stalls = [r["writer"]["longest_stall_ms"] for r in results if r["writer"]["n"]]
    return {
        "start_revision": start_revision,
        "table_rows": sizes,
        "writer_pause_ms": options.writer_pause_s * 1000,
        "baseline_writer": _summary(baseline, began),
        "revisions": results,
        "worst_stall_ms": max(stalls) if stalls else None,
        "writer_errors": dict(writer.errors),
        "writer_statements": len(writer.writes),
    }
