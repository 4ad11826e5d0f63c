"""The API types against the tables they mirror, their validation, and their export."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError, create_model
from pydantic.dataclasses import dataclass
from sqlalchemy import Connection, Table, inspect
from sqlalchemy.orm import Session

from cidery import export
from cidery.export import EXPORTED
from cidery.models import Base, Batch, PressRunBatch, pressing
from cidery.models.enums import PressRunStatus, Unit
from cidery.press.schemas import (
    READ_TYPES_BY_TABLE,
    FruitWriteOffRead,
    PressRunComplete,
    PressRunLoadCreate,
    PressRunLoadRead,
    PressRunRead,
    read_row,
)
from tests.factories import Factory

START = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)
CLI = Path(sys.executable).parent / "cidery"

# --- parity with the tables ------------------------------------------------------------------


# A read type is a model or a validated dataclass (schemas.PressRunRead): both have their
# fields in __pydantic_fields__ and are validated through a TypeAdapter.


def fields_of(model: type[Any]) -> dict[str, Any]:
    return dict(model.__pydantic_fields__)


def validate(model: type[Any], data: Any) -> Any:
    return TypeAdapter(model).validate_python(data)


def columns_of(row: Base) -> dict[str, Any]:
    """A flushed ORM row's columns, as a RETURNING row has them."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def field_problems(model: type[Any], table: Table) -> list[str]:
    """Columns without a field and fields without a column, by name."""
    columns = set(table.columns.keys())
    fields = set(fields_of(model))
    return [
        f"{model.__name__} has no field for column {table.name}.{name}"
        for name in sorted(columns - fields)
    ] + [
        f"{model.__name__}.{name} is not a column of {table.name}"
        for name in sorted(fields - columns)
    ]


def accepts_none(model: type[Any], valid: dict[str, Any], name: str) -> bool:
    try:
        validate(model, {**valid, name: None})
    except ValidationError:
        return False
    return True


def nullability_problems(model: type[Any], table: Table, valid: dict[str, Any]) -> list[str]:
    """Columns whose nullability the field disagrees with; ``valid`` is a valid instance's data."""
    problems = []
    for column in table.columns:
        if column.name not in fields_of(model):
            continue
        takes_none = accepts_none(model, valid, column.name)
        if column.nullable and not takes_none:
            problems.append(f"{model.__name__}.{column.name} refuses None; the column is nullable")
        if not column.nullable and takes_none:
            problems.append(f"{model.__name__}.{column.name} accepts None; the column is NOT NULL")
    return problems


@pytest.fixture
def stored(make: Factory, session: Session) -> dict[str, Base]:
    """One flushed row per table in READ_TYPES_BY_TABLE, with every nullable column set."""
    run = make.run(
        status=PressRunStatus.COMPLETED,
        vessel_id=make.vessel().id,
        start_time=START,
        end_time=START + timedelta(hours=6),
        total_apple_weight_kg=Decimal("1000"),
        juice_volume=Decimal("650"),
        juice_volume_unit=Unit.LITRE,
        total_juice_volume_l=Decimal("650"),
        labor_hours=Decimal("6.5"),
        worker_count=3,
        notes="first pressing",
        pomace_kg=Decimal("340"),
        labor_rate=Decimal("25.00"),
    )
    load = make.load(
        run,
        make.purchase_item(),
        weight=Decimal("100"),
        unit=Unit.LB,
        gross_weight=Decimal("160"),
        tare_weight=Decimal("60"),
        juice_volume_l=Decimal("28.5"),
        brix=Decimal("12.40"),
        ph=Decimal("3.45"),
        notes="bin 7",
    )
    batch = Batch(
        batch_number="2024-R0001-A",
        vessel_id=run.vessel_id,
        start_date=START.date(),
        initial_volume_l=Decimal("650"),
        current_volume_l=Decimal("650"),
    )
    session.add(batch)
    session.flush()
    link = PressRunBatch(
        press_run_id=run.id, batch_id=batch.id, volume_l=Decimal("650"), created_by=None
    )
    session.add(link)
    session.flush()
    return {"press_runs": run, "press_run_loads": load, "press_run_batches": link}


def test_every_pressing_table_has_its_read_type() -> None:
    """A table added to the pressing models without a Read type fails here, not in the API."""
    pressing_tables = {
        mapper.local_table.name
        for mapper in Base.registry.mappers
        if mapper.class_.__module__ == pressing.__name__
    }
    assert pressing_tables == set(READ_TYPES_BY_TABLE)
    for table, read_type in READ_TYPES_BY_TABLE.items():
        assert read_type.__name__.endswith("Read"), table


@pytest.mark.parametrize("table_name", sorted(READ_TYPES_BY_TABLE))
def test_read_type_has_one_field_per_column(table_name: str, connection: Connection) -> None:
    table = Base.metadata.tables[table_name]
    assert field_problems(READ_TYPES_BY_TABLE[table_name], table) == []
    # ...and the columns are the migrated table's, not just the model's.
    migrated = {c["name"]: c["nullable"] for c in inspect(connection).get_columns(table_name)}
    assert migrated == {c.name: c.nullable for c in table.columns}


@pytest.mark.parametrize("table_name", sorted(READ_TYPES_BY_TABLE))
def test_read_type_nullability_matches_the_columns(
    table_name: str, stored: dict[str, Base]
) -> None:
    model = READ_TYPES_BY_TABLE[table_name]
    valid = columns_of(stored[table_name])
    table = Base.metadata.tables[table_name]
    assert nullability_problems(model, table, valid) == []


