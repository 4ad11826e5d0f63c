"""The press summary of ``cidery db status``: its SQL files are its queries, compiled, and
it reads the same on psycopg alone as through SQLAlchemy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection

from cidery.db.plain import on_psycopg, on_sqlalchemy
from cidery.press import report
from tests.press.support import World


def test_the_sql_files_are_what_sqlalchemy_makes_of_the_queries() -> None:
    files = {path.stem: path.read_text(encoding="utf-8") for path in report.SQL_DIR.glob("*.sql")}
    assert files == report.compiled_sql(), "the press summary's SQL is stale: run `make sql`"


def _as_the_queries_read_it(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Each statement run through SQLAlchemy as built, its values bound, not written in."""
    return {
        name: [dict(row) for row in connection.execute(statement).mappings()]
        for name, statement in report.statements().items()
    }


def test_the_summary_is_what_the_queries_read(w: World) -> None:
    low = w.start()
    w.load(low, "100")
    w.complete(low, "30")
    usual = w.start()
    w.load(usual, "200")
    w.complete(usual, "130")
    w.load(w.start(), "50")
    w.cancelled_run()
    read = _as_the_queries_read_it(w.session.connection())
    summary = report.summarise(on_sqlalchemy(w.session.connection()))

    assert [(s.status, s.runs, s.loads, s.kg_pressed, s.litres) for s in summary.by_status] == [
        (r["status"].value, r["runs"], r["loads"], r["kg"], r["litres"])
        for r in read["runs_by_status"]
    ]
    assert {s.status: s.runs for s in summary.by_status}["completed"] >= 2
    assert [(v.variety, v.kg_pressed, v.litres) for v in summary.by_variety] == [
        (r["variety"], r["kg"], r["litres"]) for r in read["yield_by_variety"]
    ]
    outliers = [(o.start_time, o.vendor_name, o.extraction_rate) for o in summary.outliers]
    assert outliers == [
        (r["start_time"], r["vendor_name"], r["extraction_rate"]) for r in read["yield_outliers"]
    ]
    # The 0.30 L/kg run is listed, the 0.65 one is not (each test's data is its own).
    assert [rate for _, vendor, rate in outliers if vendor == w.vendor.name] == [Decimal("0.3")]


def test_psycopg_alone_reads_what_sqlalchemy_reads(w: World) -> None:
    w.completed_run()
    w.session.commit()
    connection = w.session.connection()
    beneath = connection.connection.driver_connection
    assert beneath is not None
    # The same transaction, so the same rows: what differs is only the way there.
    assert report.summarise(on_psycopg(beneath)) == report.summarise(on_sqlalchemy(connection))


@pytest.mark.parametrize("make_fetch", [on_psycopg, on_sqlalchemy])
def test_a_statement_with_a_percent_sign_is_refused(
    connection: Connection, make_fetch: Any
) -> None:
    target = connection.connection.driver_connection if make_fetch is on_psycopg else connection
    with pytest.raises(ValueError, match="holds a '%'"):
        make_fetch(target)("SELECT 7 % 2")
