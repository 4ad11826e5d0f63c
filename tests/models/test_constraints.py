"""The database itself refuses bad rows, and says which rule a row broke.

One valid row is inserted in every table; each case then breaks exactly one
rule on it inside a savepoint and expects PostgreSQL to name the constraint.
Every CHECK constraint of the models must have a case here, and every foreign
key gets one generated from the metadata, so a new rule cannot go untested.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import CheckConstraint, Connection, ForeignKeyConstraint, Numeric, text
from sqlalchemy.exc import IntegrityError

from cidery.models import Base
from cidery.models.base import tables_with_updated_at

Ids = dict[str, uuid.UUID]

# One valid row per table, in an order that satisfies the foreign keys; each
# function gets the ids of the rows inserted before it.
VALID_ROWS: dict[str, Callable[[Ids], dict[str, Any]]] = {
    "users": lambda ids: {
        "email": "ann@example.com",
        "name": "Ann Cellarer",
        "password_hash": "not-a-real-hash",
        "role": "operator",
    },
    "vendors": lambda ids: {"name": "Hillside Orchard", "contact_info": '{"phone": "555-0100"}'},
    "apple_varieties": lambda ids: {"name": "Kingston Black", "typical_brix": Decimal("14.5")},
    "vessels": lambda ids: {"name": "Tank 1", "type": "fermenter", "capacity_l": 1000},
    "audit_logs": lambda ids: {
        "table_name": "vendors",
        "record_id": ids["vendors"],
        "operation": "insert",
        "new_data": '{"name": "Hillside Orchard"}',
        "changed_by": ids["users"],
    },
    "purchases": lambda ids: {
        "vendor_id": ids["vendors"],
        "purchase_date": date(2025, 10, 1),
        "invoice_number": "INV-1",
        "total_cost": 100,
    },
    "purchase_items": lambda ids: {
        "purchase_id": ids["purchases"],
        "apple_variety_id": ids["apple_varieties"],
        "quantity": 110,
        "unit": "kg",
        "quantity_kg": 110,
        "price_per_unit": 1,
        "total_cost": 110,
    },
    "batches": lambda ids: {
        "batch_number": "B-001",
        "vessel_id": ids["vessels"],
        "start_date": date(2025, 10, 2),
        "initial_volume_l": 100,
        "current_volume_l": 90,
        "target_abv": Decimal("6.5"),
        "actual_abv": Decimal("6.2"),
    },
    "batch_measurements": lambda ids: {
        "batch_id": ids["batches"],
        "specific_gravity": Decimal("1.050"),
        "brix": 12,
        "ph": Decimal("3.5"),
        "abv": 0,
        "temperature_c": 18,
        "volume_l": 100,
        "measured_by": ids["users"],
    },
    "batch_costs": lambda ids: {
        "batch_id": ids["batches"],
        "total_apple_cost": 100,
        "labor_cost": 10,
        "overhead_cost": 5,
        "packaging_cost": 5,
        "total_cost": 120,
        "cost_per_bottle": Decimal("1.2"),
        "cost_per_l": Decimal("1.6"),
    },
    "cogs_items": lambda ids: {
        "batch_id": ids["batches"],
        "item_type": "packaging",
        "description": "crown caps",
        "cost": 10,
        "quantity": 2,
        "unit": "kg",
    },
    "packages": lambda ids: {
        "batch_id": ids["batches"],
        "package_date": date(2025, 12, 1),
        "volume_packaged_l": 75,
        "bottle_size_ml": 750,
        "bottle_count": 100,
        "abv_at_packaging": Decimal("6.2"),
    },
    "inventory": lambda ids: {
        "package_id": ids["packages"],
        "current_bottle_count": 100,
        "reserved_bottle_count": 10,
    },
    "inventory_transactions": lambda ids: {
        "inventory_id": ids["inventory"],
        "transaction_type": "production",
        "quantity_change": 100,
        "created_by": ids["users"],
    },
    "press_runs": lambda ids: {
        "vendor_id": ids["vendors"],
        "vessel_id": ids["vessels"],
        "status": "in_progress",
        "total_apple_weight_kg": 100,
        "juice_volume": 60,
        "juice_volume_unit": "L",
        "total_juice_volume_l": 60,
        "labor_hours": 2,
        "worker_count": 2,
        "pomace_kg": 35,
        "labor_rate": 25,
        "created_by": ids["users"],
    },
    "press_run_loads": lambda ids: {
        "press_run_id": ids["press_runs"],
        "purchase_item_id": ids["purchase_items"],
        "apple_variety_id": ids["apple_varieties"],
        "load_sequence": 1,
        "weight": 100,
        "weight_unit": "kg",
        "weight_kg": 100,
        "gross_weight": 120,
        "tare_weight": 20,
        "juice_volume_l": 60,
        "brix": 12,
        "ph": Decimal("3.5"),
    },
    "press_run_batches": lambda ids: {
        "press_run_id": ids["press_runs"],
        "batch_id": ids["batches"],
        "volume_l": 60,
        "created_by": ids["users"],
    },
    "fruit_write_offs": lambda ids: {
        "purchase_item_id": ids["purchase_items"],
        "weight_kg": 10,
        "reason": "rotten",
        "created_by": ids["users"],
    },
    "api_tokens": lambda ids: {
        "user_id": ids["users"],
        "name": "scale reader",
        "token_hash": bytes(32),
        "prefix": "cidery_abcde",
    },
    "auth_sessions": lambda ids: {
        "user_id": ids["users"],
        "token_hash": bytes(32),
        "csrf_token": "c" * 43,
        "expires_at": datetime(2999, 1, 1, tzinfo=UTC),
    },
    "sign_in_throttles": lambda ids: {"scope": "account:sam@example.com", "failures": 3},
    "idempotency_keys": lambda ids: {
        "user_id": ids["users"],
        "key": "5f0c6c1e-0b5e-4e5e-9d61-2d1f7a0e9c11",
        "method": "POST",
        "path": "/api/v1/press-runs",
        "fingerprint": bytes(32),
        "response_status": 201,
        "response_body": "{}",
        "expires_at": datetime(2999, 1, 1, tzinfo=UTC),
    },
}


# Tables keyed by something else than an id: their valid row is found by its ctid
# (stable here, as each case changes the row once, inside a savepoint).
KEYLESS = frozenset(
    name for name, table in Base.metadata.tables.items() if "id" not in table.columns
)


def row_key(table: str) -> str:
    """The WHERE clause that finds the valid row of ``table`` from ``:id``."""
    return "ctid = CAST(:id AS tid)" if table in KEYLESS else "id = :id"


def insert(connection: Connection, table: str, values: dict[str, Any]) -> Any:
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    key = "ctid::text" if table in KEYLESS else "id"
    statement = text(f"INSERT INTO {table} ({columns}) VALUES ({params}) RETURNING {key}")
    return connection.execute(statement, values).scalar_one()


def insert_valid_rows(connection: Connection) -> Ids:
    ids: Ids = {}
    for table, values in VALID_ROWS.items():
        ids[table] = insert(connection, table, values(ids))
    return ids


@pytest.fixture
def ids(connection: Connection) -> Ids:
    return insert_valid_rows(connection)


def assert_rejected(
    connection: Connection, constraint: str, statement: str, params: dict[str, Any]
) -> None:
    """The statement fails, inside a savepoint, naming ``constraint``."""
    with pytest.raises(IntegrityError) as caught, connection.begin_nested():
        connection.execute(text(statement), params)
    assert constraint in str(caught.value)
    diag = getattr(caught.value.orig, "diag", None)
    assert diag is not None
    assert diag.constraint_name == constraint


def _drop_constraints(connection: Connection, table: str, names: tuple[str, ...]) -> None:
    for name in names:
        connection.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))


def _constraints(kind: type[Any]) -> dict[str, Any]:
    return {
        str(constraint.name): constraint
        for table in Base.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, kind)
    }


# --- CHECK constraints --------------------------------------------------------------

# Constraint name -> SET clause that breaks it (and, as far as possible, nothing
# else) on the table's valid row. PostgreSQL tests CHECK constraints in name
# order and reports the first that fails, so where a bad value must also break
# a rule that sorts earlier, the case lists that rule to drop first.
CHECK_CASES: dict[str, str | tuple[str, tuple[str, ...]]] = {
    "api_tokens_name_not_blank_check": "name = ' '",
    "api_tokens_token_hash_sha256_check": "token_hash = '\\x00'",
    "auth_sessions_csrf_token_long_enough_check": "csrf_token = 'short'",
    "auth_sessions_expires_after_creation_check": "expires_at = created_at",
    "auth_sessions_token_hash_sha256_check": "token_hash = '\\x00'",
    "idempotency_keys_fingerprint_sha256_check": "fingerprint = '\\x0000'",
    "idempotency_keys_key_not_empty_check": "key = ''",
    "idempotency_keys_response_status_success_check": "response_status = 409",
    "sign_in_throttles_failures_nonnegative_check": "failures = -1",
    "apple_varieties_name_not_blank_check": "name = '   '",
    "apple_varieties_typical_brix_range_check": "typical_brix = 40.01",
    "audit_logs_data_matches_operation_check": "new_data = NULL",
    "batch_costs_components_nonnegative_check": "labor_cost = -1, total_cost = 109",
    "batch_costs_cost_per_bottle_nonnegative_check": "cost_per_bottle = -0.0001",
    "batch_costs_cost_per_l_nonnegative_check": "cost_per_l = -0.0001",
    "batch_costs_total_is_sum_check": "total_cost = 120.01",
    # The unit costs are known: unit_costs_need_total fails too, and sorts later.
    "batch_costs_total_known_when_parts_are_check": "total_cost = NULL",
    "batch_costs_unit_costs_need_total_check": "total_apple_cost = NULL, total_cost = NULL",
    "fruit_write_offs_reason_not_blank_check": "reason = ' '",
    "fruit_write_offs_weight_kg_positive_check": "weight_kg = 0",
    "press_run_batches_volume_l_positive_check": "volume_l = 0",
    "press_run_loads_weigh_tag_complete_check": "tare_weight = NULL",
    "press_run_loads_tare_weight_nonnegative_check": "tare_weight = -1, gross_weight = 99",
    "press_run_loads_tare_below_gross_check": "tare_weight = gross_weight",
    "press_run_loads_weight_is_net_of_tare_check": "gross_weight = 121",
    "press_runs_pomace_kg_positive_check": "pomace_kg = 0",
    "press_runs_labor_rate_nonnegative_check": "labor_rate = -0.01",
    "purchase_items_written_off_kg_nonnegative_check": "written_off_kg = -1",
    "batch_measurements_abv_range_check": "abv = -0.01",
    "batch_measurements_brix_range_check": "brix = 40.01",
    "batch_measurements_has_a_reading_check": (
        "specific_gravity = NULL, brix = NULL, ph = NULL, abv = NULL, "
        "temperature_c = NULL, volume_l = NULL"
    ),
    "batch_measurements_ph_range_check": "ph = -0.01",
    "batch_measurements_specific_gravity_range_check": "specific_gravity = 0.8999",
    "batch_measurements_temperature_range_check": "temperature_c = -20.1",
    "batch_measurements_volume_l_nonnegative_check": "volume_l = -0.001",
    "batches_actual_abv_range_check": "actual_abv = -0.01",
    "batches_current_volume_l_nonnegative_check": "current_volume_l = -0.001",
    "batches_dates_ordered_check": "end_date = start_date - 1",
    "batches_initial_volume_l_positive_check": "initial_volume_l = 0",
    "batches_target_abv_range_check": "target_abv = -0.01",
    "cogs_items_cost_nonnegative_check": "cost = -0.01",
    "cogs_items_quantity_has_unit_check": "unit = NULL",
    "cogs_items_quantity_positive_check": "quantity = 0",
    # Also below the reserved count: reserved_within_current sorts later.
    "inventory_current_bottle_count_nonnegative_check": "current_bottle_count = -1",
    "inventory_reserved_bottle_count_nonnegative_check": "reserved_bottle_count = -1",
    "inventory_reserved_within_current_check": "reserved_bottle_count = 101",
    "inventory_transactions_quantity_change_nonzero_check": "quantity_change = 0",
    "packages_abv_at_packaging_range_check": "abv_at_packaging = -0.01",
    "packages_bottle_count_positive_check": "bottle_count = 0",
    "packages_bottle_size_ml_positive_check": "bottle_size_ml = 0",
    "packages_volume_packaged_l_positive_check": "volume_packaged_l = 0",
    "press_run_loads_brix_range_check": "brix = 40.01",
    "press_run_loads_juice_volume_l_positive_check": "juice_volume_l = 0",
    "press_run_loads_load_sequence_positive_check": "load_sequence = 0",
    "press_run_loads_ph_range_check": "ph = -0.01",
    "press_run_loads_weight_kg_matches_entry_check": "weight_kg = 100.001",
    # Without the weigh tag, whose net the weight must be.
    "press_run_loads_weight_kg_positive_check": (
        "weight = 0, weight_kg = 0, gross_weight = NULL, tare_weight = NULL"
    ),
    # A non-positive weight has a non-positive weight_kg or a mismatching one,
    # and both of those rules sort earlier.
    "press_run_loads_weight_positive_check": (
        "weight = 0, gross_weight = NULL, tare_weight = NULL",
        ("press_run_loads_weight_kg_matches_entry_check",),
    ),
    "press_run_loads_weight_unit_is_weight_check": "weight_unit = 'L'",
    "press_runs_completed_has_outcome_check": "status = 'completed'",
    "press_runs_end_after_start_check": (
        "status = 'cancelled', end_time = start_time - interval '1 minute'"
    ),
    "press_runs_extraction_rate_range_check": "total_apple_weight_kg = 49",
    "press_runs_juice_volume_complete_check": "total_juice_volume_l = NULL",
    "press_runs_juice_volume_positive_check": (
        "juice_volume = 0, total_juice_volume_l = 0, total_apple_weight_kg = 0"
    ),
    "press_runs_juice_volume_unit_is_volume_check": "juice_volume_unit = 'kg'",
    "press_runs_labor_hours_nonnegative_check": "labor_hours = -0.01",
    "press_runs_open_has_no_end_check": "end_time = start_time + interval '1 hour'",
    "press_runs_total_apple_weight_kg_nonnegative_check": "total_apple_weight_kg = -0.001",
    "press_runs_total_juice_volume_l_matches_entry_check": "total_juice_volume_l = 60.001",
    # Positive juice_volume matching total_juice_volume_l makes it positive too,
    # so this rule only fires once those two are out of the way.
    "press_runs_total_juice_volume_l_positive_check": (
        "total_juice_volume_l = 0, total_apple_weight_kg = 0",
        ("press_runs_total_juice_volume_l_matches_entry_check",),
    ),
    "press_runs_worker_count_positive_check": "worker_count = 0",
    "purchase_items_price_per_unit_nonnegative_check": "price_per_unit = -0.0001",
    "purchase_items_pressed_kg_nonnegative_check": "pressed_kg = -1",
    "purchase_items_fruit_within_quantity_check": "written_off_kg = quantity_kg - 99.999",
    # pressed_kg and written_off_kg = 0 first: the valid rows draw a load on the line and
    # write some of it off.
    "purchase_items_quantity_kg_positive_check": (
        "quantity_kg = 0, pressed_kg = 0, written_off_kg = 0"
    ),
    "purchase_items_quantity_l_positive_check": "quantity_l = 0",
    "purchase_items_quantity_positive_check": "quantity = 0",
    "purchase_items_total_cost_nonnegative_check": "total_cost = -0.01",
    "purchase_items_volume_has_quantity_l_check": "unit = 'gal'",
    "purchase_items_weight_has_quantity_kg_check": (
        "quantity_kg = NULL, pressed_kg = 0, written_off_kg = 0"
    ),
    "purchases_total_cost_nonnegative_check": "total_cost = -0.01",
    "users_email_format_check": "email = '@example.com'",
    "users_name_not_blank_check": "name = ''",
    "vendors_contact_info_object_check": "contact_info = '[]'",
    "vendors_name_not_blank_check": "name = ' '",
    "vessels_capacity_l_positive_check": "capacity_l = 0",
    "vessels_name_not_blank_check": "name = ''",
}

CHECKS: dict[str, CheckConstraint] = _constraints(CheckConstraint)


def test_every_check_constraint_has_a_case(connection: Connection) -> None:
    assert sorted(CHECK_CASES) == sorted(CHECKS), (
        "add a case to CHECK_CASES for each new CHECK constraint (and remove old ones)"
    )
    in_database = connection.execute(
        text(
            "SELECT conname FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace "
            "WHERE n.nspname = 'public' AND k.contype = 'c'"
        )
    ).scalars()
    assert sorted(in_database) == sorted(CHECK_CASES)


def test_every_table_has_a_valid_row() -> None:
    assert set(VALID_ROWS) == set(Base.metadata.tables)


def test_valid_rows_are_accepted(connection: Connection, ids: Ids) -> None:
    """The baseline the cases start from: one row in every table, none of them refused."""
    for table in VALID_ROWS:
        count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        assert count == 1, table


@pytest.mark.parametrize("name", sorted(CHECK_CASES))
def test_check_constraint_rejects_bad_row(connection: Connection, ids: Ids, name: str) -> None:
    case = CHECK_CASES[name]
    assignments, shadowing = (case, ()) if isinstance(case, str) else case
    table = CHECKS[name].table.name
    with connection.begin_nested() as savepoint:
        _drop_constraints(connection, table, shadowing)
        assert_rejected(
            connection,
            name,
            f"UPDATE {table} SET {assignments} WHERE {row_key(table)}",
            {"id": ids[table]},
        )
        savepoint.rollback()  # puts back any constraint dropped above


# --- foreign keys -------------------------------------------------------------------

FOREIGN_KEYS: dict[str, ForeignKeyConstraint] = _constraints(ForeignKeyConstraint)


@pytest.mark.parametrize("name", sorted(FOREIGN_KEYS))
def test_foreign_key_rejects_a_missing_parent(connection: Connection, ids: Ids, name: str) -> None:
    """Pointing the valid row at a parent that does not exist is refused, naming the key."""
    constraint = FOREIGN_KEYS[name]
    table = constraint.table.name
    column = constraint.column_keys[0]
    with connection.begin_nested() as savepoint:
        # Other keys over the same column would fire as well: a composite key on
        # the row's table, or a key elsewhere that refers to the column.
        for other_name, other in FOREIGN_KEYS.items():
            referred = [element.column.name for element in other.elements]
            if other_name != name and (
                (other.table is constraint.table and column in other.column_keys)
                or (other.referred_table is constraint.table and column in referred)
            ):
                _drop_constraints(connection, other.table.name, (other_name,))
        assert_rejected(
            connection,
            name,
            f"UPDATE {table} SET {column} = gen_random_uuid() WHERE {row_key(table)}",
            {"id": ids[table]},
        )
        savepoint.rollback()


def test_purchase_of_an_unknown_vendor_is_refused(connection: Connection) -> None:
    assert_rejected(
        connection,
        "purchases_vendor_id_fkey",
        "INSERT INTO purchases (vendor_id, purchase_date) VALUES (:vendor, :day)",
        {"vendor": uuid.uuid4(), "day": date(2025, 10, 1)},
    )


def test_deleting_a_vendor_with_purchases_is_refused(connection: Connection) -> None:
    vendor = insert(connection, "vendors", {"name": "Far Orchard"})
    purchase = insert(
        connection, "purchases", {"vendor_id": vendor, "purchase_date": date(2025, 10, 1)}
    )
    assert_rejected(
        connection, "purchases_vendor_id_fkey", "DELETE FROM vendors WHERE id = :id", {"id": vendor}
    )
    still_there = connection.execute(
        text("SELECT count(*) FROM purchases WHERE id = :id"), {"id": purchase}
    ).scalar_one()
    assert still_there == 1


def _count(connection: Connection, table: str, column: str, value: uuid.UUID) -> int:
    statement = text(f"SELECT count(*) FROM {table} WHERE {column} = :value")
    count: int = connection.execute(statement, {"value": value}).scalar_one()
    return count


def test_deleting_a_purchase_deletes_its_items(connection: Connection) -> None:
    ids: Ids = {}
    for table in ("vendors", "apple_varieties", "purchases", "purchase_items"):
        ids[table] = insert(connection, table, VALID_ROWS[table](ids))
    insert(connection, "purchase_items", {**VALID_ROWS["purchase_items"](ids), "quantity": 5})
    assert _count(connection, "purchase_items", "purchase_id", ids["purchases"]) == 2

    connection.execute(text("DELETE FROM purchases WHERE id = :id"), {"id": ids["purchases"]})

    assert _count(connection, "purchase_items", "purchase_id", ids["purchases"]) == 0
    # The cascade stops at the purchase's own lines: the variety stays.
    assert _count(connection, "apple_varieties", "id", ids["apple_varieties"]) == 1


def test_deleting_a_batch_deletes_its_measurements(connection: Connection) -> None:
    ids: Ids = {}
    for table in ("users", "vessels", "batches", "batch_measurements"):
        ids[table] = insert(connection, table, VALID_ROWS[table](ids))
    assert _count(connection, "batch_measurements", "batch_id", ids["batches"]) == 1

    connection.execute(text("DELETE FROM batches WHERE id = :id"), {"id": ids["batches"]})

    assert _count(connection, "batch_measurements", "batch_id", ids["batches"]) == 0
    assert _count(connection, "users", "id", ids["users"]) == 1


# --- unique partial indexes ---------------------------------------------------------

# Index -> (table, column, the valid row's value spelled so the index sees a duplicate).
LIVE_UNIQUE: dict[str, tuple[str, str, str]] = {
    "vendors_name_key": ("vendors", "name", "HILLSIDE orchard"),
    "apple_varieties_name_key": ("apple_varieties", "name", "kingston black"),
    "users_email_key": ("users", "email", "Ann@Example.COM"),
    "vessels_name_key": ("vessels", "name", "TANK 1"),
    "batches_batch_number_key": ("batches", "batch_number", "B-001"),
    "purchases_vendor_id_invoice_number_key": ("purchases", "invoice_number", "INV-1"),
}


def test_every_unique_partial_index_has_a_case() -> None:
    partial_unique = {
        str(index.name)
        for table in Base.metadata.sorted_tables
        for index in table.indexes
        if index.unique and index.dialect_options["postgresql"]["where"] is not None
    }
    assert sorted(LIVE_UNIQUE) == sorted(partial_unique)


@pytest.mark.parametrize("index", sorted(LIVE_UNIQUE))
def test_live_rows_are_unique_but_deleted_ones_free_the_key(
    connection: Connection, ids: Ids, index: str
) -> None:
    table, column, duplicate = LIVE_UNIQUE[index]
    row = {**VALID_ROWS[table](ids), column: duplicate}
    columns = ", ".join(row)
    params = ", ".join(f":{name}" for name in row)
    statement = f"INSERT INTO {table} ({columns}) VALUES ({params})"

    assert_rejected(connection, index, statement, row)

    connection.execute(
        text(f"UPDATE {table} SET deleted_at = now() WHERE id = :id"), {"id": ids[table]}
    )
    connection.execute(text(statement), row)  # the soft-deleted row no longer counts
    live = connection.execute(
        text(f"SELECT count(*) FROM {table} WHERE {column} = :value AND deleted_at IS NULL"),
        {"value": duplicate},
    ).scalar_one()
    assert live == 1


def test_vendor_names_differing_only_in_case_are_one_vendor(connection: Connection) -> None:
    insert(connection, "vendors", {"name": "Old Mill"})
    assert_rejected(
        connection,
        "vendors_name_key",
        "INSERT INTO vendors (name) VALUES ('old MILL')",
        {},
    )
    # A soft-deleted vendor does not hold its name.
    deleted = insert(connection, "vendors", {"name": "Gone Farm", "deleted_at": date(2024, 1, 1)})
    live = insert(connection, "vendors", {"name": "GONE FARM"})
    assert deleted != live


# --- the updated_at trigger ---------------------------------------------------------


@pytest.mark.parametrize("table", tables_with_updated_at())
def test_updates_set_updated_at(connection: Connection, ids: Ids, table: str) -> None:
    """Whatever the UPDATE says, the trigger stamps updated_at with the transaction's now()."""
    stored = connection.execute(
        text(f"UPDATE {table} SET updated_at = '2000-01-01' WHERE id = :id RETURNING updated_at"),
        {"id": ids[table]},
    ).scalar_one()
    now = connection.execute(text("SELECT now()")).scalar_one()
    assert stored.year != 2000
    assert stored == now


