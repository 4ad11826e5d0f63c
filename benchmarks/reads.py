"""Read benchmark: every press-run query pattern, with its indexes and with primary keys only.

Each pattern of :data:`cidery.press.queries.PATTERNS` is built as the service
builds it (``pattern.build(**fixed, **arguments)``, the arguments looked up by
the names in ``pattern.arguments``) and executed with its bind parameters
bound from the same sample values (``run_id``, ``item_id``...). Two service
calls are measured beside them, as the API makes them: ``press.available_fruit``
for one grower (pattern ``fruit-vendor`` plus input validation and the API
types) and ``press.get_run`` (patterns ``run`` and ``run-loads``, the loads with
their variety's name, plus the running totals).

Every entry runs ``iterations`` times with arguments sampled from the data —
runs that have loads, their grower, a month around their start and the page
after them, purchase lines and their variety — timed as the application runs
it: ``connection.execute(statement, parameters).all()`` (SQLAlchemy's cached
compilation, the round trip over the socket, the rows converted), after a
short warm-up. Its plan is read with ``EXPLAIN (FORMAT JSON)`` for the first
few argument sets.

Then the patterns run again in one transaction in which every secondary index
of the tables the patterns' indexes belong to (and of the press tables) has
been dropped, leaving only their primary keys; the transaction is rolled back,
so the indexes come back untouched (``DROP INDEX`` takes an exclusive lock on
the table for that time: a benchmark database only). The ratio is the
primary-key-only median over the indexed median.

Last, the press tables are copied twice into schemas of their own, row for row in the
same order: one copy with our indexes, the other with the primary keys and the original
TypeScript app's (:data:`THEIR_INDEXES`). Every pattern runs on both, the two taking
turns call by call on two connections whose search paths put one copy or the other
first, swapping copies every few turns; ``ratio_theirs`` is their median over ours,
so a ratio below 1 names a statement that our indexes serve worse, and
``ratio_theirs_interval`` is its 95% bootstrap interval. The other tables are the same
for both, with our indexes: the original app's differ only on the press tables.

Each service read is also timed against the very SQL it sends (recorded by the
cursors of the psycopg connection for every argument set, then replayed through
psycopg on the same connection: ``fruit-raw``, ``run-raw``), so ``ratio_over_raw``
is what the service adds to the round trips: its session, validation, the rows
turned into the API types, and the execution path of its statements (these reads
go through psycopg itself, :mod:`cidery.db.compiled`). The two take turns, call by
call, so that drift on the machine hits both alike, inside one transaction on that
connection, which the service's session joins: the service sends its statements
and nothing else, as the raw replay does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Self

import psycopg
from psycopg.errors import QueryCanceled
from sqlalchemy import Connection, Engine, Select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from benchmarks.options import ReadOptions
from benchmarks.results import (
    OtherIndexesResult,
    PatternResult,
    PkOnlyResult,
    PlanSummary,
    ReadResults,
)
from benchmarks.stats import (
    Progress,
    describe_plan,
    latency,
    median_ratio_interval,
    now,
    quiet,
    ratio,
    turn_order,
)
from cidery import press
from cidery.models.enums import UserRole
from cidery.press.queries import PATTERNS, Pattern

__all__ = [
    "RAW_FRUIT",
    "RAW_RUN",
    "SERVICE_FRUIT",
    "SERVICE_RUN",
    "THEIR_INDEXES",
    "ReadOptions",
    "run_reads",
    "sample_cases",
]

SERVICE_FRUIT = "fruit-service"
SERVICE_RUN = "run-service"
RAW_FRUIT = "fruit-raw"
RAW_RUN = "run-raw"
# The original TypeScript app's indexes of the two press tables, as its schema
# declared them (it had both a unique and a plain index on a run's load numbers).
# Named apart from ours so that the report cannot mistake one for the other.
THEIR_INDEXES = (
    "CREATE INDEX theirs_press_runs_vendor_id ON press_runs (vendor_id)",
    "CREATE INDEX theirs_press_runs_status ON press_runs (status)",
    "CREATE INDEX theirs_press_runs_start_time ON press_runs (start_time)",
    "CREATE INDEX theirs_press_runs_vendor_id_status ON press_runs (vendor_id, status)",
    "CREATE INDEX theirs_press_runs_created_by ON press_runs (created_by)",
    "CREATE INDEX theirs_press_runs_updated_by ON press_runs (updated_by)",
    "CREATE INDEX theirs_press_run_loads_press_run_id ON press_run_loads (press_run_id)",
    "CREATE INDEX theirs_press_run_loads_purchase_item_id ON press_run_loads (purchase_item_id)",
    "CREATE INDEX theirs_press_run_loads_apple_variety_id ON press_run_loads (apple_variety_id)",
    "CREATE UNIQUE INDEX theirs_press_run_loads_run_sequence_key "
    "ON press_run_loads (press_run_id, load_sequence)",
    "CREATE INDEX theirs_press_run_loads_run_sequence "
    "ON press_run_loads (press_run_id, load_sequence)",
    "CREATE INDEX theirs_press_run_loads_created_by ON press_run_loads (created_by)",
    "CREATE INDEX theirs_press_run_loads_updated_by ON press_run_loads (updated_by)",
)
# Where the comparison with the original app's indexes copies the press tables to.
OURS_SCHEMA = "bench_ours"
THEIRS_SCHEMA = "bench_theirs"
# Always stripped to their primary keys; the tables of the indexes the patterns
# declare are added to these.
PRESS_TABLES = ("press_runs", "press_run_loads")
# A month around a sampled run's start: the date range of pattern runs-since.
WINDOW = timedelta(days=15)


@dataclass(frozen=True)
class _Statement:
    """One argument set of a pattern: the statement built for it and its bind values."""

    select: Select[Any]
    parameters: dict[str, Any]


@dataclass(frozen=True)
class _Entry:
    key: str
    description: str
    index: str | None
    # Per argument set; empty for a service call (its statements are the patterns').
    statements: list[_Statement]
    # Executes argument set i on a connection; returns the number of rows.
    call: Callable[[Connection, int], int]
    wraps: tuple[str, ...] = ()


def sample_cases(conn: Connection, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` sets of sample values drawn from the data (repeating when it has fewer
    rows), by the names the patterns' arguments and bind parameters use."""
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
    # Lines a load could draw on: live, of a live purchase, bought by weight.
    lines = conn.execute(
        text(
            "SELECT i.id, i.apple_variety_id FROM purchase_items i "
            "JOIN purchases p ON p.id = i.purchase_id "
            "WHERE i.deleted_at IS NULL AND p.deleted_at IS NULL AND i.quantity_kg IS NOT NULL "
            "ORDER BY md5(i.id::text || :salt) LIMIT :n"
        ),
        {"salt": salt, "n": count},
    ).all()
    if not runs or not lines:
        raise ValueError(
            "the database has no press runs with loads or no purchase lines: generate data first"
        )
    cases = []
    for i in range(count):
        run = runs[i % len(runs)]
        line = lines[i % len(lines)]
        cases.append(
            {
                "run_id": run.id,
                "vendor_id": run.vendor_id,
                "since": run.start_time - WINDOW,
                "until": run.start_time + WINDOW,
                # The page of the run list that follows this run.
                "after": (run.start_time, run.id),
                "item_id": line.id,
                "variety_id": line.apple_variety_id,
            }
        )
    return cases


