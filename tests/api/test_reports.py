"""The season reports over HTTP: yield per variety or grower for a season, and the juice lots
with their cost per litre (an unknown cost is null and the lot not complete).

The API's database is shared by the API tests and committed: these tests use a season of
their own and read back the rows of the grower they made.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cidery.db.engine import transaction
from cidery.models.enums import UserRole
from tests.api.conftest import Account, bearer
from tests.api.support import API, assert_problem
from tests.catalog.lots import Cost, Lot, completed_run_with_lots, pressed_through_the_service
from tests.factories import Factory

SEASON = 2043


@pytest.fixture
def viewer(account: dict[UserRole, Account]) -> dict[str, str]:
    return bearer(account[UserRole.VIEWER])


@pytest.fixture(scope="module")
def pressed(api_engine: Engine) -> dict[str, Any]:
    """A grower's season, committed: a run of two varieties pressed through the service
    (300 kg of A and 100 kg of B giving 200 L), and a run split into two lots, one costed
    and one drawing on a line without a price."""
    with transaction(api_engine) as session:
        make = Factory(session)
        vendor = make.vendor()
        a, b = make.variety(), make.variety()
        line_a = make.purchase_item(vendor=vendor, variety=a)
        line_b = make.purchase_item(vendor=vendor, variety=b)
        pressed_through_the_service(
            session,
            make,
            vendor,
            [(line_a, 300), (line_b, 100)],
            datetime(SEASON, 10, 3, 16, tzinfo=UTC),
        )
        split = completed_run_with_lots(
            session,
            make,
            vendor,
            datetime(SEASON, 10, 9, 12, tzinfo=UTC),
            [
                Lot("700", Cost(apple=Decimal("280.00"), labor=Decimal("35.00"))),
                Lot("300", Cost(apple=None, labor=Decimal("15.00"))),
            ],
            f"{SEASON}-T{vendor.id.hex[:6]}",
        )
        return {
            "vendor": str(vendor.id),
            "vendor_name": vendor.name,
            "a": str(a.id),
            "b": str(b.id),
            "run": str(split.run.id),
            "batches": [str(batch.id) for batch in split.batches],
            "numbers": [batch.batch_number for batch in split.batches],
            "vessels": [vessel.name for vessel in split.vessels],
        }


def test_yield_for_a_season_by_variety_and_by_grower(
    client: TestClient, viewer: dict[str, str], pressed: dict[str, Any]
) -> None:
    answer = client.get(f"{API}/reports/yield", params={"season": SEASON}, headers=viewer)
    assert answer.status_code == 200, answer.text
    rows = {row["group_id"]: row for row in answer.json()}
    assert {k: rows[pressed["a"]][k] for k in ("run_count", "kg_pressed", "juice_l")} == {
        "run_count": 1,
        "kg_pressed": "300.000",
        "juice_l": "150.000",
    }
    assert rows[pressed["b"]]["juice_l"] == "50.000"

    answer = client.get(
        f"{API}/reports/yield", params={"season": SEASON, "group_by": "vendor"}, headers=viewer
    )
    assert answer.status_code == 200, answer.text
    (grower,) = [row for row in answer.json() if row["group_id"] == pressed["vendor"]]
    # The press run and the split run (2,000 kg giving 1,000 L).
    assert grower == {
        "group_id": pressed["vendor"],
        "name": pressed["vendor_name"],
        "run_count": 2,
        "kg_pressed": "2400.000",
        "juice_l": "1200.000",
        "yield_l_per_kg": "0.5000",
    }
    # Another season knows nothing of them.
    answer = client.get(
        f"{API}/reports/yield", params={"season": SEASON + 1, "group_by": "vendor"}, headers=viewer
    )
    assert pressed["vendor"] not in {row["group_id"] for row in answer.json()}


def test_lots_with_their_cost_per_litre_an_unknown_cost_null(
    client: TestClient, viewer: dict[str, str], pressed: dict[str, Any]
) -> None:
    answer = client.get(f"{API}/reports/lots", params={"season": SEASON}, headers=viewer)
    assert answer.status_code == 200, answer.text
    costed, unpriced = [row for row in answer.json() if row["press_run_id"] == pressed["run"]]
    assert costed == {
        "batch_id": pressed["batches"][0],
        "batch_number": pressed["numbers"][0],
        "vessel_id": costed["vessel_id"],
        "vessel_name": pressed["vessels"][0],
        "press_run_id": pressed["run"],
        "vendor_id": pressed["vendor"],
        "vendor_name": pressed["vendor_name"],
        "start_date": f"{SEASON}-10-09",
        "litres": "700.000",
        "total_apple_cost": "280.00",
        "labor_cost": "35.00",
        "total_cost": "315.00",
        "cost_per_l": "0.4500",
        "complete": True,
    }
    assert unpriced["batch_id"] == pressed["batches"][1]
    assert unpriced["litres"] == "300.000"
    assert unpriced["labor_cost"] == "15.00"
    assert [unpriced[k] for k in ("total_apple_cost", "total_cost", "cost_per_l")] == [None] * 3
    assert unpriced["complete"] is False
    # Without a season: every lot, these among them.
    every = client.get(f"{API}/reports/lots", headers=viewer).json()
    assert {row["batch_id"] for row in every} >= set(pressed["batches"])


@pytest.mark.parametrize(
    ("path", "params", "errors"),
    [
        ("yield", {"season": "1899"}, ["season"]),
        ("yield", {"season": "2101"}, ["season"]),
        ("yield", {"season": "twenty"}, ["season"]),
        ("yield", {"season": "2026", "since": "2026-01-01T00:00:00Z"}, ["season"]),
        ("lots", {"season": "0"}, ["season"]),
        ("lots", {"season": "2026-27"}, ["season"]),
    ],
    ids=["too early", "too late", "words", "with since", "lots: year 0", "lots: two years"],
)
def test_an_implausible_season_is_one_problem_naming_it(
    client: TestClient,
    viewer: dict[str, str],
    path: str,
    params: dict[str, str],
    errors: list[str],
) -> None:
    answer = client.get(f"{API}/reports/{path}", params=params, headers=viewer)
    body = assert_problem(answer, 422, "invalid_input")
    assert body["field"] == "season"
    assert [e["field"] for e in body["errors"]] == errors
    assert "\n" not in body["detail"]