def test_the_write_off_read_type_has_one_field_per_column() -> None:
    # fruit_write_offs is a purchasing table: checked here rather than in READ_TYPES_BY_TABLE,
    # which holds the pressing tables.
    table = Base.metadata.tables["fruit_write_offs"]
    assert field_problems(FruitWriteOffRead, table) == []
    for column in table.columns:
        takes_none = type(None) in getattr(
            FruitWriteOffRead.model_fields[column.name].annotation, "__args__", ()
        )
        assert takes_none == column.nullable, column.name


def test_the_parity_checks_name_what_is_wrong(stored: dict[str, Base]) -> None:
    table = Base.metadata.tables["press_runs"]
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in fields_of(PressRunRead).items()
        if name != "labor_hours"
    }
    missing = create_model("MissingLaborHours", __base__=BaseModel, **fields)

    @dataclass(frozen=True)
    class Extra(PressRunRead):
        vendor_name: str

    @dataclass(frozen=True)
    class WrongNulls(PressRunRead):
        notes: str  # type: ignore[assignment]
        vendor_id: uuid.UUID | None  # type: ignore[assignment]

    assert field_problems(missing, table) == [
        "MissingLaborHours has no field for column press_runs.labor_hours"
    ]
    assert field_problems(Extra, table) == ["Extra.vendor_name is not a column of press_runs"]
    valid = columns_of(stored["press_runs"])
    assert nullability_problems(WrongNulls, table, valid) == [
        "WrongNulls.vendor_id accepts None; the column is NOT NULL",
        "WrongNulls.notes refuses None; the column is nullable",
    ]


def test_a_read_type_round_trips_a_flushed_orm_row(
    stored: dict[str, Base],
) -> None:
    for table_name, model in READ_TYPES_BY_TABLE.items():
        row = stored[table_name]
        read = read_row(model, columns_of(row))
        for column in Base.metadata.tables[table_name].columns:
            assert getattr(read, column.name) == getattr(row, column.name), column.name
        adapter = TypeAdapter(model)
        assert adapter.validate_json(adapter.dump_json(read)) == read
    run = read_row(PressRunRead, columns_of(stored["press_runs"]))
    assert run.extraction_rate == Decimal("0.6500")  # generated by the database
    assert run.created_at is not None
    load = read_row(PressRunLoadRead, columns_of(stored["press_run_loads"]))
    assert (load.weight, load.weight_unit, load.weight_kg) == (
        Decimal("100"),
        "lb",
        Decimal("45.359"),
    )


# --- input validation ---------------------------------------------------------------------

LOAD = {"purchase_item_id": str(uuid.uuid4()), "weight": "100", "weight_unit": "lb"}


def test_a_valid_load_entry_and_its_kilograms() -> None:
    load = PressRunLoadCreate.model_validate(LOAD)
    assert load.weight == Decimal("100")
    assert load.weight_kg == Decimal("45.359")
    assert PressRunLoadCreate.model_validate({**LOAD, "weight_unit": "kg"}).weight_kg == Decimal(
        "100.000"
    )
    # The largest weight a numeric(10,3) column holds, and the Brix/pH limits, pass.
    assert PressRunLoadCreate.model_validate(
        {**LOAD, "weight": "9999999.999", "brix": "40", "ph": "0"}
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight", "0"),
        ("weight", "-1"),
        ("weight", "NaN"),
        ("weight", Decimal("NaN")),
        ("weight", "Infinity"),
        ("weight", float("inf")),
        ("weight", "1.2345"),  # more than 3 decimals
        ("weight", "10000000"),  # more than numeric(10,3) holds
        ("weight_unit", "bushel"),
        ("weight_unit", "L"),
        ("brix", "40.01"),
        ("ph", "14.01"),
        ("ph", "-0.01"),
        ("juice_volume_l", "0"),
        ("colour", "red"),  # not a field
    ],
)
def test_a_bad_load_entry_is_rejected(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        PressRunLoadCreate.model_validate({**LOAD, field: value})
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]


def test_completing_a_run_in_gallons_gives_litres() -> None:
    complete = PressRunComplete.model_validate(
        {"juice_volume": "10", "juice_volume_unit": "gal", "vessel_id": str(uuid.uuid4())}
    )
    assert complete.juice_volume_l == Decimal("37.854")


# --- JSON Schema export ---------------------------------------------------------------------


def assert_schemas_written(directory: Path) -> None:
    expected = {f"{model.__name__}.schema.json": model for model in EXPORTED}
    assert {path.name for path in directory.iterdir()} == set(expected)
    for name, model in expected.items():
        schema = json.loads((directory / name).read_text())
        assert schema["title"] == model.__name__
        # Models and dataclasses (PressRunRead, AvailableFruit) alike.
        if dataclasses.is_dataclass(model):
            fields = {field.name for field in dataclasses.fields(model)}
        else:
            fields = set(model.model_fields)
        assert set(schema["properties"]) == fields, name


def test_export_writes_one_schema_per_type(tmp_path: Path) -> None:
    written = export.export(tmp_path / "types")
    assert len(written) == len(EXPORTED)
    assert_schemas_written(tmp_path / "types")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_cli_exports_the_schemas(tmp_path: Path) -> None:
    result = run_cli("types", "export", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert_schemas_written(tmp_path / "out")
    assert result.stdout.count("wrote ") == len(EXPORTED)


def test_the_cli_refuses_a_file_as_the_directory(tmp_path: Path) -> None:
    target = tmp_path / "not-a-directory"
    target.write_text("keep me\n")
    result = run_cli("types", "export", str(target))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert str(target) in lines[0]
    assert target.read_text() == "keep me\n"
