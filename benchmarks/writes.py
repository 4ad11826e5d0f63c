"""Write benchmark: ``add_load`` through the service, alone, concurrently and contended,
against the floor of the same statements issued by hand.

Every measured call is one transaction, as an API request would make it: a
session from the engine's pool, ``press.add_load`` (savepoint, run row lock,
purchase-line lock reading the line's ``pressed_kg``, insert with the next
load number — the database's trigger then adds the load to the line's
``pressed_kg`` —, run totals, two audit rows), commit. The latency is the
whole transaction, commit included (a durable commit: ``synchronous_commit``
as the server has it).

The benchmark adds its own fixtures to the generated data and leaves them
there: one operator account and, per operator, a pool of in-progress runs of
an existing active grower and of purchase lines bought from that grower
(9,000 t each, so no load is refused). Each load takes the operator's next
line, and every ten loads the next run, so runs and lines carry a realistic
handful of loads (L has ten per run) rather than hundreds.

* **single operator**: ``iterations`` sequential loads, interleaved with the floor's,
  each call's client CPU read with ``time.process_time`` besides its latency;
* **floor**: the same statements through raw psycopg, one transaction per load
  (lock run ``FOR UPDATE``, lock line ``FOR UPDATE`` and read its
  ``pressed_kg``, insert the load with the next number — the same trigger
  fires —, update the run, two audit inserts with the same JSON, in one
  executemany as the service writes them), single operator;
  ``service_over_floor`` is the ratio of the medians;
* **operators**: 1, 8 and 50 operators, each a thread with its own connection and
  runs, spread over up to ``client_processes`` client processes (each its own
  interpreter and engine, so the figure is PostgreSQL's and the service's, not one
  interpreter lock's), flat out (no think time) for ``duration_s``: throughput,
  p50/p99, errors, client CPU per load; the floor's statements right after each,
  the same way; then the largest crew through the service paced at one load per
  operator every ``pace_s`` seconds;
* **contention**: ``contention_operators`` operators on runs of one grower all
  drawing on the same purchase line, so they queue on its row lock.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.options import WriteOptions
from benchmarks.results import CrewResult, WriteResults
from benchmarks.stats import Progress, latency, now, quiet, ratio, turn_order
from cidery import audit, press
from cidery.db.engine import make_engine
from cidery.models import AppleVariety, PressRun, Purchase, PurchaseItem, User, Vendor
from cidery.models.enums import AuditOperation, Unit, UserRole

__all__ = ["WriteOptions", "floor_load", "prepare", "run_writes", "service_load"]

WEIGHT = Decimal("250")  # kg per load: a bin of apples
LINE_KG = Decimal("9000000")
LINES_PER_OPERATOR = 20
# A run gets about ten loads (the L scale: 1M loads in 100k runs), so the benchmark
# spreads each operator's loads over a pool of runs instead of piling hundreds on one.
LOADS_PER_RUN = 10
RUNS_PER_OPERATOR = 40
JOIN_TIMEOUT = 120.0


@dataclass
class Operator:
    """One operator's in-progress runs and purchase lines; each load takes the next line,
    and every LOADS_PER_RUN loads the next run, as a real operator moves on."""

    runs: list[uuid.UUID]
    lines: list[uuid.UUID]
    done: int = 0

    def next_load(self) -> tuple[uuid.UUID, uuid.UUID]:
        run = self.runs[(self.done // LOADS_PER_RUN) % len(self.runs)]
        line = self.lines[self.done % len(self.lines)]
        self.done += 1
        return run, line


@dataclass
class Stage:
    actor: uuid.UUID
    operators: list[Operator]
    contended: list[Operator] = field(default_factory=list)

    @property
    def operator(self) -> press.Actor:
        """The benchmark's account as the service sees it."""
        return press.Actor(user_id=self.actor, role=UserRole.OPERATOR)


