"""The press summary ``cidery db status`` and ``make run`` print: runs by status, yield per
variety, outliers.

:func:`summarise` reads it with a :data:`~cidery.db.plain.Fetch` into plain dataclasses,
checking no one's permission: the command line reads it on psycopg alone, as the
database's owner (as the smoke checks do), as it starts. Its statements are those of
:mod:`cidery.press.queries` (:data:`STATEMENTS`), compiled by SQLAlchemy into the SQL
files beside this module (``sql/<name>.sql``, written by :func:`write_sql`, ``make sql``),
because importing SQLAlchemy took longer than the rest of the command: the files are
not a second copy of the queries, and the tests hold each to be what SQLAlchemy makes of
its statement. :func:`press_summary` is the service's call, for an
:class:`~cidery.press.access.Actor` allowed to read press runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cidery.db.plain import Fetch

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

SQL_DIR = Path(__file__).parent / "sql"
_HEADER = "-- Compiled from cidery.press.queries by `make sql`; do not edit.\n"


@dataclass(frozen=True)
class StatusTotals:
    status: str
    runs: int
    loads: int
    kg_pressed: Decimal
    litres: Decimal


@dataclass(frozen=True)
class VarietyYield:
    variety: str
    kg_pressed: Decimal
    litres: Decimal

    @property
    def yield_l_per_kg(self) -> Decimal | None:
        if not self.kg_pressed:
            return None
        return (self.litres / self.kg_pressed).quantize(Decimal("0.001"))


@dataclass(frozen=True)
class Outlier:
    """A completed run whose yield is outside the usual band."""

    start_time: datetime
    vendor_name: str
    extraction_rate: Decimal
    total_apple_weight_kg: Decimal
    total_juice_volume_l: Decimal


@dataclass(frozen=True)
class PressSummary:
    by_status: list[StatusTotals]
    by_variety: list[VarietyYield]
    outliers: list[Outlier]


@cache
def _sql(name: str) -> str:
    # Read once per process: the service's press_summary runs it on every call.
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def summarise(fetch: Fetch) -> PressSummary:
    """The summary as ``fetch``'s connection reads it, checking no one's permission."""
    by_status = [
        StatusTotals(str(r["status"]), r["runs"], r["loads"], r["kg"], r["litres"])
        for r in fetch(_sql("runs_by_status"))
    ]
    by_variety = [
        VarietyYield(r["variety"], r["kg"], r["litres"]) for r in fetch(_sql("yield_by_variety"))
    ]
    outliers = [
        Outlier(
            r["start_time"],
            r["vendor_name"],
            r["extraction_rate"],
            r["total_apple_weight_kg"],
            r["total_juice_volume_l"],
        )
        for r in fetch(_sql("yield_outliers"))
    ]
    return PressSummary(by_status=by_status, by_variety=by_variety, outliers=outliers)


def press_summary(session: Session, actor: object) -> PressSummary:
    """:func:`summarise` for ``actor``, if it may read press runs."""
    from cidery.db.plain import on_sqlalchemy
    from cidery.press.access import Action, require
    from cidery.press.reads import read_connection

    who = require(actor, Action.READ)
    with read_connection(session, who.user_id) as connection:
        return summarise(on_sqlalchemy(connection))


def statements() -> dict[str, Select[Any]]:
    """The summary's statements by name, as :mod:`cidery.press.queries` builds them."""
    from cidery.press import queries
    from cidery.press.rules import YIELD_HIGH, YIELD_LOW

    return {
        "runs_by_status": queries.RUNS_BY_STATUS,
        "yield_by_variety": queries.YIELD_BY_VARIETY,
        "yield_outliers": queries.yield_outliers(YIELD_LOW, YIELD_HIGH),
    }


def compiled_sql() -> dict[str, str]:
    """What each ``sql/<name>.sql`` file is to hold: its statement compiled for psycopg,
    its values written in (they are the queries' own constants)."""
    from sqlalchemy import create_engine

    # An engine that never connects (none is opened before the first use): its dialect.
    dialect = create_engine("postgresql+psycopg://").dialect
    compiled = {
        name: str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        for name, statement in statements().items()
    }
    # SQLAlchemy ends its lines with a space; the files' lines end without.
    return {
        name: _HEADER + "".join(line.rstrip() + "\n" for line in sql.splitlines())
        for name, sql in compiled.items()
    }


def write_sql() -> list[Path]:
    """Write the summary's SQL files from its statements; the paths written."""
    written = []
    for name, sql in compiled_sql().items():
        path = SQL_DIR / f"{name}.sql"
        path.write_text(sql, encoding="utf-8")
        written.append(path)
    return written
