"""Reading press runs: resume one, list them, the fruit left to press, yield outliers.

Each function takes the session, the :class:`~cidery.press.access.Actor` and a
typed input (a model, or a mapping validated into one), runs statements of
:mod:`cidery.press.queries` only, and returns Pydantic types.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from cidery.press import queries
from cidery.press.access import Action, require
from cidery.press.errors import NotFound
from cidery.press.inputs import (
    Id,
    decode_cursor,
    encode_cursor,
    identifier,
    parse,
)
from cidery.press.rules import YIELD_HIGH, YIELD_LOW
from cidery.press.schemas import (
    AvailableFruit,
    FruitFilter,
    PressRunDetail,
    PressRunLoadRead,
    PressRunRead,
    PressRunSummary,
    RunFilter,
    RunPage,
    VarietyTotal,
    YieldBand,
)
from cidery.press.translate import reading

# Isolation levels at which a read gets a snapshot per statement anyway: outside a
# transaction (autocommit) it sees exactly what it would see inside one.
_PER_STATEMENT = (None, "READ COMMITTED", "AUTOCOMMIT")


@contextmanager
def _connection(session: Session) -> Iterator[Connection]:
    """Where a read runs: the session's transaction, or none when it needs none.

    A session that has not begun a transaction, on an engine at READ COMMITTED, reads
    on a connection of its own in autocommit: no BEGIN before the statements and no
    ROLLBACK when the session is closed, two round trips a read-only request does not
    need, and the session stays without a transaction, as it was. Otherwise the
    statements run in the session's transaction, after what the caller added to the
    session is flushed, as the ORM's autoflush would.
    """
    bind = session.get_bind()
    if not session.in_transaction() and isinstance(bind, Engine):
        level = bind.get_execution_options().get("isolation_level")
        if level in _PER_STATEMENT and bind.dialect.default_isolation_level in _PER_STATEMENT:
            with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                yield conn
            return
    session.flush()
    yield session.connection()


def run_detail(session: Session, run_id: uuid.UUID) -> PressRunDetail:
    """A run with its live loads in order and running totals (no permission check:
    for the service's own functions, after theirs)."""
    with _connection(session) as conn:
        return _detail(conn, run_id)


def _detail(conn: Connection, run_id: uuid.UUID) -> PressRunDetail:
    run = conn.execute(queries.RUN, {"run_id": run_id}).mappings().first()
    if run is None:
        raise NotFound("press run", run_id)
    loads = [
        PressRunLoadRead.model_validate(row)
        for row in conn.execute(queries.RUN_LOADS, {"run_id": run_id}).mappings()
    ]
    variety_ids = list({load.apple_variety_id for load in loads})
    names: dict[uuid.UUID, str] = {
        row.id: row.name
        for row in conn.execute(queries.VARIETY_NAMES, {"variety_ids": variety_ids})
    }
    by_variety: dict[uuid.UUID, VarietyTotal] = {}
    for load in loads:
        total = by_variety.get(load.apple_variety_id)
        by_variety[load.apple_variety_id] = VarietyTotal(
            apple_variety_id=load.apple_variety_id,
            variety_name=names.get(load.apple_variety_id, "?"),
            load_count=(total.load_count if total else 0) + 1,
            weight_kg=(total.weight_kg if total else Decimal(0)) + load.weight_kg,
        )
    return PressRunDetail(
        run=PressRunRead.model_validate(run),
        loads=loads,
        load_count=len(loads),
        total_weight_kg=sum((load.weight_kg for load in loads), Decimal("0.000")),
        varieties=sorted(by_variety.values(), key=lambda v: v.variety_name),
    )


def get_run(session: Session, actor: object, run_id: Id) -> PressRunDetail:
    """A run to resume: its live loads in sequence and running totals."""
    who = require(actor, Action.READ)
    run_uuid = identifier(run_id, "run_id")
    with reading(who.user_id):
        return run_detail(session, run_uuid)


def list_runs(session: Session, actor: object, query: RunFilter | object = None) -> RunPage:
    """Runs newest first, in pages: a stable order (start time, then id) and a cursor."""
    who = require(actor, Action.READ)
    wanted = parse(RunFilter, {} if query is None else query)
    after = decode_cursor(wanted.after) if wanted.after is not None else None
    statement = queries.run_list(
        limit=wanted.limit,
        status=wanted.status,
        vendor_id=wanted.vendor_id,
        since=wanted.since,
        until=wanted.until,
        after=after,
    )
    with reading(who.user_id), _connection(session) as conn:
        rows = conn.execute(statement).mappings()
        items = [PressRunSummary.model_validate(row) for row in rows]
    more = len(items) > wanted.limit
    items = items[: wanted.limit]
    cursor = encode_cursor(items[-1].start_time, items[-1].id) if more else None
    return RunPage(items=items, next_cursor=cursor)


def available_fruit(
    session: Session, actor: object, query: FruitFilter | object = None
) -> list[AvailableFruit]:
    """Purchase lines with fruit left to press, for the variety picker."""
    who = require(actor, Action.READ)
    wanted = parse(FruitFilter, {} if query is None else query)
    statement, values = queries.available_fruit(wanted.vendor_id, wanted.variety_id)
    with reading(who.user_id), _connection(session) as conn:
        rows = conn.execute(statement, values).mappings()
        return [AvailableFruit.model_validate(row) for row in rows]


def yield_outliers(
    session: Session, actor: object, band: YieldBand | object = None
) -> list[PressRunSummary]:
    """Completed runs whose yield is outside the band (default: the usual one), newest first."""
    who = require(actor, Action.READ)
    wanted = parse(YieldBand, {"low": YIELD_LOW, "high": YIELD_HIGH} if band is None else band)
    with reading(who.user_id), _connection(session) as conn:
        rows = conn.execute(queries.yield_outliers(wanted.low, wanted.high))
        return [PressRunSummary.model_validate(row) for row in rows.mappings()]