def test_every_updated_at_table_has_the_trigger(connection: Connection) -> None:
    triggered = connection.execute(
        text(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND p.proname = 'set_updated_at' AND t.tgenabled = 'O'"
        )
    ).scalars()
    assert sorted(triggered) == tables_with_updated_at()


# --- NaN ----------------------------------------------------------------------------

# PostgreSQL's numeric accepts 'NaN' and orders it above every number, so a bare
# "> 0" would let it through; every amount CHECK says "<> 'NaN'" as well.
NAN_GUARDED = sorted(
    (table.name, column.name)
    for table in Base.metadata.sorted_tables
    for column in table.columns
    if isinstance(column.type, Numeric)
    and any(
        re.search(rf"\b{column.name} <> 'NaN'", str(constraint.sqltext))
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    )
)


# Columns a CHECK ties to guarded ones, so NaN cannot satisfy it.
NAN_BY_EQUATION = {("batch_costs", "total_cost"), ("press_run_loads", "gross_weight")}


def test_every_numeric_amount_is_nan_guarded() -> None:
    unguarded = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, Numeric)
        and column.computed is None
        and (table.name, column.name) not in NAN_GUARDED
        and (table.name, column.name) not in NAN_BY_EQUATION
        and not any(
            column.name in str(constraint.sqltext) and "<=" in str(constraint.sqltext)
            for constraint in table.constraints
            if isinstance(constraint, CheckConstraint)
        )
    ]
    assert unguarded == []


@pytest.mark.parametrize(
    ("table", "column"), sorted([*NAN_GUARDED, *NAN_BY_EQUATION]), ids=lambda v: str(v)
)
def test_nan_amount_is_refused(connection: Connection, ids: Ids, table: str, column: str) -> None:
    with pytest.raises(IntegrityError), connection.begin_nested():
        connection.execute(
            text(f"UPDATE {table} SET {column} = 'NaN' WHERE id = :id"), {"id": ids[table]}
        )