def _lookup(pattern: Pattern, names: list[str], case: Mapping[str, Any], what: str) -> None:
    unknown = [name for name in names if name not in case]
    if unknown:
        raise ValueError(
            f"pattern {pattern.key}: no sample values for its {what} {unknown} "
            "(add them in sample_cases)"
        )


def bind_names(select: Select[Any]) -> list[str]:
    """The bind parameters a statement must be executed with (those without a value)."""
    compiled = select.compile()
    return [name for name, bind in compiled.binds.items() if bind.required]


def statement(pattern: Pattern, case: Mapping[str, Any]) -> _Statement:
    """``pattern`` built with the sample values its ``arguments`` name, and the values of
    its bind parameters."""
    _lookup(pattern, list(pattern.arguments), case, "arguments")
    select = pattern.build(**pattern.fixed, **{name: case[name] for name in pattern.arguments})
    names = bind_names(select)
    _lookup(pattern, names, case, "bind parameters")
    return _Statement(select, {name: case[name] for name in names})


def _actor(conn: Connection) -> press.Actor:
    """An operator of the data set, as the pressing screens read for one."""
    user_id = conn.execute(
        text(
            "SELECT id FROM users WHERE role = 'operator' AND is_active "
            "AND deleted_at IS NULL ORDER BY id LIMIT 1"
        )
    ).scalar_one_or_none()
    if user_id is None:
        return press.Actor.system()
    return press.Actor(user_id=user_id, role=UserRole.OPERATOR)


