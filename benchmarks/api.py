"""API benchmark: the pressing screen's calls over HTTP, against the served app and against
a minimal ASGI endpoint calling the same service functions.

The app is served as in production, by uvicorn in a process of its own (1 worker,
then 2) on a free port of localhost, with its request log on; beside it the
minimal app (:class:`benchmarks.api_server.MinimalApp`: no framework, no
authentication, no idempotency, no log) over a pool made the same way, by the
same uvicorn. Both are started together and measured taking turns, point by
point, so that drift on the machine hits both alike.

Each operator has an account with an API token, a grower of their own with three
purchase lines (9,000 t each, so no load is refused) and forty in-progress runs;
they loop over the pressing screen: ``GET /api/v1/press-runs/{id}``,
``GET /api/v1/available-fruit?vendor_id=``, ``POST /api/v1/press-runs/{id}/loads``
(250 kg, a fresh ``Idempotency-Key`` each), ten loads a run before the next run.
Both apps get the same requests (the minimal app ignores the token and the key).
The operators are threads, each with a keep-alive connection (``http.client``),
spread over up to ``client_processes`` client processes (fresh interpreters), and
run either *paced* (one loop per operator every ``pace_s`` seconds, their starts
spread over the first interval) or flat out, for ``duration_s`` per point after
one untimed loop each. A request's latency is from sending it to having read
the whole answer: end to end, the client's share included.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import multiprocessing
import multiprocessing.context
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import Engine, insert, select, text

from benchmarks import api_server
from benchmarks.options import ApiOptions
from benchmarks.results import ApiPoint, ApiResults, EndpointResult
from benchmarks.stats import Progress, latency, now, quiet
from benchmarks.writes import LOADS_PER_RUN, Operator, Worker, _threads
from cidery import accounts
from cidery.db.engine import make_engine, transaction
from cidery.models import AppleVariety, PressRun, Purchase, PurchaseItem, User, Vendor
from cidery.models.enums import Unit, UserRole

__all__ = ["ENDPOINTS", "Seat", "prepare", "run_api", "serving"]

ENDPOINTS = ("get_run", "available_fruit", "add_load")
APPS = ("full", "minimal")
LINE_KG = Decimal("9000000")
LINES_PER_SEAT = 3
RUNS_PER_SEAT = 40
JOIN_TIMEOUT = 120.0
START_TIMEOUT = 60.0
ROOT = Path(__file__).resolve().parent.parent  # the repository: benchmarks is not installed


@dataclass
class Seat:
    """One operator at the press: their token, their grower, and where they are."""

    token: str
    vendor_id: uuid.UUID
    position: Operator


def prepare(engine: Engine, operators: int) -> tuple[uuid.UUID, list[Seat]]:
    """``operators`` operator accounts, each with an API token, a grower, three lines and
    forty in-progress runs; returns the first account (the minimal app acts for it) and
    the seats. The database must hold a variety (generated data)."""
    tag = uuid.uuid4().hex[:8]
    with transaction(engine) as session:
        variety = session.scalars(
            select(AppleVariety.id).where(AppleVariety.deleted_at.is_(None)).limit(1)
        ).first()
        if variety is None:
            raise ValueError("the database has no variety: generate first")
        seats = []
        seats_users = []
        for i in range(operators):
            email = f"bench-api-{tag}-{i}@cidery.example"
            name = f"Press operator {i + 1}"
            # Inserted directly: nobody signs in with a password, and hashing fifty takes
            # seconds.
            user = session.execute(
                insert(User)
                .values(email=email, name=name, password_hash="x", role=UserRole.OPERATOR)
                .returning(User.id)
            ).scalar_one()
            seats_users.append(user)
            principal = accounts.Principal(user, UserRole.OPERATOR, email, name)
            token = accounts.tokens.create(session, principal, {"name": "benchmark"}).token
            vendor = session.execute(
                insert(Vendor).values(name=f"Benchmark grower {tag} {i + 1}").returning(Vendor.id)
            ).scalar_one()
            purchase = session.execute(
                insert(Purchase)
                .values(vendor_id=vendor, purchase_date=text("current_date"))
                .returning(Purchase.id)
            ).scalar_one()
            lines = session.execute(
                insert(PurchaseItem).returning(PurchaseItem.id),
                [
                    {
                        "purchase_id": purchase,
                        "apple_variety_id": variety,
                        "quantity": LINE_KG,
                        "unit": Unit.KG,
                        "quantity_kg": LINE_KG,
                    }
                    for _ in range(LINES_PER_SEAT)
                ],
            ).scalars()
            runs = session.execute(
                insert(PressRun).returning(PressRun.id),
                [
                    {"vendor_id": vendor, "created_by": user, "updated_by": user}
                    for _ in range(RUNS_PER_SEAT)
                ],
            ).scalars()
            seats.append(Seat(token, vendor, Operator(list(runs), list(lines))))
    return seats_users[0], seats


# --- the servers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def describe_server() -> str:
    """What serves both apps: uvicorn, its HTTP parser and event loop."""
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"uvicorn {uvicorn.__version__} ({parser}, {loop})"


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextmanager
def serving(
    app: str, url: str, actor: uuid.UUID, workers: int, pool_size: int, log: Path
) -> Iterator[int]:
    """``app`` ("full" or "minimal") served by uvicorn with ``workers`` workers on a free
    port of localhost until the block ends; yields the port. Its output goes to ``log``."""
    port = free_port()
    path = os.environ.get("PYTHONPATH")
    env = {
        **os.environ,
        api_server.ENV_URL: url,
        api_server.ENV_ACTOR: str(actor),
        api_server.ENV_POOL: str(pool_size),
        "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""),
    }
    # Served as `cidery serve` serves (its listening socket for several workers).
    command = [
        sys.executable, "-c",
        "import sys; from cidery.cli.serve import run_server; "
        "run_server(sys.argv[1], '127.0.0.1', int(sys.argv[2]), int(sys.argv[3]),"
        " log_level='warning')",
        f"benchmarks.api_server:{app}", str(port), str(workers),
    ]  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = now() + START_TIMEOUT
        while not _answers(port):
            if server.poll() is not None or now() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"uvicorn serving the {app} app did not start:\n{tail}")
            time.sleep(0.1)
        if workers > 1:
            time.sleep(1.0)  # the first worker answered: give the others their second
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the clients -----------------------------------------------------------------------------


class ScreenFailed(Exception):
    """A call of the loop got no answer, or not the one expected (counted by endpoint)."""


@dataclass
class _Record:
    """One operator's requests: timed per endpoint once the untimed first loop is done."""

    samples: dict[str, list[float]] = field(default_factory=lambda: {e: [] for e in ENDPOINTS})
    errors: dict[str, Counter[str]] = field(
        default_factory=lambda: {e: Counter() for e in ENDPOINTS}
    )
    loops: int = 0