def prepare(engine: Engine, operators: int, contended: int) -> Stage:
    """An operator account, ``operators`` runs with their own lines, and ``contended`` runs
    of one grower sharing one line."""
    with Session(engine) as session, session.begin():
        tag = uuid.uuid4().hex[:10]
        actor = session.execute(
            insert(User)
            .values(
                email=f"bench-{tag}@cidery.example",
                name=f"Benchmark operator {tag}",
                password_hash="x",
                role=UserRole.OPERATOR,
            )
            .returning(User.id)
        ).scalar_one()
        vendors = list(
            session.scalars(
                select(Vendor.id)
                .where(Vendor.is_active, Vendor.deleted_at.is_(None))
                .order_by(Vendor.id)
            )
        )
        variety = session.scalars(
            select(AppleVariety.id).where(AppleVariety.deleted_at.is_(None)).limit(1)
        ).first()
        if not vendors or variety is None:
            raise ValueError("the database has no active grower or no variety: generate first")

        def lines(vendor_id: uuid.UUID, count: int) -> list[uuid.UUID]:
            purchase = session.execute(
                insert(Purchase)
                .values(vendor_id=vendor_id, purchase_date=text("current_date"))
                .returning(Purchase.id)
            ).scalar_one()
            return list(
                session.execute(
                    insert(PurchaseItem).returning(PurchaseItem.id),
                    [
                        {
                            "purchase_id": purchase,
                            "apple_variety_id": variety,
                            "quantity": LINE_KG,
                            "unit": Unit.KG,
                            "quantity_kg": LINE_KG,
                        }
                        for _ in range(count)
                    ],
                ).scalars()
            )

        def runs(vendor_id: uuid.UUID) -> list[uuid.UUID]:
            # Fixtures, inserted in bulk: not through start_run (no audit rows needed).
            return list(
                session.execute(
                    insert(PressRun).returning(PressRun.id),
                    [
                        {"vendor_id": vendor_id, "created_by": actor, "updated_by": actor}
                        for _ in range(RUNS_PER_OPERATOR)
                    ],
                ).scalars()
            )

        stage = Stage(actor, [])
        for i in range(operators):
            vendor = vendors[i % len(vendors)]
            stage.operators.append(Operator(runs(vendor), lines(vendor, LINES_PER_OPERATOR)))
        if contended:
            shared = lines(vendors[0], 1)
            for _ in range(contended):
                stage.contended.append(Operator(runs(vendors[0]), shared))
    return stage


# --- through the service ----------------------------------------------------------------


def service_load(factory: sessionmaker[Session], actor: press.Actor, operator: Operator) -> None:
    """One API request: a session, ``add_load`` with the load as the request carries
    it (validated inside the call), commit."""
    with factory() as session, session.begin():
        run_id, line_id = operator.next_load()
        press.add_load(
            session,
            actor,
            run_id,
            {"purchase_item_id": line_id, "weight": WEIGHT, "weight_unit": "kg"},
        )


def _interleaved(
    calls: list[Callable[[], None]], iterations: int, warmup: int
) -> tuple[list[list[float]], list[list[float]]]:
    """Each call ``iterations`` times, taking turns (:func:`turn_order`); their
    latencies and the client CPU each used (this process's ``time.process_time``:
    nothing else runs in it then), call by call."""
    for _ in range(warmup):
        for call in calls:
            call()
    samples: list[list[float]] = [[] for _ in calls]
    cpu: list[list[float]] = [[] for _ in calls]
    for turn in range(iterations):
        for k in turn_order(turn, len(calls)):
            c0 = time.process_time()
            t0 = now()
            calls[k]()
            samples[k].append(now() - t0)
            cpu[k].append(time.process_time() - c0)
    return samples, cpu


# A worker: set up inside its own thread (its connection), it yields the call to repeat.
Worker = Callable[[int], AbstractContextManager[Callable[[], None]]]


def service_worker(engine: Engine, actor: press.Actor, operators: list[Operator]) -> Worker:
    factory = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def worker(i: int) -> Iterator[Callable[[], None]]:
        with engine.connect():
            pass  # a pooled connection is open before the start signal
        yield lambda: service_load(factory, actor, operators[i])

    return worker


