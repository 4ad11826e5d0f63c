"""JSON Schema of the API types, one file per type, for front-end type generators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from cidery.catalog import schemas as catalog_schemas
from cidery.errors import CideryError
from cidery.press import schemas as press_schemas
from cidery.press.schemas import InputModel

# Every type the API sends or receives: the press workflow's, then the catalog's. Models,
# and dataclasses (a table's row, press_schemas.PressRunRead; the lines of a long list,
# press_schemas.AvailableFruit).
EXPORTED: tuple[type[Any], ...] = press_schemas.EXPORTED + catalog_schemas.EXPORTED


def schema_of(model: type[Any]) -> dict[str, Any]:
    # Inputs are validated; everything else is what the API serialises.
    if issubclass(model, InputModel):
        return TypeAdapter(model).json_schema(mode="validation")
    return TypeAdapter(model).json_schema(mode="serialization")


def export(directory: Path) -> list[Path]:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CideryError(f"cannot create {directory}: {exc.strerror}") from exc
    if not directory.is_dir():
        raise CideryError(f"{directory} is not a directory")
    written = []
    for model in EXPORTED:
        path = directory / f"{model.__name__}.schema.json"
        try:
            path.write_text(json.dumps(schema_of(model), indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            raise CideryError(f"cannot write {path}: {exc.strerror}") from exc
        written.append(path)
    return written