def screen(conn: http.client.HTTPConnection, seat: Seat, record: _Record) -> None:
    """The pressing screen once: the run, the grower's fruit, a new load."""
    record.loops += 1
    timed = record.loops > 1
    run_id, line_id = seat.position.next_load()
    load = json.dumps({"purchase_item_id": str(line_id), "weight": "250", "weight_unit": "kg"})
    auth = {"Authorization": f"Bearer {seat.token}"}
    calls = (
        ("get_run", "GET", f"/api/v1/press-runs/{run_id}", None, auth, 200),
        ("available_fruit", "GET", f"/api/v1/available-fruit?vendor_id={seat.vendor_id}",
         None, auth, 200),
        ("add_load", "POST", f"/api/v1/press-runs/{run_id}/loads", load,
         {**auth, "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
         201),
    )  # fmt: skip
    for endpoint, method, path, body, headers, expected in calls:
        t0 = now()
        try:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            said = answer.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()  # the next request connects again
            if timed:
                record.errors[endpoint][type(exc).__name__] += 1
            raise ScreenFailed(f"{endpoint}: {exc!r}") from exc
        elapsed = now() - t0
        if answer.status != expected:
            if timed:
                record.errors[endpoint][f"status {answer.status}"] += 1
            raise ScreenFailed(f"{endpoint}: {answer.status} {said[:300]!r}")
        if timed:
            record.samples[endpoint].append(elapsed)


def seat_worker(port: int, seats: list[Seat], records: list[_Record]) -> Worker:
    @contextmanager
    def worker(i: int) -> Iterator[Callable[[], None]]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=JOIN_TIMEOUT)
        try:
            yield lambda: screen(conn, seats[i], records[i])
        finally:
            conn.close()

    return worker


@dataclass(frozen=True)
class _Client:
    number: int
    port: int
    seats: list[Seat]
    places: list[int]  # each seat's place in the whole crew, for spreading paced starts
    crew: int
    duration_s: float
    pace_s: float | None


@dataclass
class _Outcome:
    number: int
    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, dict[str, int]] = field(default_factory=dict)
    screens: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    done: list[int] = field(default_factory=list)
    failure: str | None = None


def _client(client: _Client, started: Any, outcomes: Any) -> None:
    """A client process: connect every operator, wait for the other processes at
    ``started``, run, and put an :class:`_Outcome` on ``outcomes``."""
    try:
        records = [_Record() for _ in client.seats]
        measured = _threads(
            seat_worker(client.port, client.seats, records),
            len(client.seats),
            client.duration_s,
            client.pace_s,
            ready=lambda: started.wait(timeout=JOIN_TIMEOUT),
            spread=lambda i: client.places[i] / client.crew,
        )
        outcomes.put(
            _Outcome(
                number=client.number,
                samples={e: [s for r in records for s in r.samples[e]] for e in ENDPOINTS},
                errors={
                    e: dict(sum((r.errors[e] for r in records), Counter[str]())) for e in ENDPOINTS
                },
                screens=measured.samples,
                cpu_s=measured.cpu_s,
                done=[seat.position.done for seat in client.seats],
            )
        )
    except BaseException as exc:
        started.abort()
        outcomes.put(_Outcome(number=client.number, failure=f"{type(exc).__name__}: {exc}"))


