"""Statements without parameters, run alike through SQLAlchemy or through psycopg alone.

``cidery db status`` reads the revision a database is at, its tables' rows and the press
summary on a psycopg connection: importing SQLAlchemy took longer than everything else
the command does. The service and the migration runner read the same things on a
SQLAlchemy ``Connection``. A reader here takes a :data:`Fetch`, so each of those reads
is written once and runs on either: :func:`on_psycopg` or :func:`on_sqlalchemy` makes
one, and each hands back the rows by column name, with values as psycopg loads them
(SQLAlchemy's ``exec_driver_sql`` converts nothing).

The text is sent as it is: no parameters, so no placeholders. SQLAlchemy still has
psycopg look for placeholders in it, and psycopg alone does not, so a ``%`` would mean
one thing to one and another to the other: :func:`on_psycopg` and :func:`on_sqlalchemy`
refuse any statement holding one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from psycopg.rows import dict_row

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy import Connection

Rows = Sequence[Mapping[str, Any]]
Fetch = Callable[[str], Rows]


def _checked(sql: str) -> str:
    if "%" in sql:
        raise ValueError(f"a statement without parameters holds a '%': {sql[:60]!r}")
    return sql


def on_psycopg(conn: psycopg.Connection[Any]) -> Fetch:
    """Statements run on ``conn``, in its transaction (or autocommit)."""

    def fetch(sql: str) -> Rows:
        with conn.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(_checked(sql)).fetchall()

    return fetch


def on_sqlalchemy(conn: Connection) -> Fetch:
    """Statements run on ``conn``, in its transaction, beginning it as ``execute`` would."""

    def fetch(sql: str) -> Rows:
        # A RowMapping is a Mapping by column name.
        return cast(Rows, conn.exec_driver_sql(_checked(sql)).mappings().all())

    return fetch