def floor_worker(url: str, actor: uuid.UUID, operators: list[Operator]) -> Worker:
    @contextmanager
    def worker(i: int) -> Iterator[Callable[[], None]]:
        with psycopg.connect(url, row_factory=dict_row) as conn:
            yield lambda: floor_load(conn, actor, operators[i])

    return worker


@dataclass
class _Threads:
    """What one process's operator threads did."""

    samples: list[float]
    errors: Counter[str]
    cpu_s: float  # the process's CPU time from the start signal to the last call's end


def _threads(
    worker: Worker,
    operators: int,
    duration_s: float,
    pace_s: float | None,
    ready: Callable[[], None],
    spread: Callable[[int], float],
) -> _Threads:
    """``operators`` threads, each with its own connection, adding loads for
    ``duration_s`` once every thread is connected and warmed up (one untimed load) and
    ``ready`` has returned (the other
    processes are connected too): flat out, or one every ``pace_s`` seconds (on
    schedule: a late call starts the next at once), operator ``i`` starting
    ``spread(i)`` of an interval late. A failed call is counted by exception type,
    not timed."""
    connected = threading.Barrier(operators + 1)
    go = threading.Event()
    samples: list[list[float]] = [[] for _ in range(operators)]
    errors: list[Counter[str]] = [Counter() for _ in range(operators)]
    window = [0.0, 0.0]  # start, end: set once every worker is connected
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with worker(i) as call:
                # One untimed load first: a new process compiles every statement and
                # builds its validators on first use, tens of milliseconds that would
                # otherwise be the p99 of a paced run's few hundred samples.
                call()
                connected.wait(timeout=JOIN_TIMEOUT)
                go.wait(timeout=JOIN_TIMEOUT)
                _loop(i, call)
        except threading.BrokenBarrierError:
            pass  # another worker failed to connect: reported by the main thread
        except BaseException as exc:
            failures.append(exc)
            connected.abort()

    def _loop(i: int, call: Callable[[], None]) -> None:
        start, end = window
        # Paced operators start spread over one interval, as people do.
        due = start + (pace_s * spread(i) if pace_s else 0.0)
        while True:
            if pace_s:
                wait = due - now()
                if wait > 0:
                    time.sleep(wait)
                due += pace_s
            if now() >= end:
                break
            t0 = now()
            try:
                call()
            except Exception as exc:  # counted, never fatal: the run goes on
                errors[i][type(exc).__name__] += 1
            else:
                samples[i].append(now() - t0)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(operators)]
    for thread in threads:
        thread.start()
    try:
        connected.wait(timeout=JOIN_TIMEOUT)
        ready()
    except threading.BrokenBarrierError:
        connected.abort()
        go.set()
        for thread in threads:
            thread.join(timeout=JOIN_TIMEOUT)
        if failures:
            raise failures[0] from None
        raise
    cpu = time.process_time()
    started = now()
    window[:] = [started, started + duration_s]
    go.set()
    for thread in threads:
        thread.join(timeout=duration_s + JOIN_TIMEOUT)
    if failures:
        raise failures[0]
    all_errors: Counter[str] = Counter()
    for per_thread in errors:
        all_errors.update(per_thread)
    return _Threads(
        samples=[s for per in samples for s in per],
        errors=all_errors,
        cpu_s=time.process_time() - cpu,
    )


# --- client processes ----------------------------------------------------------------------
# One Python process cannot drive 50 operators: its threads share one interpreter lock,
# so beyond a few operators the client, not PostgreSQL or the service, sets the pace.
# The crews therefore run in several processes, each with its own engine (or psycopg
# connections, for the floor) and its own operators, all started together.


@dataclass(frozen=True)
class _Client:
    """One client process: its operators (threads) and what they run."""

    number: int  # its place among the crew's processes
    floor: bool  # the hand-written statements instead of the service
    url: str  # SQLAlchemy's form; the floor connects with the libpq form of it
    actor: uuid.UUID
    operators: list[Operator]
    # Each operator's place in the whole crew, and the crew's size: paced starts are
    # spread over the whole crew, not over each process's share.
    places: list[int]
    crew: int
    duration_s: float
    pace_s: float | None


