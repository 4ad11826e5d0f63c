"""docs/api.md keeps up with the app: every error code and every route is documented."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI

from cidery.api.app import PREFIX
from cidery.api.problems import STATUSES

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _rows() -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in API_DOC.read_text().splitlines()
        if line.startswith("| ")
    ]


def test_the_error_catalogue_lists_every_code_with_its_status() -> None:
    documented = {
        row[0].strip("`"): row[1] for row in _rows() if re.fullmatch(r"`[a-z_]+`", row[0])
    }
    expected = {code: str(status) for code, (status, _) in STATUSES.items()}
    assert {code: documented.get(code) for code in expected} == expected, (
        "docs/api.md's error table must list each code of cidery.api.problems.STATUSES "
        "with its status"
    )


def test_the_resources_table_lists_every_route(api_app: FastAPI) -> None:
    documented = {
        (row[0], row[1].strip("`")) for row in _rows() if row[0] in ("GET", "POST", "PATCH")
    }
    served = {
        (method.upper(), path.removeprefix(PREFIX))
        for path, operations in api_app.openapi()["paths"].items()
        for method in operations
    }
    assert served == documented
