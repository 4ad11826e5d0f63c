"""Read statements compiled once and sent through psycopg, beneath SQLAlchemy.

SQLAlchemy's ``Connection.execute`` costs about 0.05 ms per statement over the
round trip itself: the statement's cache key, an execution context, psycopg
describing every column of the result (SQLAlchemy asks for the description),
and the result's metadata and row processing. For a read of a few rows that is
as much as the query, so the hot statements of the press service (a run to
resume, the fruit left to press, and the call that saves a load, whose 25
result columns cost SQLAlchemy more than the call's round trip) run as a
:class:`Compiled` statement instead: a ``Select`` of :mod:`cidery.press.queries`
(or a ``text()`` with its columns) compiled by SQLAlchemy once, its SQL text and
fixed parameters kept, and sent on the psycopg connection beneath the SQLAlchemy
``Connection``, in the same transaction.

What SQLAlchemy does around a statement is kept where it matters to a caller:

* Errors. A driver error (or an interrupt) goes through the ``Connection``'s own
  handling, so the caller gets the exception ``execute`` would raise (the
  ``sqlalchemy.exc`` class, ``connection_invalidated``), and a lost connection
  is invalidated, with the pool's older connections, as SQLAlchemy does it.
* The state checks. A connection that is not plainly ready (no transaction
  begun yet, an inactive transaction or savepoint, a transaction context
  manager closed early, invalidated, closed) runs the statement through
  SQLAlchemy, which begins the transaction or raises its error.

What is not kept: SQLAlchemy's result processing. Values are as psycopg loads
them (an enum column's label is a ``str``, not the Python enum), so the rows are
for validation into typed read types, which accept either: as dicts by column
name (:meth:`Compiled.rows`), or as tuples in column order (:meth:`Compiled.tuples`,
and :func:`tuples_of` for several statements on one cursor) for types validated
from positional values. The few private names of
SQLAlchemy used here are all in this module; the tests hold each behaviour to
what ``Connection.execute`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

import psycopg
from sqlalchemy import Connection, Select, TextualSelect
from sqlalchemy.engine import Dialect


class _Sql(NamedTuple):
    text: str
    # Values of the bind parameters the statement fixes itself (the 0 of "> 0").
    fixed: dict[str, Any]


class Compiled:
    """A ``Select`` (or a ``text()`` given its ``columns``) compiled once; :meth:`rows`
    runs it on a SQLAlchemy ``Connection``.

    Only statements whose parameters need no conversion by SQLAlchemy are accepted
    (no bind processors, no expanding ``IN``): the first run of any other raises
    ``TypeError``.
    """

    def __init__(self, statement: Select[Any] | TextualSelect) -> None:
        self.statement = statement
        # The rows' keys: the statement's column keys, as SQLAlchemy's results name them.
        self.keys = tuple(statement.selected_columns.keys())
        # By dialect and driver: SQLAlchemy renders a statement for both.
        self._by_dialect: dict[tuple[str, str], _Sql] = {}

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every row, as a dict by column name; ``values`` binds the parameters."""
        ((found, keys),) = _fetch(conn, ((self, values),))
        return [dict(zip(keys, row, strict=True)) for row in found]

    def tuples(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row, as a tuple of its values in column order."""
        return _fetch(conn, ((self, values),))[0][0]

    def _sql(self, dialect: Dialect) -> _Sql:
        key = (dialect.name, dialect.driver)
        known = self._by_dialect.get(key)
        if known is None:
            known = self._by_dialect[key] = self._compile(dialect)
        return known

    def _compile(self, dialect: Dialect) -> _Sql:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.positional:
            raise TypeError(f"{dialect.driver}: positional parameters are not supported")
        required: set[str] = set()
        for bind, name in compiled.bind_names.items():
            if bind.expanding:
                raise TypeError(f"bind parameter {name!r} is expanding: run it with execute()")
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise TypeError(f"bind parameter {name!r} needs SQLAlchemy's conversion")
            if bind.required:
                required.add(name)
        fixed = {name: value for name, value in compiled.params.items() if name not in required}
        return _Sql(str(compiled), fixed)


def tuples_of(
    conn: Connection, *statements: tuple[Compiled, Mapping[str, Any]]
) -> list[list[tuple[Any, ...]]]:
    """The rows of each statement, run in turn with its values, as tuples in column
    order: the reads of one screen, sent on one cursor after one check of the
    connection (a cursor and the checks cost about as much as a small read's rows)."""
    return [found for found, _ in _fetch(conn, statements)]


_Fetched = tuple[list[tuple[Any, ...]], tuple[str, ...]]


def _fetch(
    conn: Connection, statements: Sequence[tuple[Compiled, Mapping[str, Any]]]
) -> list[_Fetched]:
    """Each statement's rows and their keys (an unlabelled column's as SQLAlchemy names
    it, when the statement goes through ``execute``)."""
    # Compiled first, so that a refused statement always is.
    sqls = [compiled._sql(conn.dialect) for compiled, _ in statements]
    if not _ready(conn):
        fetched: list[_Fetched] = []
        for compiled, values in statements:
            result = conn.execute(compiled.statement, values)
            fetched.append(([tuple(row) for row in result], tuple(result.keys())))
        return fetched
    cursor = None
    text, parameters = "", {}
    fetched = []
    try:
        cursor = conn.connection.cursor()
        for (compiled, values), sql in zip(statements, sqls, strict=True):
            text, parameters = sql.text, {**sql.fixed, **values}
            cursor.execute(text, parameters)
            # psycopg's rows are tuples (the connection's default row factory).
            fetched.append((cast("list[tuple[Any, ...]]", cursor.fetchall()), compiled.keys))
    except BaseException as exc:
        # Errors of the driver and exits (an interrupt leaves the connection in an
        # unknown state) are SQLAlchemy's to wrap and to invalidate the connection
        # for, as in execute; anything else is a bug here, raised as it is.
        if isinstance(exc, Exception) and not isinstance(exc, psycopg.Error):
            raise
        conn._handle_dbapi_exception(exc, text, parameters, cursor, None)
    finally:
        if cursor is not None:
            cursor.close()
    return fetched


def _ready(conn: Connection) -> bool:
    """Whether ``Connection.execute`` would send a statement on ``conn`` with nothing of
    its own first: the checks of SQLAlchemy's ``_execute_context`` (a live DBAPI
    connection, a transaction begun and active, its savepoint active, no transaction
    context manager closed early), none of which has anything to do then."""
    if conn.closed or conn.invalidated:
        return False
    transaction = conn.get_transaction()
    if transaction is None or not transaction.is_active:
        return False
    nested = conn.get_nested_transaction()
    if nested is not None and not nested.is_active:
        return False
    managed = conn._trans_context_manager
    return managed is None or managed._transaction_is_active()