def _entries(cases: list[dict[str, Any]], actor: press.Actor) -> list[_Entry]:
    entries = []
    for pattern in PATTERNS:
        statements = [statement(pattern, case) for case in cases]

        def call(conn: Connection, i: int, statements: list[_Statement] = statements) -> int:
            return len(conn.execute(statements[i].select, statements[i].parameters).all())

        entries.append(_Entry(pattern.key, pattern.description, pattern.index, statements, call))

    # The service calls get what a request hands them: a mapping or an id, validated
    # inside the call.
    def available_fruit(conn: Connection, i: int) -> int:
        with Session(bind=conn) as session:
            found = press.available_fruit(session, actor, {"vendor_id": cases[i]["vendor_id"]})
            return len(found)

    def get_run(conn: Connection, i: int) -> int:
        with Session(bind=conn) as session:
            return press.get_run(session, actor, cases[i]["run_id"]).load_count

    entries += [
        _Entry(
            SERVICE_FRUIT,
            "press.available_fruit for one grower (pattern fruit-vendor + API types)",
            None,
            [],
            available_fruit,
            wraps=("fruit-vendor",),
        ),
        _Entry(
            SERVICE_RUN,
            "press.get_run: a run with its loads and totals (patterns run, run-loads)",
            None,
            [],
            get_run,
            wraps=("run", "run-loads"),
        ),
    ]
    return entries


# One statement as the driver received it: SQL text and its parameters.
_Sent = tuple[str, Any]


def _sent_by(conn: Connection, entry: _Entry, cases: int) -> list[list[_Sent]]:
    """What ``entry`` sends to the driver for each argument set (one call each, which
    also warms its caches), recorded by the cursors of the psycopg connection beneath
    ``conn``: the statements SQLAlchemy executes and those the service sends through
    the driver itself (:mod:`cidery.db.compiled`) alike."""
    sent: list[list[_Sent]] = []

    class Recording(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Self:
            sent[-1].append((query, params))
            return super().execute(query, params, **kwargs)

    driver = conn.connection.driver_connection
    assert driver is not None
    factory = driver.cursor_factory
    driver.cursor_factory = Recording
    try:
        for i in range(cases):
            sent.append([])
            entry.call(conn, i)
    finally:
        driver.cursor_factory = factory
    return sent


def _raw_entry(conn: Connection, key: str, service: _Entry, cases: int) -> _Entry:
    """The SQL that ``service`` sends, replayed through the psycopg connection beneath
    ``conn``: the floor a read through SQLAlchemy and the API types is held to."""
    sent = _sent_by(conn, service, cases)

    def call(conn: Connection, i: int) -> int:
        driver = conn.connection.driver_connection
        assert driver is not None
        rows = 0
        with driver.cursor() as cursor:
            for statement, parameters in sent[i]:
                cursor.execute(statement, parameters)
                rows += len(cursor.fetchall())
        return rows

    return _Entry(
        key,
        f"the SQL of `{service.key}`, sent through psycopg on the same connection",
        None,
        [],
        call,
        wraps=service.wraps,
    )


def _explain(conn: Connection, statement: _Statement) -> Any:
    # The values bound into the statement, so that it compiles to SQL that EXPLAIN
    # accepts with the driver's own parameters.
    bound = statement.select.params(statement.parameters)
    compiled = bound.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    return conn.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
    ).scalar_one()


