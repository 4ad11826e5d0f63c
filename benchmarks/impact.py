"""Migration impact: apply each revision while a writer keeps working.

Every revision after ``ImpactOptions.since`` (``0001``) is measured on the
generated database downgraded to the revision just before it, newest first:
``0003`` on the database at ``0002`` (every press run and load still there,
which its backfill reads), then ``0002`` on the database at ``0001`` (which
keeps vendors, purchases and purchase lines at full scale; the press tables
are gone, as they were before ``0002``). A revision is so applied to as much
data as it would meet in production, not to what an older downgrade left.

For each revision, a writer thread on its own connection loops over small
transactions on the tables the revisions touch — ``UPDATE vendors``,
``UPDATE purchase_items``, ``INSERT INTO purchase_items`` — one statement per
transaction (autocommit), timing each; after a baseline of the writer alone,
the revision is applied with :func:`cidery.migrations.runner.upgrade`, exactly
as ``cidery db migrate`` applies it. The report gives its duration and the
writer statements that overlapped it: how many, their median and p99, and the
longest (the longest stall a writer saw, what it was doing and when, relative
to the revision's start).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import Engine, text

from benchmarks.options import ImpactOptions
from benchmarks.results import ImpactResults, RevisionImpact, WriterSummary
from benchmarks.stats import Progress, latency, now, quiet
from benchmarks.writes import libpq_url
from cidery.migrations import runner, scripts

__all__ = ["ImpactOptions", "measured_revisions", "run_impact"]

# The writer's tables, and the press tables whose rows revision 0003 reads.
SIZED_TABLES = ("vendors", "purchases", "purchase_items", "press_runs", "press_run_loads")


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


def _summary(writes: list[_Write], start: float) -> WriterSummary:
    worst = max(writes, key=lambda w: w.seconds, default=None)
    return WriterSummary(
        latency=latency([w.seconds for w in writes]),
        longest_stall_ms=round(worst.seconds * 1000, 3) if worst else None,
        longest_stall_statement=worst.kind if worst else None,
        longest_stall_at_ms=round((worst.started - start) * 1000, 1) if worst else None,
    )


def measured_revisions(engine: Engine, since: str) -> list[str]:
    """The revisions after ``since`` up to the database's current one, oldest first."""
    with engine.connect() as conn:
        current = scripts.current_revision(conn)
    order = [s.revision for s in scripts.revisions_in_order()]
    if current is None or current not in order or since not in order:
        raise ValueError(f"the database is at {current!r}: migrate it past {since} first")
    return order[order.index(since) + 1 : order.index(current) + 1]


def _table_rows(engine: Engine) -> dict[str, int]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # Fresh statistics for the revision's own statements and for the row counts
        # (of this schema's tables: a downgrade may archive a dropped table elsewhere).
        conn.exec_driver_sql("VACUUM ANALYZE")
        return {
            row.relname: row.n_live_tup
            for row in conn.execute(
                text(
                    "SELECT relname, n_live_tup FROM pg_stat_user_tables "
                    "WHERE schemaname = current_schema() AND relname = ANY(:tables) "
                    "ORDER BY relname"
                ),
                {"tables": list(SIZED_TABLES)},
            )
        }


def _apply(
    engine: Engine, revision: str, parent: str, options: ImpactOptions
) -> tuple[RevisionImpact, Writer]:
    """Downgrade to ``parent``, then apply ``revision`` under a concurrent writer."""
    runner.downgrade(engine, parent, allow_data_loss=True)
    sizes = _table_rows(engine)
    writer = Writer(libpq_url(engine), options.writer_pause_s)
    writer.start()
    writer.ready.wait(timeout=60)
    if writer.failure is not None:
        raise writer.failure
    try:
        began = now()
        time.sleep(options.baseline_s)
        baseline = _overlapping(writer.writes[:], began, now())
        t0 = now()
        runner.upgrade(engine, revision)
        t1 = now()
        time.sleep(options.settle_s)
        during = _overlapping(writer.writes[:], t0, t1)
    finally:
        writer.stop()
    if writer.failure is not None:
        raise writer.failure
    impact = RevisionImpact(
        revision=revision,
        duration_ms=round((t1 - t0) * 1000, 1),
        writer=_summary(during, t0),
        from_revision=parent,
        table_rows=sizes,
        baseline_writer=_summary(baseline, began),
    )
    return impact, writer


def run_impact(
    engine: Engine, options: ImpactOptions | None = None, progress: Progress = quiet
) -> ImpactResults:
    """Apply every revision after ``options.since`` under a concurrent writer, each on
    the database downgraded to the revision before it. The database must hold generated
    data; it is left at the revision after ``options.since``."""
    options = options or ImpactOptions()
    revisions = measured_revisions(engine, options.since)
    order = [s.revision for s in scripts.revisions_in_order()]
    measured: list[RevisionImpact] = []
    errors: Counter[str] = Counter()
    statements = 0
    # Newest first: downgrading further only ever drops data an older revision adds.
    for revision in reversed(revisions):
        parent = order[order.index(revision) - 1]
        progress(f"migration {revision}: downgrading to {parent} to apply it")
        result, writer = _apply(engine, revision, parent, options)
        measured.append(result)
        errors.update(writer.errors)
        statements += len(writer.writes)
        progress(
            f"migration {revision}: {result.duration_ms:.0f} ms; writer's longest stall "
            f"{result.writer.longest_stall_ms} ms ({result.writer.latency.n} writes during it)"
        )
    stalls = [
        r.writer.longest_stall_ms
        for r in measured
        if r.writer.latency.n and r.writer.longest_stall_ms is not None
    ]
    return ImpactResults(
        writer_pause_ms=options.writer_pause_s * 1000,
        revisions=tuple(reversed(measured)),
        worst_stall_ms=max(stalls) if stalls else None,
        writer_errors=dict(errors),
        writer_statements=statements,
    )
