"""How the pressing screens' reads reach the database, and what a failure of it becomes.

``get_run`` and ``available_fruit`` send their statements through the driver
(:mod:`cidery.db.compiled`). A session that has not begun reads in autocommit,
sending nothing but its statements; a database that refuses or loses the read
gives the same typed errors as every service call: a held lock is a retryable
``Conflict``, a lost connection a retryable ``DatabaseFailure``, after which the
pool serves the next call.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from psycopg import pq
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from cidery import press
from cidery.db.engine import make_engine
from cidery.models import PurchaseItem, Vendor
from cidery.models.enums import Unit
from cidery.press.errors import Conflict, DatabaseFailure
from tests.factories import Factory, new_actor


@dataclass(frozen=True)
class Pressed:
    url: str
    engine: Engine
    actor: press.Actor
    run_id: uuid.UUID
    vendor_id: uuid.UUID


@pytest.fixture
def pressed(clone_url: str) -> Iterator[Pressed]:
    """A committed run with two loads, on an engine whose statements wait 100 ms for a lock."""
    engine = make_engine(
        clone_url, pool_size=2, max_overflow=0, server_settings={"lock_timeout": "100ms"}
    )
    with Session(engine) as session, session.begin():
        make = Factory(session)
        actor = new_actor(session)
        vendor = make.vendor()
        item = make.purchase_item(vendor=vendor)
        run = make.run(vendor=vendor)
        make.load(run, item, sequence=1)
        make.load(run, item, sequence=2, weight=Decimal("50"))
        ids = (actor, run.id, vendor.id)
    try:
        yield Pressed(clone_url, engine, *ids)
    finally:
        engine.dispose()


Read = Callable[[Session, Pressed], Any]


def get_run(session: Session, pressed: Pressed) -> Any:
    return press.get_run(session, pressed.actor, pressed.run_id)


def available_fruit(session: Session, pressed: Pressed) -> Any:
    return press.available_fruit(session, pressed.actor, {"vendor_id": pressed.vendor_id})


reads = pytest.mark.parametrize(
    ("read", "table"),
    [(get_run, "press_runs"), (available_fruit, "purchase_items")],
    ids=["get_run", "available_fruit"],
)


def _frontend_messages(engine: Engine, call: Callable[[], object]) -> list[str]:
    """The protocol messages the client sends on the pool's connection during ``call``
    (libpq's trace)."""
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
    return _sent_on(driver, call)


def _sent_on(driver: Any, call: Callable[[], object]) -> list[str]:
    """The protocol messages the client sends on a psycopg connection during ``call``."""
    assert driver is not None
    descriptor, name = tempfile.mkstemp()
    try:
        driver.pgconn.trace(descriptor)
        driver.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            call()
        finally:
            driver.pgconn.untrace()
        lines = Path(name).read_text().splitlines()
    finally:
        os.close(descriptor)
        os.unlink(name)
    return [line.split("\t")[2] for line in lines if line.startswith("F\t")]


@reads
def test_a_read_outside_a_transaction_sends_its_statements_only(
    pressed: Pressed, read: Read, table: str
) -> None:
    # One connection, so that the traced one is the one the sessions take.
    engine = make_engine(pressed.url, pool_size=1, max_overflow=0)

    def alone() -> None:
        with Session(engine) as session:
            assert read(session, pressed)

    def in_a_transaction() -> None:
        with Session(engine) as session, session.begin():
            assert read(session, pressed)

    try:
        sent = _frontend_messages(engine, alone)
        begun = _frontend_messages(engine, in_a_transaction)
    finally:
        engine.dispose()
    # Extended protocol: a statement is a Bind, Execute and Sync (and a Parse the first
    # time); BEGIN and ROLLBACK would be Query messages, as a transaction shows.
    assert "Execute" in sent
    assert "Query" not in sent
    assert "Query" in begun


def test_a_session_on_a_connection_reads_in_the_connections_transaction(
    pressed: Pressed,
) -> None:
    """A session bound to a connection in a transaction (a script's, a test's) reads on
    that connection without a transaction of its own, seeing what the transaction holds;
    what the session holds is flushed first, and a session that joins with a savepoint
    reads inside it."""
    with pressed.engine.connect() as conn:
        conn.begin()
        conn.execute(
            text("UPDATE vendors SET name = 'Renamed' WHERE id = :id"), {"id": pressed.vendor_id}
        )
        found: list[Any] = []

        def read(session: Session) -> None:
            found.append(get_run(session, pressed))
            found.append(available_fruit(session, pressed))
            assert not session.in_transaction()

        with Session(bind=conn) as session:
            sent = _sent_on(conn.connection.driver_connection, lambda: read(session))
        detail, lines = found
        assert detail.vendor_name == "Renamed"
        assert [line.vendor_name for line in lines] == ["Renamed"]
        # Two statements each (Bind, Execute, Sync); a SAVEPOINT would be a Query.
        assert sent.count("Execute") == 3
        assert "Query" not in sent
        assert conn.in_transaction()

        with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
            sent = _sent_on(conn.connection.driver_connection, lambda: get_run(session, pressed))
        assert "Query" in sent

        # What the session holds: read after it is flushed.
        with Session(bind=conn) as session:
            vendor = session.get(Vendor, pressed.vendor_id)
            assert vendor is not None
            vendor.name = "Renamed again"
            assert get_run(session, pressed).vendor_name == "Renamed again"

        [line] = lines
        with Session(bind=conn) as session:
            session.add(
                PurchaseItem(
                    purchase_id=line.purchase_id,
                    apple_variety_id=line.apple_variety_id,
                    quantity=Decimal("10"),
                    unit=Unit.KG,
                    quantity_kg=Decimal("10"),
                )
            )
            assert len(available_fruit(session, pressed)) == 2
        conn.rollback()


@reads
def test_a_held_lock_is_a_conflict_in_autocommit_and_in_a_transaction(
    pressed: Pressed, read: Read, table: str
) -> None:
    with pressed.engine.connect() as holder:
        holder.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        with Session(pressed.engine) as session:
            with pytest.raises(Conflict) as outside:
                read(session, pressed)
            assert not session.in_transaction()
        with Session(pressed.engine) as session:
            session.connection()
            with pytest.raises(Conflict) as inside:
                read(session, pressed)
        holder.rollback()
    for refused in (outside.value, inside.value):
        assert refused.retryable
        assert refused.details["reason"] == "LockNotAvailable"
    with Session(pressed.engine) as session:
        assert read(session, pressed)


@reads
def test_a_lost_connection_is_a_retryable_failure_and_the_next_read_works(
    pressed: Pressed, read: Read, table: str
) -> None:
    with Session(pressed.engine) as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with pressed.engine.connect() as other:
            assert other.execute(
                text("SELECT pg_terminate_backend(:p, 10000)"), {"p": pid}
            ).scalar()
        with pytest.raises(DatabaseFailure) as lost:
            read(session, pressed)
    assert lost.value.retryable
    with Session(pressed.engine) as session:
        assert read(session, pressed)
