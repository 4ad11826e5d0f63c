"""Reading press runs: resume one, list them, the fruit left to press, yield outliers.

Each function takes the session, the :class:`~cidery.press.access.Actor` and a
typed input (a model, or a mapping validated into one), runs statements of
:mod:`cidery.press.queries` only, and returns Pydantic types.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from itertools import starmap
from types import UnionType
from typing import Any, get_args, get_origin, get_type_hints

from pydantic_core import ArgsKwargs
from sqlalchemy import Column, Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cidery.db.compiled import Compiled, tuples_of
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
    YieldBand,
)
from cidery.press.translate import translate

# Isolation levels at which a read gets a snapshot per statement anyway: outside a
# transaction (autocommit) it sees exactly what it would see inside one.
_PER_STATEMENT = (None, "READ COMMITTED", "AUTOCOMMIT")


# How a session joins a connection already in a transaction without a SAVEPOINT of its
# own (the first, while that transaction is not itself a savepoint), leaving that
# transaction to its owner ("control_fully" would roll it back when the session closes).
_JOINS_WITHOUT_SAVEPOINT = ("conditional_savepoint", "rollback_only")


def _reads_per_statement(engine: Engine) -> bool:
    level = engine.get_execution_options().get("isolation_level")
    # Known once the engine has connected; before that, the shortcut is not taken.
    default = getattr(engine.dialect, "default_isolation_level", None)
    return level in _PER_STATEMENT and default is not None and default in _PER_STATEMENT


def _joins_as_it_is(session: Session, conn: Connection) -> bool:
    return (
        conn.in_transaction()
        and not conn.in_nested_transaction()
        and session.join_transaction_mode in _JOINS_WITHOUT_SAVEPOINT
        # Nothing to flush: SQLAlchemy begins the session's transaction when an object
        # is added or changed, but objects may be kept from an earlier one.
        and not session.identity_map
        and not session.new
    )


@contextmanager
def read_connection(session: Session, actor_id: uuid.UUID | None = None) -> Iterator[Connection]:
    """Where a read runs: the session's transaction, or none when it needs none; a
    database error raised there becomes the typed error of
    :func:`~cidery.press.translate.translate` (``actor_id``: who read).

    A session that has not begun a transaction, on an engine at READ COMMITTED, reads
    on a connection of its own in autocommit: no BEGIN before the statements and no
    ROLLBACK when the session is closed, two round trips a read-only request does not
    need, and the session stays without a transaction, as it was.

    A session that has not begun a transaction, holds nothing to flush, and is bound
    to a connection in a transaction it would join as it is, reads on that connection:
    the same statements in the same transaction as through the session, without the
    session's transaction (about 0.01 ms of the ORM's bookkeeping, begun and closed).

    Otherwise the statements run in the session's transaction, after what the caller
    added to the session is flushed, as the ORM's autoflush would.

    One context manager for both, not ``reading()`` around this one: the pressing
    screens' reads are a fraction of a millisecond, and each layer costs a few
    microseconds.
    """
    try:
        bind = session.get_bind()
        if not session.in_transaction():
            if isinstance(bind, Engine) and _reads_per_statement(bind):
                with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    # What SQLAlchemy begins before a first statement anyway (nothing is
                    # sent in autocommit), begun here so that a statement sent through
                    # the driver (cidery.db.compiled) finds the connection ready.
                    conn.begin()
                    yield conn
                return
            if isinstance(bind, Connection) and _joins_as_it_is(session, bind):
                yield bind
                return
        session.flush()
        yield session.connection()
    except DBAPIError as exc:
        raise translate(exc, actor_id) from exc


def run_detail(session: Session, run_id: uuid.UUID) -> PressRunDetail:
    """A run with its live loads in order and running totals (no permission check:
    for the service's own functions, after theirs)."""
    with read_connection(session) as conn:
        return _detail(conn, run_id)


# The reads of the pressing screens, sent through the driver (cidery.db.compiled): a run
# to resume and the fruit left to press, called for every load saved. Their rows become
# the read types from their values in column order (a run's and its loads' validated
# through pydantic_core's ArgsKwargs, the fruit's lines built as they are), so each
# statement's columns are its read type's fields, in order, and the names it adds after
# them.
_RUN = Compiled(queries.RUN)
_RUN_LOADS = Compiled(queries.RUN_LOADS)
_FRUIT_SHAPES = {
    statement: Compiled(statement)
    for statement in (
        queries.FRUIT,
        queries.FRUIT_BY_VENDOR,
        queries.FRUIT_BY_VARIETY,
        queries.FRUIT_BY_VENDOR_AND_VARIETY,
    )
}


def _columns_are(statement: Compiled, kind: Any, *added: str) -> None:
    fields = tuple(field.name for field in dataclasses.fields(kind))
    if statement.keys != (*fields, *added):
        raise TypeError(f"columns {statement.keys} are not {kind.__name__}'s fields and {added}")


def _built_as_they_are(statement: Compiled, kind: Any, *, kept_by_where: str = "") -> None:
    """A type built from rows without validation (:class:`AvailableFruit`): each column is
    loaded as its field's type, and a table's column may be NULL only where the field may
    be None or the statement's WHERE keeps NULL out (``kept_by_where``, a column name).
    An expression's nullability is held by the tests."""
    _columns_are(statement, kind)
    hints = get_type_hints(kind)
    for key, column in zip(statement.keys, statement.statement.selected_columns, strict=True):
        wanted = hints[key]
        types = set(get_args(wanted)) if get_origin(wanted) is UnionType else {wanted}
        stored = getattr(column, "element", column)
        nullable = isinstance(stored, Column) and stored.nullable and key != kept_by_where
        if column.type.python_type not in types or (nullable and type(None) not in types):
            raise TypeError(f"column {key} ({column.type}) is not {kind.__name__}'s {wanted}")


_columns_are(_RUN, PressRunRead, "vendor_name")
_columns_are(_RUN_LOADS, PressRunLoadRead, "variety_name")
for _shape in _FRUIT_SHAPES.values():
    # A line bought by volume has no weight, and no remaining_kg > 0 either.
    _built_as_they_are(_shape, AvailableFruit, kept_by_where="quantity_kg")
_VARIETY_ID = _RUN_LOADS.keys.index("apple_variety_id")
_WEIGHT_KG = _RUN_LOADS.keys.index("weight_kg")


def _detail(conn: Connection, run_id: uuid.UUID) -> PressRunDetail:
    values = {"run_id": run_id}
    found, rows = tuples_of(conn, (_RUN, values), (_RUN_LOADS, values))
    if not found:
        raise NotFound("press run", run_id)
    # Name, count and weight per variety, in the order the varieties first appear, and
    # the run's total, summed from the rows as the database typed them (UUID, Decimal);
    # then the whole detail validated in one call, a third faster than model by model.
    # Keyed by the id's integer: a UUID hashes and compares in Python, an int in C.
    seen: dict[int, list[Any]] = {}
    total = Decimal("0.000")
    for row in rows:
        weight_kg = row[_WEIGHT_KG]
        total += weight_kg
        variety = row[_VARIETY_ID].int
        sums = seen.get(variety)
        if sums is None:
            seen[variety] = [row[_VARIETY_ID], row[-1], 1, weight_kg]
        else:
            sums[2] += 1
            sums[3] += weight_kg
    varieties = [
        {"apple_variety_id": variety_id, "variety_name": name, "load_count": n, "weight_kg": kg}
        for variety_id, name, n, kg in seen.values()
    ]
    run = found[0]
    return PressRunDetail.model_validate(
        {
            "run": ArgsKwargs(run[:-1]),
            "vendor_name": run[-1],
            "loads": [ArgsKwargs(row[:-1]) for row in rows],
            "load_count": len(rows),
            "total_weight_kg": total,
            "varieties": sorted(varieties, key=lambda v: v["variety_name"]),
        }
    )


def get_run(session: Session, actor: object, run_id: Id) -> PressRunDetail:
    """A run to resume: its live loads in sequence and running totals."""
    who = require(actor, Action.READ)
    run_uuid = identifier(run_id, "run_id")
    with read_connection(session, who.user_id) as conn:
        return _detail(conn, run_uuid)


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
    with read_connection(session, who.user_id) as conn:
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
    with read_connection(session, who.user_id) as conn:
        return list(starmap(AvailableFruit, _FRUIT_SHAPES[statement].tuples(conn, values)))


def yield_outliers(
    session: Session, actor: object, band: YieldBand | object = None
) -> list[PressRunSummary]:
    """Completed runs whose yield is outside the band (default: the usual one), newest first."""
    who = require(actor, Action.READ)
    wanted = parse(YieldBand, {"low": YIELD_LOW, "high": YIELD_HIGH} if band is None else band)
    with read_connection(session, who.user_id) as conn:
        rows = conn.execute(queries.yield_outliers(wanted.low, wanted.high))
        return [PressRunSummary.model_validate(row) for row in rows.mappings()]