def _plan(conn: Connection, entry: _Entry, count: int) -> PlanSummary | None:
    """The plan most of the first ``count`` argument sets get, with the others seen."""
    if not entry.statements:
        return None
    plans = [
        describe_plan(_explain(conn, statement), entry.index)
        for statement in entry.statements[: max(count, 1)]
    ]
    summaries = Counter(plan.summary for plan in plans)
    common, _ = summaries.most_common(1)[0]
    plan = next(p for p in plans if p.summary == common)
    return replace(plan, other_plans=tuple(s for s in summaries if s != common))


def _taking_turns(
    conn: Connection, group: list[_Entry], cases: int, options: ReadOptions
) -> list[tuple[list[float], int]]:
    """``options.iterations`` calls of each entry of ``group``, taking turns (each entry
    once on an argument set, in :func:`turn_order`, then the next set), or fewer once
    ``options.budget_s`` per entry is spent: the samples and rows of each entry."""
    for entry in group:
        for i in range(min(options.warmup, cases)):
            entry.call(conn, i)
    samples: list[list[float]] = [[] for _ in group]
    rows = [0 for _ in group]
    least = min(options.min_iterations, options.iterations)
    started = now()
    for i in range(options.iterations):
        for k in turn_order(i, len(group)):
            t0 = now()
            rows[k] += group[k].call(conn, i % cases)
            samples[k].append(now() - t0)
        if i + 1 >= least and now() - started > options.budget_s * len(group):
            break
    return list(zip(samples, rows, strict=True))


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


def _index_tables(conn: Connection, entries: list[_Entry]) -> list[str]:
    """The press tables and every table an entry's declared index belongs to."""
    declared = sorted({entry.index for entry in entries if entry.index})
    found = conn.execute(
        text(
            "SELECT DISTINCT i.indrelid::regclass::text FROM pg_index i "
            "WHERE i.indexrelid::regclass::text = ANY(:names) ORDER BY 1"
        ),
        {"names": declared},
    ).scalars()
    return [*PRESS_TABLES, *(table for table in found if table not in PRESS_TABLES)]


def _drop_secondary_indexes(conn: Connection, tables: list[str]) -> list[str]:
    """Drop every index of ``tables`` but the primary keys (inside the caller's
    transaction); returns their names."""
    rows = conn.execute(
        text(
            "SELECT i.indexrelid::regclass::text AS name, i.indrelid::regclass::text AS tab, "
            "k.conname FROM pg_index i "
            "LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.contype IN ('u', 'x') "
            "WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) AND NOT i.indisprimary "
            "ORDER BY 1"
        ),
        {"tables": tables},
    ).all()
    # CASCADE: a foreign key of another table may rest on a unique index dropped here;
    # it goes too, and comes back with the rollback like everything else.
    for row in rows:
        if row.conname is not None:
            conn.execute(text(f'ALTER TABLE {row.tab} DROP CONSTRAINT "{row.conname}" CASCADE'))
        else:
            conn.execute(text(f"DROP INDEX IF EXISTS {row.name} CASCADE"))
    return [row.name for row in rows]


def _home_schema(conn: Connection) -> str:
    return str(conn.execute(text("SELECT current_schema()")).scalar_one())


