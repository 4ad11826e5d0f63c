"""A statement compiled once and sent through psycopg behaves as ``Connection.execute``.

Every behaviour is checked through both: the same rows, the same SQL and
parameters reaching the driver, the same exception for a refused statement, a
cancelled one and a lost connection (which also invalidates the pool's older
connections), and the same refusal on a connection that is not ready.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, Integer, Select, bindparam, func, literal, select, text
from sqlalchemy.exc import (
    DataError,
    InvalidRequestError,
    OperationalError,
    PendingRollbackError,
    StatementError,
)
from sqlalchemy.orm import Session

from cidery.db.compiled import Compiled, tuples_of
from cidery.db.engine import make_engine
from cidery.models import PressRun
from cidery.models.enums import PressRunStatus
from cidery.press import queries
from tests.factories import Factory

Run = Callable[[Connection, Select[Any], dict[str, Any]], list[dict[str, Any]]]


def through_sqlalchemy(
    conn: Connection, statement: Select[Any], values: dict[str, Any]
) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(statement, values).mappings()]


def through_the_driver(
    conn: Connection, statement: Select[Any], values: dict[str, Any]
) -> list[dict[str, Any]]:
    return Compiled(statement).rows(conn, values)


both = pytest.mark.parametrize(
    "run", [through_sqlalchemy, through_the_driver], ids=["execute", "compiled"]
)

DIVIDE = select(literal(1, Integer) / bindparam("by", type_=Integer))


@pytest.fixture
def pressed(session: Session) -> dict[str, uuid.UUID]:
    """A run with two loads of two varieties: the ids the service's reads take."""
    make = Factory(session)
    vendor = make.vendor()
    first = make.purchase_item(vendor=vendor)
    second = make.purchase_item(vendor=vendor)
    run = make.run(vendor=vendor)
    make.load(run, first, sequence=1, weight=Decimal("120.5"))
    make.load(run, second, sequence=2)
    return {"run_id": run.id, "vendor_id": vendor.id, "variety_id": first.apple_variety_id}


READS = {
    "run": (queries.RUN, ("run_id",)),
    "run-loads": (queries.RUN_LOADS, ("run_id",)),
    "fruit": (queries.FRUIT, ()),
    "fruit-vendor": (queries.FRUIT_BY_VENDOR, ("vendor_id",)),
    "fruit-variety": (queries.FRUIT_BY_VARIETY, ("variety_id",)),
    "fruit-vendor-variety": (queries.FRUIT_BY_VENDOR_AND_VARIETY, ("vendor_id", "variety_id")),
}


@pytest.mark.parametrize("key", READS)
def test_the_rows_are_those_of_execute(
    session: Session, pressed: dict[str, uuid.UUID], key: str
) -> None:
    statement, names = READS[key]
    values = {name: pressed[name] for name in names}
    conn = session.connection()
    expected = through_sqlalchemy(conn, statement, values)
    assert expected
    assert through_the_driver(conn, statement, values) == expected
    # As tuples: the values in the order of the statement's columns.
    assert Compiled(statement).tuples(conn, values) == [tuple(row.values()) for row in expected]


def test_tuples_are_the_rows_in_column_order_on_either_path(engine: Engine) -> None:
    """Sent through ``execute`` (no transaction begun yet) or through the driver."""
    two = Compiled(select(literal(1, Integer).label("one"), literal(2, Integer).label("two")))
    with engine.connect() as conn:
        assert two.tuples(conn, {}) == [(1, 2)]  # not ready: through execute, which begins
        assert conn.in_transaction()
        assert two.tuples(conn, {}) == [(1, 2)]  # ready: through the driver
        assert two.rows(conn, {}) == [{"one": 1, "two": 2}]


