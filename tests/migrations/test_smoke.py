"""``cidery db smoke``: the checks pass on a sound database and each one catches its fault.

Faults are made inside the test's rolled-back transaction (PostgreSQL DDL is
transactional too) and the checks run on that same connection, which is what
the savepoint-per-check design of :mod:`cidery.migrations.checks.smoke` allows.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from cidery.db.engine import make_engine, transaction
from cidery.migrations.checks import smoke
from cidery.sample.seed import seed

CHECK_NAMES = [
    "server_version",
    "migration_revision",
    "tables_exist",
    "purchase_item_quantities",
    "purchase_totals",
    "vessel_capacity",
    "foreign_key_indexes",
    "updated_at_triggers",
    "constraints_validated",
    "juice_lot_litres",
    "juice_lot_costs",
]


def failures(results: list[smoke.CheckResult]) -> dict[str, str]:
    return {result.name: result.detail for result in results if not result.ok}


def test_every_check_passes_on_a_seeded_database(session: Session, connection: Connection) -> None:
    seed(session)

    results = smoke.run(connection)

    assert [result.name for result in results] == CHECK_NAMES
    assert failures(results) == {}
    details = {result.name: result.detail for result in results}
    assert details["server_version"].startswith("PostgreSQL ")
    assert details["purchase_item_quantities"] == "13 line(s) agree"
    assert details["juice_lot_litres"] == "the lots of 1 run(s) hold their juice"
    assert details["juice_lot_costs"] == "all 2 juice lot(s) costed"


def test_lots_with_an_incomplete_cost_are_listed_without_failing(
    session: Session, connection: Connection
) -> None:
    seed(session)
    connection.execute(
        text(
            "UPDATE batch_costs SET total_apple_cost = NULL, total_cost = NULL, cost_per_l = NULL"
            " WHERE batch_id = (SELECT id FROM batches WHERE batch_number LIKE '%-A'"
            "  AND id IN (SELECT batch_id FROM press_run_batches))"
        )
    )
    connection.execute(
        text(
            "UPDATE cogs_items SET cost = NULL WHERE item_type = 'apples' AND batch_id ="
            " (SELECT id FROM batches WHERE batch_number LIKE '%-A'"
            "  AND id IN (SELECT batch_id FROM press_run_batches))"
        )
    )
    [result] = [r for r in smoke.run(connection) if r.name == "juice_lot_costs"]
    assert result.ok
    assert result.detail.startswith("1 of 2 juice lot(s) with an incomplete cost")
    assert "-A: 2 line(s) without a price" in result.detail


def test_checks_pass_on_committed_data_through_a_fresh_connection(clone_url: str) -> None:
    # The CLI's path: seed committed by one session, checks on a new connection
    # that has no transaction open yet.
    engine = make_engine(clone_url)
    try:
        with transaction(engine) as session:
            seed(session)
        with engine.connect() as connection:
            assert failures(smoke.run(connection)) == {}
    finally:
        engine.dispose()


BREAKAGES = [
    pytest.param(
        "purchase_item_quantities",
        # One unit in the last stored place is already wrong.
        [
            "UPDATE purchase_items SET quantity_kg = quantity_kg + 0.001"
            " WHERE unit = 'bushel' AND quantity = 20"
        ],
        "HHO-2024-0917 McIntosh",
        id="quantity_kg-off-by-a-gram",
    ),
    pytest.param(
        "purchase_totals",
        ["UPDATE purchases SET total_cost = total_cost + 0.01 WHERE invoice_number = 'OM-24-118'"],
        "OM-24-118: total 1283.01, lines sum to 1283.00",
        id="purchase-total-off-by-a-cent",
    ),
    pytest.param(
        "purchase_totals",
        [
            "UPDATE purchase_items SET deleted_at = now() WHERE purchase_id ="
            " (SELECT id FROM purchases WHERE invoice_number = 'BCF-1031') AND quantity = 600"
        ],
        "BCF-1031",
        id="deleted-line-still-in-total",
    ),
    pytest.param(
        "vessel_capacity",
        [
            "ALTER TABLE vessels DROP CONSTRAINT vessels_capacity_l_positive_check",
            "UPDATE vessels SET capacity_l = 0 WHERE name = 'BT-1'",
        ],
        "BT-1: 0.000 L",
        id="zero-capacity",
    ),
    pytest.param(
        "foreign_key_indexes",
        ["DROP INDEX purchase_items_purchase_id_idx"],
        "purchase_items(purchase_id)",
        id="unindexed-foreign-key",
    ),
    pytest.param(
        "foreign_key_indexes",
        [
            "DROP INDEX purchase_items_purchase_id_idx",
            "CREATE INDEX partial_idx ON purchase_items (purchase_id) WHERE deleted_at IS NULL",
        ],
        "purchase_items(purchase_id)",
        id="only-a-partial-index",
    ),
    pytest.param(
        "updated_at_triggers",
        ["DROP TRIGGER vessels_set_updated_at ON vessels"],
        "vessels",
        id="missing-trigger",
    ),
    pytest.param(
        "updated_at_triggers",
        ["ALTER TABLE vessels DISABLE TRIGGER vessels_set_updated_at"],
        "vessels",
        id="disabled-trigger",
    ),
    pytest.param(
        "constraints_validated",
        [
            "ALTER TABLE vessels ADD CONSTRAINT vessels_capacity_l_cap_check"
            " CHECK (capacity_l <= 100000) NOT VALID"
        ],
        "vessels.vessels_capacity_l_cap_check",
        id="not-valid-constraint",
    ),
    pytest.param(
        "juice_lot_litres",
        # Deferred: the trigger would refuse this at the commit the test never makes.
        ["UPDATE press_run_batches SET volume_l = volume_l - 1 WHERE volume_l = 200"],
        "its lots hold 459.000 L, the run gave 460.000 L",
        id="lots-short-of-the-juice",
    ),
    pytest.param(
        "tables_exist",
        ["DROP TABLE audit_logs"],
        "1 table(s) missing: audit_logs",
        id="missing-table",
    ),
    pytest.param(
        "migration_revision",
        ["UPDATE alembic_version SET version_num = '0001'"],
        "database at 0001",
        id="behind-head",
    ),
]


@pytest.mark.parametrize(("check", "statements", "named"), BREAKAGES)
def test_each_check_fails_on_its_fault_and_only_that_check_does(
    session: Session, connection: Connection, check: str, statements: list[str], named: str
) -> None:
    seed(session)
    for statement in statements:
        connection.execute(text(statement))

    failed = failures(smoke.run(connection))

    assert set(failed) == {check}
    assert named in failed[check]


def test_a_check_that_errors_fails_alone_and_the_connection_stays_usable(
    connection: Connection,
) -> None:
    def broken(conn: Connection) -> tuple[bool, str]:
        conn.execute(text("SELECT * FROM no_such_table"))
        return True, "unreachable"

    result = smoke.run_check(connection, smoke.Check("broken", broken))

    assert not result.ok
    assert "UndefinedTable" in result.detail
    assert "no_such_table" in result.detail
    assert failures(smoke.run(connection)) == {}


def test_checks_cannot_write_and_the_read_only_mode_does_not_leak(
    connection: Connection,
) -> None:
    def writer(conn: Connection) -> tuple[bool, str]:
        conn.execute(text("INSERT INTO vendors (name) VALUES ('written by a check')"))
        return True, "wrote"

    result = smoke.run_check(connection, smoke.Check("writer", writer))
    smoke.run(connection)

    assert not result.ok
    assert "read-only" in result.detail
    # The caller's transaction is writable as before.
    connection.execute(text("INSERT INTO vendors (name) VALUES ('written by the caller')"))
    names = connection.execute(text("SELECT name FROM vendors")).scalars().all()
    assert names == ["written by the caller"]


def test_an_aborted_transaction_is_reported_not_raised(connection: Connection) -> None:
    with pytest.raises(ProgrammingError, match="no_such_table"):
        connection.execute(text("SELECT * FROM no_such_table"))

    results = smoke.run(connection)

    assert [result.name for result in results] == CHECK_NAMES
    assert all(not result.ok and "InFailedSqlTransaction" in result.detail for result in results)