@dataclass
class _Outcome:
    number: int
    samples: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    cpu_s: float = 0.0
    # Loads each operator has taken (the parent's copies move on by as many).
    done: list[int] = field(default_factory=list)
    failure: str | None = None


def _client(client: _Client, started: Any, outcomes: Any) -> None:
    """A client process: connect, wait for every other process at ``started`` (a
    multiprocessing barrier), run, and put its :class:`_Outcome` on ``outcomes``."""
    try:
        engine = None
        operators = client.operators
        if client.floor:
            worker = floor_worker(libpq_url_of(client.url), client.actor, operators)
        else:
            engine = make_engine(
                client.url,
                pool_size=len(operators),
                max_overflow=0,
                pool_timeout=JOIN_TIMEOUT,
            )
            actor = press.Actor(user_id=client.actor, role=UserRole.OPERATOR)
            worker = service_worker(engine, actor, operators)
        try:
            measured = _threads(
                worker,
                len(operators),
                client.duration_s,
                client.pace_s,
                ready=lambda: started.wait(timeout=JOIN_TIMEOUT),
                spread=lambda i: client.places[i] / client.crew,
            )
        finally:
            if engine is not None:
                engine.dispose()
        outcomes.put(
            _Outcome(
                number=client.number,
                samples=measured.samples,
                errors=dict(measured.errors),
                cpu_s=measured.cpu_s,
                done=[op.done for op in operators],
            )
        )
    except BaseException as exc:
        started.abort()
        outcomes.put(_Outcome(number=client.number, failure=f"{type(exc).__name__}: {exc}"))