def test_several_statements_give_each_its_rows(
    session: Session, pressed: dict[str, uuid.UUID]
) -> None:
    """One cursor for the reads of a screen: each statement's rows, in turn, as its own
    ``tuples`` gives them."""
    key = {"run_id": pressed["run_id"]}
    run, loads = Compiled(queries.RUN), Compiled(queries.RUN_LOADS)
    conn = session.connection()
    found = tuples_of(conn, (run, key), (loads, key))
    assert found == [run.tuples(conn, key), loads.tuples(conn, key)]
    assert [len(rows) for rows in found] == [1, 2]
    assert tuples_of(conn) == []


def test_several_statements_on_a_connection_not_ready_go_through_execute(
    engine: Engine,
) -> None:
    one = Compiled(select(literal(1, Integer).label("one")))
    two = Compiled(select(literal(2, Integer).label("two"), literal(3, Integer).label("three")))
    with engine.connect() as conn:
        assert not conn.in_transaction()
        assert tuples_of(conn, (one, {}), (two, {})) == [[(1,)], [(2, 3)]]
        assert conn.in_transaction()  # begun by execute, as for one statement


def test_a_refusal_among_several_statements_raises_what_execute_raises(
    connection: Connection,
) -> None:
    """The second statement refused: the error names it, as ``execute`` would."""
    one = Compiled(select(literal(1, Integer).label("one")))
    savepoint = connection.begin_nested()
    alone = _refused(connection, through_sqlalchemy, DIVIDE, by=0)
    savepoint.rollback()
    savepoint = connection.begin_nested()
    with pytest.raises(StatementError) as info:
        tuples_of(connection, (one, {}), (Compiled(DIVIDE), {"by": 0}))
    savepoint.rollback()
    _same(info.value, alone)


def test_a_textual_select_gives_the_rows_of_execute(
    session: Session, pressed: dict[str, uuid.UUID]
) -> None:
    """A ``text()`` given its columns, as the call that saves a load is sent."""
    statement = text(
        "SELECT id, status, total_apple_weight_kg FROM press_runs WHERE id = :run_id"
    ).columns(*(queries.runs.c[name] for name in ("id", "status", "total_apple_weight_kg")))
    conn = session.connection()
    values = {"run_id": pressed["run_id"]}
    expected = [dict(row) for row in conn.execute(statement, values).mappings()]
    found = Compiled(statement).rows(conn, values)
    assert [row["id"] for row in found] == [row["id"] for row in expected] == [pressed["run_id"]]
    assert found[0]["total_apple_weight_kg"] == expected[0]["total_apple_weight_kg"]
    # The enum's label as the driver loads it, equal to what SQLAlchemy makes of it.
    assert found[0]["status"] == expected[0]["status"] == PressRunStatus.IN_PROGRESS


def test_values_are_as_the_driver_loads_them(
    session: Session, pressed: dict[str, uuid.UUID]
) -> None:
    """An enum's label is a str (equal to the Python enum's value): for validation."""
    (row,) = through_the_driver(session.connection(), queries.RUN, pressed)
    assert row["status"] == PressRunStatus.IN_PROGRESS
    assert type(row["status"]) is str
    assert isinstance(row["id"], uuid.UUID)
    assert isinstance(row["total_apple_weight_kg"], Decimal)