def _index_definitions(conn: Connection, table: str) -> list[tuple[str, bool, str]]:
    """Each index of ``table`` (of the current schema): its name, whether it is the primary
    key, and its ``CREATE INDEX`` text with the table's name qualified."""
    # pg_get_indexdef qualifies the table's name whatever the search path.
    rows = conn.execute(
        text(
            "SELECT c.relname, i.indisprimary, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = CAST(:table AS regclass) ORDER BY c.relname"
        ),
        {"table": table},
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def _moved(definition: str, home: str, schema: str, table: str) -> str:
    """``definition`` (an index of ``home.table``) made for ``schema.table``, same name."""
    old, new = f" ON {home}.{table} ", f" ON {schema}.{table} "
    if definition.count(old) != 1:
        raise ValueError(f"cannot tell which table this index is on: {definition}")
    return definition.replace(old, new)


def _copy_press_tables(engine: Engine) -> tuple[str, list[str]]:
    """The press tables copied twice, row for row in the same order, into
    :data:`OURS_SCHEMA` with our indexes (same names) and into :data:`THEIRS_SCHEMA`
    with the primary keys and :data:`THEIR_INDEXES`; both vacuumed and analysed, so that
    index-only scans and the planner's statistics are alike. Returns the schema the
    press tables live in and our secondary indexes that theirs replace."""
    _drop_copies(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        home = _home_schema(conn)
        indexes = {table: _index_definitions(conn, table) for table in PRESS_TABLES}
        # Both copies from the first block: a synchronised scan may start mid-table.
        conn.execute(text("SET synchronize_seqscans = off"))
        for schema in (OURS_SCHEMA, THEIRS_SCHEMA):
            conn.execute(text(f"CREATE SCHEMA {schema}"))
            for table in PRESS_TABLES:
                conn.execute(text(f"CREATE TABLE {schema}.{table} (LIKE {home}.{table})"))
                conn.execute(text(f"INSERT INTO {schema}.{table} SELECT * FROM {home}.{table}"))
                for _name, primary, definition in indexes[table]:
                    if schema == OURS_SCHEMA or primary:
                        conn.execute(text(_moved(definition, home, schema, table)))
        conn.execute(text(f"SET search_path = {THEIRS_SCHEMA}"))
        for statement in THEIR_INDEXES:
            conn.execute(text(statement))
        conn.execute(text("RESET search_path"))
        for schema in (OURS_SCHEMA, THEIRS_SCHEMA):
            for table in PRESS_TABLES:
                conn.execute(text(f"VACUUM (ANALYZE) {schema}.{table}"))
    replaced = [name for found in indexes.values() for name, primary, _ in found if not primary]
    return home, replaced


def _drop_copies(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for schema in (OURS_SCHEMA, THEIRS_SCHEMA):
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


def _read_from(conn: Connection, schema: str, home: str) -> None:
    """The press tables of ``conn`` are those of ``schema`` (the other tables still those
    of ``home``) until its transaction ends. PostgreSQL replans a prepared statement
    when the search path changes, so psycopg's prepared statements follow."""
    conn.execute(text(f"SET LOCAL search_path = {schema}, {home}"))


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction, rolled back at the end."""
    with engine.connect() as conn:
        try:
            yield conn
        finally:
            conn.rollback()


def _both_copies(
    first: Connection,
    second: Connection,
    home: str,
    entry: _Entry,
    cases: int,
    options: ReadOptions,
) -> tuple[list[float], list[float], int, int]:
    """``entry`` timed on our copy and on theirs, taking turns call by call (twice the
    first pass's iterations and budget: two entries, each as many calls as there), the
    two connections swapping copies every ``options.swap_every`` turns; after each swap,
    one untimed call on each (PostgreSQL replans a prepared statement when the search
    path changes). Returns our samples, theirs, and the rows each copy gave."""
    samples: tuple[list[float], list[float]] = ([], [])
    rows = [0, 0]

    def swap(turn: int) -> tuple[Connection, Connection]:
        pair = (second, first) if (turn // options.swap_every) % 2 else (first, second)
        _read_from(pair[0], OURS_SCHEMA, home)
        _read_from(pair[1], THEIRS_SCHEMA, home)
        for conn in pair:
            entry.call(conn, turn % cases)
        return pair

    for assignment in (0, options.swap_every):
        pair = swap(assignment)
        for turn in range(min(options.warmup, cases)):
            for conn in pair:
                entry.call(conn, turn)
    least = min(options.min_iterations, options.iterations)
    started = now()
    for turn in range(2 * options.iterations):
        if turn % options.swap_every == 0:
            pair = swap(turn)
        for k in turn_order(turn, 2):
            t0 = now()
            rows[k] += entry.call(pair[k], turn % cases)
            samples[k].append(now() - t0)
        if turn + 1 >= least and now() - started > 2 * options.budget_s:
            break
    return samples[0], samples[1], rows[0], rows[1]


def _with_their_indexes(
    engine: Engine,
    entries: list[_Entry],
    results: dict[str, PatternResult],
    cases: int,
    options: ReadOptions,
    progress: Progress,
) -> list[str]:
    """Every pattern timed on the two copies of the press tables, ours and theirs taking
    turns call by call on two connections that swap copies as they go
    (:func:`_both_copies`). Returns our indexes that theirs replace.

    Before, theirs were timed in a transaction that swapped the indexes and ours again
    after it was rolled back, seconds apart: on this shared machine the same plan came
    out anywhere from 0.55x to 1.9x (a lookup by primary key, which the swap does not
    touch). Taking turns on one data set twice over, drift hits both alike; yet with
    both connections on the same copy the ratio still came out 0.83x to 1.16x from one
    run to the next, and with the copies swapped once halfway a primary-key lookup came
    out 0.86x (0.78 to 0.94) once at L: a connection (its server process, on a core whose
    time the host lends out in spells) can be the slower of the two for a minute.
    Swapping every few turns charges that to both copies alike, and the bootstrap
    interval of the ratio says how far what is left of the noise reaches."""
    patterns = [entry for entry in entries if not entry.wraps]
    home, replaced = _copy_press_tables(engine)
    try:
        with _transaction(engine) as first, _transaction(engine) as second:
            for entry in patterns:
                ours, theirs, ours_rows, their_rows = _both_copies(
                    first, second, home, entry, cases, options
                )
                if ours_rows != their_rows:
                    raise RuntimeError(
                        f"pattern {entry.key}: {ours_rows} rows on our copy, {their_rows} on "
                        "theirs: the copies differ"
                    )
                _read_from(second, THEIRS_SCHEMA, home)
                plan = _plan(second, entry, options.explained)
                assert plan is not None  # a pattern has statements
                measured, again = latency(theirs), latency(ours)
                compared = ratio(measured.median_ms, again.median_ms)
                interval = median_ratio_interval(theirs, ours)
                results[entry.key] = replace(
                    results[entry.key],
                    theirs=OtherIndexesResult(latency=measured, plan=plan, ours_again=again),
                    ratio_theirs=compared,
                    ratio_theirs_interval=interval,
                )
                within = f" (95% {interval[0]}-{interval[1]})" if interval else ""
                progress(
                    f"read {entry.key} (the original app's indexes): median "
                    f"{measured.median_ms:.3f} ms, ours {again.median_ms:.3f} ms: "
                    f"{compared}x{within}"
                )
    finally:
        _drop_copies(engine)
    return replaced


def run_reads(
    engine: Engine, options: ReadOptions | None = None, progress: Progress = quiet
) -> ReadResults:
    """Time every pattern and service read with the indexes, then with primary keys only,
    then with the original app's indexes."""
    options = options or ReadOptions()
    results: dict[str, PatternResult] = {}
    with engine.connect() as conn:
        cases = sample_cases(conn, options.iterations, options.seed)
        entries = _entries(cases, _actor(conn))
        tables = _index_tables(conn, entries)
        conn.rollback()
        # Each service read timed with its raw SQL, taking turns call by call, so that
        # drift on the machine (other processes on its cores) hits both alike.
        raws = {SERVICE_FRUIT: RAW_FRUIT, SERVICE_RUN: RAW_RUN}
        groups = [
            [entry, _raw_entry(conn, raws[entry.key], entry, len(cases))]
            if entry.key in raws
            else [entry]
            for entry in entries
        ]
        entries = [entry for group in groups for entry in group]
        conn.rollback()
        service_samples: dict[str, tuple[list[float], list[float]]] = {}
        for group in groups:
            # Each group in a transaction of its own, held while it is timed: a service
            # call's session joins it, as the raw replay runs in it, instead of sending a
            # BEGIN and a ROLLBACK of its own per call (two round trips the raw SQL does
            # not make, nor the service on an engine, where a read runs in autocommit).
            transaction = conn.begin()
            paired = len(group) > 1
            turns = replace(options, iterations=options.service_iterations) if paired else options
            timed = _taking_turns(conn, group, len(cases), turns)
            if paired:
                service_samples[group[0].key] = (timed[0][0], timed[1][0])
            for entry, (samples, rows) in zip(group, timed, strict=True):
                measured = latency(samples)
                results[entry.key] = PatternResult(
                    key=entry.key,
                    description=entry.description,
                    expected_index=entry.index,
                    latency=measured,
                    rows_mean=round(rows / len(samples), 2),
                    plan=_plan(conn, entry, options.explained),
                    wraps=entry.wraps,
                )
                progress(
                    f"read {entry.key}: median {measured.median_ms:.3f} ms, "
                    f"p95 {measured.p95_ms:.3f} ms"
                )
            transaction.rollback()
        with conn.begin() as transaction:
            dropped = _drop_secondary_indexes(conn, tables)
            for entry in entries:
                if entry.wraps:
                    continue  # the same SQL as the patterns it wraps: measured there
                iterations = min(options.iterations, options.pk_only_iterations)
                samples, timed_out = _time_within(conn, entry, iterations, options.pk_only_budget_s)
                pk_only = latency(samples)
                plan = _plan(conn, entry, 1)
                assert plan is not None  # a pattern has statements
                indexed = results[entry.key]
                if pk_only.median_ms is None:
                    # No call finished within the budget: the ratio is at least budget/median.
                    pk_ratio = ratio(options.pk_only_budget_s * 1000, indexed.latency.median_ms)
                    said = f"no call finished within {options.pk_only_budget_s:g} s"
                else:
                    pk_ratio = ratio(pk_only.median_ms, indexed.latency.median_ms)
                    said = f"median {pk_only.median_ms:.3f} ms"
                results[entry.key] = replace(
                    indexed,
                    pk_only=PkOnlyResult(
                        latency=pk_only,
                        timed_out_ms=round(options.pk_only_budget_s * 1000) if timed_out else None,
                        plan=plan,
                    ),
                    ratio_pk_only=pk_ratio,
                    ratio_pk_only_is_lower_bound=pk_only.median_ms is None,
                )
                progress(
                    f"read {entry.key} (primary keys only): {said}, {pk_ratio}x the indexed median"
                )
            transaction.rollback()
    theirs_dropped = _with_their_indexes(engine, entries, results, len(cases), options, progress)
    for service, raw in raws.items():
        results[service] = replace(
            results[service],
            raw_key=raw,
            ratio_over_raw=ratio(
                results[service].latency.median_ms, results[raw].latency.median_ms
            ),
            ratio_over_raw_interval=median_ratio_interval(*service_samples[service]),
        )
    return ReadResults(
        iterations=options.iterations,
        pk_only_dropped_indexes=tuple(dropped),
        patterns=tuple(results.values()),
        pk_only_tables=tuple(tables),
        theirs_indexes=THEIR_INDEXES,
        theirs_dropped_indexes=tuple(theirs_dropped),
    )