def _context() -> multiprocessing.context.BaseContext:
    """Fresh interpreters, never forked from this one (its threads, pools and
    sockets must not be copied): forkserver where there is one, with this module
    imported once in the server rather than in every process; spawn elsewhere."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def concurrent(
    url: str,
    actor: uuid.UUID,
    operators: list[Operator],
    duration_s: float,
    *,
    floor: bool = False,
    pace_s: float | None = None,
    processes: int = 1,
) -> CrewResult:
    """``operators`` adding loads for ``duration_s`` from up to ``processes`` client
    processes, each with its own connections: through the service at ``url``, or the
    floor's statements. See :func:`_threads` for pacing and errors; the operators'
    positions move on by the loads they took."""
    count = min(processes, len(operators))
    clients = [
        _Client(
            number=p,
            floor=floor,
            url=url,
            actor=actor,
            operators=operators[p::count],
            places=list(range(len(operators)))[p::count],
            crew=len(operators),
            duration_s=duration_s,
            pace_s=pace_s,
        )
        for p in range(count)
    ]
    context = _context()
    started = context.Barrier(count + 1)
    outcomes = context.Queue()
    children = [
        context.Process(target=_client, args=(client, started, outcomes), daemon=True)  # type: ignore[attr-defined]
        for client in clients
    ]
    for child in children:
        child.start()
    try:
        broken = False
        try:
            started.wait(timeout=JOIN_TIMEOUT + 60)
        except threading.BrokenBarrierError:
            broken = True
        began = now()
        results = [outcomes.get(timeout=duration_s + 2 * JOIN_TIMEOUT) for _ in clients]
        elapsed = now() - began
    finally:
        for child in children:
            child.join(timeout=JOIN_TIMEOUT)
            if child.is_alive():
                child.kill()
    failed = [r.failure for r in results if r.failure is not None]
    if failed or broken:
        raise RuntimeError(f"a client process failed: {failed[0] if failed else 'no reason given'}")
    # The queue holds the outcomes in the order the processes finished.
    for result in results:
        for op, done in zip(clients[result.number].operators, result.done, strict=True):
            op.done = done
    all_samples = [s for r in results for s in r.samples]
    all_errors: Counter[str] = Counter()
    for r in results:
        all_errors.update(r.errors)
    cpu_s = sum(r.cpu_s for r in results)
    return CrewResult(
        operators=len(operators),
        pace_s=pace_s,
        duration_s=round(elapsed, 3),
        loads=len(all_samples),
        throughput_per_s=round(len(all_samples) / elapsed, 1) if elapsed > 0 else None,
        latency=latency(all_samples),
        errors=sum(all_errors.values()),
        errors_by_type=dict(all_errors),
        processes=count,
        client_cpu_ms_per_load=round(cpu_s * 1000 / len(all_samples), 3) if all_samples else None,
    )


# --- the floor: the same statements by hand -------------------------------------------
# What add_load sends, written as SQL: the line's remaining fruit is read from its row
# (pressed_kg), and the insert fires the same trigger that adds the load to it. The
# benchmark never computes what was pressed itself: that figure is the database's.

_LOCK_RUN = "SELECT * FROM press_runs WHERE id = %s AND deleted_at IS NULL FOR UPDATE"
_LOCK_LINE = (
    "SELECT pi.id, pi.apple_variety_id, pi.quantity_kg, pi.pressed_kg, p.vendor_id "
    "FROM purchase_items pi JOIN purchases p ON p.id = pi.purchase_id "
    "WHERE pi.id = %s AND pi.deleted_at IS NULL AND p.deleted_at IS NULL "
    "FOR UPDATE OF pi"
)
_INSERT_LOAD = (
    "INSERT INTO press_run_loads (press_run_id, purchase_item_id, apple_variety_id, "
    "load_sequence, weight, weight_unit, weight_kg, created_by, updated_by) "
    "VALUES (%(run)s, %(line)s, %(variety)s, "
    "(SELECT coalesce(max(load_sequence), 0) + 1 FROM press_run_loads "
    "WHERE press_run_id = %(run)s), %(weight)s, 'kg', %(weight)s, %(actor)s, %(actor)s) "
    "RETURNING *"
)
_UPDATE_RUN = (
    "UPDATE press_runs SET total_apple_weight_kg = total_apple_weight_kg + %(kg)s, "
    "updated_by = %(actor)s WHERE id = %(run)s RETURNING *"
)
_AUDIT = (
    "INSERT INTO audit_logs (table_name, record_id, operation, old_data, new_data, diff, "
    "reason, changed_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


def _jsonb(value: dict[str, Any] | None) -> Jsonb | None:
    return None if value is None else Jsonb(value)


def _audit_row(entry: dict[str, Any]) -> tuple[Any, ...]:
    """An entry of :func:`cidery.audit.entry` as the parameters of :data:`_AUDIT`."""
    return (
        entry["table_name"],
        entry["record_id"],
        AuditOperation(entry["operation"]).value,
        _jsonb(entry["old_data"]),
        _jsonb(entry["new_data"]),
        _jsonb(entry["diff"]),
        entry["reason"],
        entry["changed_by"],
    )


def floor_load(conn: psycopg.Connection[dict[str, Any]], actor: uuid.UUID, op: Operator) -> None:
    """``add_load``'s statements by hand, in one transaction; the same checks, in Python."""
    run_id, line_id = op.next_load()
    with conn.transaction():
        run = conn.execute(_LOCK_RUN, (run_id,)).fetchone()
        if run is None or run["status"] != "in_progress":
            raise ValueError("run not open")
        line = conn.execute(_LOCK_LINE, (line_id,)).fetchone()
        if line is None or line["vendor_id"] != run["vendor_id"]:
            raise ValueError("line not found or of another grower")
        if line["quantity_kg"] - line["pressed_kg"] < WEIGHT:
            raise ValueError("not enough fruit")
        values = {
            "run": run_id,
            "line": line_id,
            "variety": line["apple_variety_id"],
            "weight": WEIGHT,
            "kg": WEIGHT,
            "actor": actor,
        }
        load = conn.execute(_INSERT_LOAD, values).fetchone()
        updated = conn.execute(_UPDATE_RUN, values).fetchone()
        assert load is not None
        assert updated is not None
        entries = [
            audit.entry(
                table="press_run_loads",
                record_id=load["id"],
                operation=AuditOperation.INSERT,
                actor=actor,
                new=load,
            ),
            audit.entry(
                table="press_runs",
                record_id=run_id,
                operation=AuditOperation.UPDATE,
                actor=actor,
                old=run,
                new=updated,
            ),
        ]
        # Both audit rows in one executemany (pipelined: one round trip), as the service does.
        with conn.cursor() as cur:
            cur.executemany(_AUDIT, [_audit_row(entry) for entry in entries])