@both
def test_the_driver_receives_what_execute_sends(
    session: Session, pressed: dict[str, uuid.UUID], run: Run
) -> None:
    conn = session.connection()
    driver = conn.connection.driver_connection
    assert driver is not None
    sent: list[tuple[Any, Any]] = []

    class Recording(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            sent.append((query, params))
            return super().execute(query, params, **kwargs)

    factory = driver.cursor_factory
    driver.cursor_factory = Recording
    try:
        run(conn, queries.FRUIT_BY_VENDOR, {"vendor_id": pressed["vendor_id"]})
    finally:
        driver.cursor_factory = factory
    compiled = queries.FRUIT_BY_VENDOR.compile(dialect=conn.dialect)
    assert sent == [(str(compiled), compiled.construct_params({"vendor_id": pressed["vendor_id"]}))]


def _refused(conn: Connection, run: Run, statement: Select[Any], **values: Any) -> StatementError:
    with pytest.raises(StatementError) as info:
        run(conn, statement, values)
    return info.value


def _same(one: StatementError, other: StatementError) -> None:
    assert type(one) is type(other)
    assert type(one.orig) is type(other.orig)
    assert (one.statement, one.params) == (other.statement, other.params)
    assert str(one) == str(other)


def test_a_refused_statement_raises_what_execute_raises(connection: Connection) -> None:
    refused = []
    for run in (through_sqlalchemy, through_the_driver):
        savepoint = connection.begin_nested()
        refused.append(_refused(connection, run, DIVIDE, by=0))
        savepoint.rollback()
    _same(*refused)
    assert isinstance(refused[0], DataError)
    assert isinstance(refused[0].orig, psycopg.errors.DivisionByZero)
    # The transaction goes on after its savepoint.
    assert through_the_driver(connection, DIVIDE, {"by": 1})


def test_a_cancelled_statement_raises_what_execute_raises(connection: Connection) -> None:
    sleep = select(func.pg_sleep(bindparam("s", type_=Integer)))
    refused = []
    for run in (through_sqlalchemy, through_the_driver):
        savepoint = connection.begin_nested()
        connection.execute(text("SET LOCAL statement_timeout = 1"))
        refused.append(_refused(connection, run, sleep, s=5))
        savepoint.rollback()
    _same(*refused)
    assert isinstance(refused[0], OperationalError)
    assert isinstance(refused[0].orig, psycopg.errors.QueryCanceled)


@pytest.fixture
def pooled(clone_url: str) -> Iterator[Engine]:
    engine = make_engine(clone_url, pool_size=2, max_overflow=0)
    yield engine
    engine.dispose()


def _pid(conn: Connection) -> int:
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(engine: Engine, pid: int) -> None:
    with engine.connect() as other:
        # The second argument waits for the backend to have exited.
        assert other.execute(
            text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}
        ).scalar()


@both
def test_a_lost_connection_is_invalidated_with_the_pools_older_ones(
    pooled: Engine, clone_url: str, run: Run
) -> None:
    with pooled.connect() as older:
        older_pid = _pid(older)
        older.rollback()
        with pooled.connect() as conn:
            pid = _pid(conn)
            older.close()  # back to the pool, idle and healthy
            helper = make_engine(clone_url, pool_size=1, max_overflow=0)
            try:
                _terminate(helper, pid)
            finally:
                helper.dispose()
            lost = _refused(conn, run, DIVIDE, by=1)
            assert isinstance(lost, OperationalError)
            assert lost.connection_invalidated
            assert conn.invalidated
            # Until the transaction is rolled back, nothing more runs on it.
            with pytest.raises(PendingRollbackError):
                run(conn, DIVIDE, {"by": 1})
    # Both pooled connections are replaced: the lost one and the one older than the loss.
    with pooled.connect() as first, pooled.connect() as second:
        assert {_pid(first), _pid(second)}.isdisjoint({pid, older_pid})


@both
def test_a_transaction_closed_inside_its_block_is_refused(engine: Engine, run: Run) -> None:
    with engine.connect() as conn, conn.begin() as transaction:
        transaction.rollback()
        with pytest.raises(InvalidRequestError, match="closed transaction"):
            run(conn, DIVIDE, {"by": 1})


@both
def test_a_connection_without_a_transaction_begins_one(engine: Engine, run: Run) -> None:
    with engine.connect() as conn:
        assert not conn.in_transaction()
        assert run(conn, DIVIDE, {"by": 2}) == [{"anon_1": Decimal("0.5")}]
        assert conn.in_transaction()


def test_statements_sqlalchemy_must_convert_are_refused(connection: Connection) -> None:
    runs = PressRun.__table__
    by_status = select(runs.c.id).where(
        runs.c.status == bindparam("status", type_=runs.c.status.type)
    )
    expanding = select(runs.c.id).where(runs.c.id.in_(bindparam("ids", expanding=True)))
    for statement, values in ((by_status, {"status": "completed"}), (expanding, {"ids": []})):
        with pytest.raises(TypeError):
            Compiled(statement).rows(connection, values)