def _context() -> multiprocessing.context.BaseContext:
    """Fresh interpreters (forkserver with this module preloaded, else spawn), never
    copies of this one with its threads and connections."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def measure(
    app: str,
    workers: int,
    port: int,
    seats: list[Seat],
    duration_s: float,
    pace_s: float | None,
    processes: int,
) -> ApiPoint:
    """The seats looping against the server on ``port`` for ``duration_s``; their
    positions move on by the loads they added."""
    count = min(processes, len(seats))
    clients = [
        _Client(
            number=p,
            port=port,
            seats=seats[p::count],
            places=list(range(len(seats)))[p::count],
            crew=len(seats),
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
        results: list[_Outcome] = [
            outcomes.get(timeout=duration_s + 2 * JOIN_TIMEOUT) for _ in clients
        ]
        elapsed = now() - began
    finally:
        for child in children:
            child.join(timeout=JOIN_TIMEOUT)
            if child.is_alive():
                child.kill()
    failed = [r.failure for r in results if r.failure is not None]
    if failed or broken:
        raise RuntimeError(f"a client process failed: {failed[0] if failed else 'no reason given'}")
    for result in results:
        for seat, done in zip(clients[result.number].seats, result.done, strict=True):
            seat.position.done = done
    endpoints = []
    for endpoint in ENDPOINTS:
        samples = [s for r in results for s in r.samples[endpoint]]
        errors: Counter[str] = Counter()
        for r in results:
            errors.update(r.errors[endpoint])
        endpoints.append(
            EndpointResult(
                endpoint=endpoint,
                requests=len(samples),
                throughput_per_s=round(len(samples) / elapsed, 1) if elapsed > 0 else None,
                latency=latency(samples),
                errors=sum(errors.values()),
                errors_by_type=dict(errors),
            )
        )
    screens = [s for r in results for s in r.screens]
    cpu_s = sum(r.cpu_s for r in results)
    return ApiPoint(
        app=app,
        workers=workers,
        operators=len(seats),
        pace_s=pace_s,
        duration_s=round(elapsed, 3),
        processes=count,
        screens=len(screens),
        screen=latency(screens),
        endpoints=tuple(endpoints),
        client_cpu_ms_per_screen=round(cpu_s * 1000 / len(screens), 3) if screens else None,
    )


def describe(point: ApiPoint) -> str:
    mode = f"one loop / {point.pace_s:g} s" if point.pace_s else "flat out"
    parts = []
    for e in point.endpoints:
        parts.append(
            f"{e.endpoint} {e.throughput_per_s}/s p50 {e.latency.median_ms} p99 "
            f"{e.latency.p99_ms} ms" + (f" ({e.errors} errors)" if e.errors else "")
        )
    return (
        f"api {point.app}, {point.workers} worker{'s' if point.workers > 1 else ''}, "
        f"{point.operators} operators, {mode}: " + "; ".join(parts)
    )


def run_api(url: str, options: ApiOptions | None = None, progress: Progress = quiet) -> ApiResults:
    """Every point of ``options`` on the database at ``url`` (which must hold generated
    data): the full app and the minimal one, at each worker count, pace and crew."""
    options = options or ApiOptions()
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        actor, seats = prepare(engine, max(options.operator_counts))
    finally:
        engine.dispose()
    progress(f"api: {len(seats)} operators ready, {LOADS_PER_RUN} loads a run")
    points = []
    with tempfile.TemporaryDirectory(prefix="cidery-bench-api-") as logs:
        for workers in options.workers:
            with (
                serving(
                    "full", url, actor, workers, options.pool_size, Path(logs) / f"full-{workers}"
                ) as full_port,
                serving(
                    "minimal", url, actor, workers, options.pool_size,
                    Path(logs) / f"minimal-{workers}",
                ) as minimal_port,
            ):  # fmt: skip
                ports = {"full": full_port, "minimal": minimal_port}
                for pace_s in options.paces:
                    for count in options.operator_counts:
                        for app in APPS:
                            point = measure(
                                app,
                                workers,
                                ports[app],
                                seats[:count],
                                options.duration_s,
                                pace_s,
                                options.client_processes,
                            )
                            points.append(point)
                            progress(describe(point))
    return ApiResults(server=describe_server(), pool_size=options.pool_size, points=tuple(points))