def libpq_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def libpq_url_of(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# --- all of it ------------------------------------------------------------------------------


def run_writes(
    url: str, options: WriteOptions | None = None, progress: Progress = quiet
) -> WriteResults:
    """Every write scenario on the database at ``url`` (which must hold generated data)."""
    options = options or WriteOptions()
    most = max(options.operator_counts)
    # The crews connect from their own processes: this engine serves the single operator.
    engine = make_engine(url, pool_size=2, max_overflow=0, pool_timeout=JOIN_TIMEOUT)
    try:
        # Two operators more than the largest count: the single-operator and floor runs.
        stage = prepare(engine, most + 2, options.contention_operators)
        single_op, floor_op, *crew = stage.operators
        factory = sessionmaker(engine, expire_on_commit=False)
        actor = stage.operator

        # Interleaved, one service load then one floor load: both see the same machine.
        with psycopg.connect(libpq_url(engine), row_factory=dict_row) as conn:
            (single_samples, floor_samples), (single_cpu, floor_cpu) = _interleaved(
                [
                    lambda: service_load(factory, actor, single_op),
                    lambda: floor_load(conn, stage.actor, floor_op),
                ],
                options.iterations,
                options.warmup,
            )
        single, floor = latency(single_samples), latency(floor_samples)
        over_floor = ratio(single.median_ms, floor.median_ms)
        cpu, floor_cpu_used = latency(single_cpu), latency(floor_cpu)
        progress(
            f"write single operator: median {single.median_ms:.2f} ms, p99 {single.p99_ms:.2f} ms, "
            f"client CPU median {cpu.median_ms:.2f} ms"
        )
        progress(
            f"write floor (raw psycopg): median {floor.median_ms:.2f} ms, client CPU median "
            f"{floor_cpu_used.median_ms:.2f} ms; service/floor {over_floor}"
        )
        # Every crew connects anew: the single operator's connections are not kept.
        engine.dispose()

        def report(label: str, measured: CrewResult) -> None:
            progress(
                f"write {label}: {measured.throughput_per_s} loads/s, "
                f"p50 {measured.latency.median_ms:.2f} ms, p99 {measured.latency.p99_ms:.2f} ms, "
                f"{measured.errors} errors, {measured.processes} processes, "
                f"client CPU {measured.client_cpu_ms_per_load} ms per load"
            )

        def crew_run(operators: list[Operator], **how: Any) -> CrewResult:
            return concurrent(
                url,
                stage.actor,
                operators,
                options.duration_s,
                processes=options.client_processes,
                **how,
            )

        crews = []
        floor_crews = []
        for count in options.operator_counts:
            measured = crew_run(crew[:count])
            crews.append(measured)
            report(f"{count} operators", measured)
            # The floor right after, on the same operators' runs and lines.
            measured = crew_run(crew[:count], floor=True)
            floor_crews.append(measured)
            report(f"{count} operators, floor", measured)
        paced = None
        if options.pace_s:
            paced = crew_run(crew[:most], pace_s=options.pace_s)
            report(f"{most} operators, one load each per {options.pace_s:g} s", paced)
        contention = None
        if stage.contended:
            contention = crew_run(stage.contended)
            report(f"{len(stage.contended)} operators on one purchase line", contention)
        return WriteResults(
            single=single,
            floor=floor,
            service_over_floor=over_floor,
            service_over_floor_p99=ratio(single.p99_ms, floor.p99_ms),
            operators=tuple(crews),
            floor_operators=floor_crews[-1] if floor_crews else None,
            paced=paced,
            contention=contention,
            single_cpu=cpu,
            floor_cpu=floor_cpu_used,
            floor_crews=tuple(floor_crews),
        )
    finally:
        engine.dispose()
