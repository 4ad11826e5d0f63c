"""Juice lots over HTTP: completing into several vessels, reading a lot and the list, and
an admin's recompute of a run's costs."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cidery.api.settings import ApiSettings
from cidery.db.engine import transaction
from cidery.models import PurchaseItem
from cidery.models.enums import UserRole
from tests.api.conftest import Account, Fruit, bearer, make_fruit, new_key
from tests.api.support import API, app_client, assert_problem, count, unknown
from tests.factories import Factory


@pytest.fixture
def operator(account: dict[UserRole, Account]) -> dict[str, str]:
    return bearer(account[UserRole.OPERATOR])


@pytest.fixture
def admin(account: dict[UserRole, Account]) -> dict[str, str]:
    return bearer(account[UserRole.ADMIN])


def new_vessel(engine: Engine, capacity_l: str = "1000") -> str:
    with transaction(engine) as session:
        return str(Factory(session).vessel(capacity_l=Decimal(capacity_l)).id)


def set_price(engine: Engine, item_id: uuid.UUID, per_kg: str) -> None:
    with transaction(engine) as session:
        item = session.get(PurchaseItem, item_id)
        assert item is not None
        item.price_per_unit = Decimal(per_kg)


def pressed_run(client: TestClient, headers: dict[str, str], fruit: Fruit, kg: str) -> str:
    started = client.post(
        f"{API}/press-runs", json={"vendor_id": str(fruit.vendor_id)}, headers=headers
    )
    assert started.status_code == 201, started.text
    run_id: str = started.json()["id"]
    added = client.post(
        f"{API}/press-runs/{run_id}/loads",
        json={"purchase_item_id": str(fruit.item_id), "weight": kg, "weight_unit": "kg"},
        headers={**headers, **new_key()},
    )
    assert added.status_code == 201, added.text
    return run_id


def complete(client: TestClient, headers: dict[str, str], run_id: str, body: dict[str, Any]) -> Any:
    return client.post(
        f"{API}/press-runs/{run_id}/complete", json=body, headers={**headers, **new_key()}
    )


def lots_of(engine: Engine, run_id: str) -> int:
    return count(engine, "SELECT count(*) FROM press_run_batches WHERE press_run_id = :r", r=run_id)


def test_a_run_completed_into_two_vessels(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    set_price(api_engine, fruit.item_id, "0.90")
    run_id = pressed_run(client, operator, fruit, "500")
    tank, barrel = new_vessel(api_engine), new_vessel(api_engine, "225")
    answer = complete(
        client,
        operator,
        run_id,
        {
            "juice_volume": "300",
            "juice_volume_unit": "L",
            "assignments": [
                {"vessel_id": tank, "volume": "100"},
                {"vessel_id": barrel, "volume": "200", "volume_unit": "L"},
            ],
            "labor_hours": "2",
            "pomace_weight": "180",
        },
    )
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert done["run"]["vessel_id"] == tank
    assert done["run"]["pomace_kg"] == "180.000"
    assert done["run"]["labor_rate"] == "25.00"
    first, second = done["lots"]
    assert [first["vessel_id"], second["vessel_id"]] == [tank, barrel]
    assert first["batch_number"].endswith("-A")
    assert second["batch_number"].endswith("-B")
    assert (first["litres"], second["litres"]) == ("100.000", "200.000")
    # 500 kg at 0.90 = 450.00 and 2 h at 25.00 = 50.00, a third and two thirds.
    assert (first["fruit_cost"], second["fruit_cost"]) == ("150.00", "300.00")
    assert second["total_cost"] == "333.33"
    assert second["cost_per_l"] == "1.6667"
    assert first["complete"] is True
    assert done["warnings"] == []

    read = client.get(f"{API}/batches/{second['batch_id']}", headers=operator)
    assert read.status_code == 200, read.text
    lot = read.json()
    assert lot["lot"] == second
    assert lot["run"]["id"] == run_id
    assert [item["item_type"] for item in lot["cogs_items"]] == ["apples", "labor"]
    assert lot["lot"]["varieties"][0]["kg"] == "333.333"


def test_the_single_vessel_body_still_works_and_a_lot_without_a_price_is_incomplete(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id = pressed_run(client, operator, fruit, "100")
    answer = complete(
        client,
        operator,
        run_id,
        {"juice_volume": "60", "juice_volume_unit": "L", "vessel_id": str(fruit.vessel_id)},
    )
    assert answer.status_code == 200, answer.text
    [lot] = answer.json()["lots"]
    assert lot["complete"] is False
    assert lot["fruit_cost"] is None
    assert lot["total_cost"] is None
    assert lot["missing_lines"] == [str(fruit.item_id)]
    listed = client.get(
        f"{API}/lots", params={"incomplete": "true", "limit": 200}, headers=operator
    )
    assert listed.status_code == 200, listed.text
    assert lot["batch_id"] in [item["batch_id"] for item in listed.json()["items"]]


def test_volumes_that_do_not_add_up_are_refused_with_the_figures(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id = pressed_run(client, operator, fruit, "300")
    tank, keg = new_vessel(api_engine), new_vessel(api_engine)
    answer = complete(
        client,
        operator,
        run_id,
        {
            "juice_volume": "50",
            "juice_volume_unit": "gal",
            "assignments": [
                {"vessel_id": tank, "volume": "30", "volume_unit": "gal"},
                {"vessel_id": keg, "volume": "25", "volume_unit": "gal"},
            ],
        },
    )
    body = assert_problem(answer, 422, "volumes_do_not_add_up")
    assert body["details"] == {"assigned_l": "208.197", "juice_l": "189.271"}
    assert lots_of(api_engine, run_id) == 0


def test_the_same_vessel_twice_and_a_vessel_too_small(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id = pressed_run(client, operator, fruit, "300")
    tank, small = new_vessel(api_engine), new_vessel(api_engine, "50")
    twice = complete(
        client,
        operator,
        run_id,
        {
            "juice_volume": "200",
            "juice_volume_unit": "L",
            "assignments": [
                {"vessel_id": tank, "volume": "100"},
                {"vessel_id": tank, "volume": "100"},
            ],
        },
    )
    assert_problem(twice, 422, "invalid_input")
    too_small = complete(
        client,
        operator,
        run_id,
        {
            "juice_volume": "200",
            "juice_volume_unit": "L",
            "assignments": [
                {"vessel_id": tank, "volume": "120"},
                {"vessel_id": small, "volume": "80"},
            ],
        },
    )
    assert_problem(too_small, 409, "vessel_too_small")
    assert lots_of(api_engine, run_id) == 0
    assert (
        count(
            api_engine,
            "SELECT count(*) FROM vessels WHERE id = :v AND status = 'available'",
            v=tank,
        )
        == 1
    )


def test_a_lot_that_is_not_one(client: TestClient, operator: dict[str, str]) -> None:
    assert_problem(client.get(f"{API}/batches/{unknown()}", headers=operator), 404, "not_found")
    assert_problem(
        client.get(f"{API}/lots", params={"season": "x"}, headers=operator), 422, "invalid_input"
    )


def test_recompute_costs_is_for_admins(
    client: TestClient,
    operator: dict[str, str],
    admin: dict[str, str],
    fruit: Fruit,
    api_engine: Engine,
) -> None:
    run_id = pressed_run(client, operator, fruit, "100")
    done = complete(
        client,
        operator,
        run_id,
        {
            "juice_volume": "60",
            "juice_volume_unit": "L",
            "vessel_id": str(fruit.vessel_id),
            "labor_hours": "1",
        },
    )
    assert done.status_code == 200, done.text
    assert done.json()["lots"][0]["complete"] is False
    set_price(api_engine, fruit.item_id, "1.20")
    body = {"reason": "invoice arrived", "labor_rate": "30.00"}
    path = f"{API}/press-runs/{run_id}/recompute-costs"
    assert_problem(client.post(path, json=body, headers=operator), 403, "forbidden")
    key = new_key()
    answer = client.post(path, json=body, headers={**admin, **key})
    assert answer.status_code == 200, answer.text
    [lot] = answer.json()["lots"]
    assert lot["complete"] is True
    assert lot["fruit_cost"] == "120.00"
    assert lot["labor_cost"] == "30.00"
    again = client.post(path, json=body, headers={**admin, **key})
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == answer.json()
    audited = count(
        api_engine,
        "SELECT count(*) FROM audit_logs WHERE table_name = 'batch_costs'"
        " AND reason = 'invoice arrived' AND record_id ="
        " (SELECT id FROM batch_costs WHERE batch_id = :b)",
        b=lot["batch_id"],
    )
    assert audited == 1
    missing = client.post(f"{API}/press-runs/{unknown()}/recompute-costs", json=body, headers=admin)
    assert_problem(missing, 404, "not_found")


def test_the_labor_rate_setting_costs_the_labor(
    api_url: str, account: dict[UserRole, Account], api_engine: Engine
) -> None:
    settings = replace(ApiSettings(database_url=api_url), labor_rate=Decimal("40.00"))
    fruit = make_fruit(api_engine)
    headers = bearer(account[UserRole.OPERATOR])
    with app_client(settings) as client:
        run_id = pressed_run(client, headers, fruit, "100")
        answer = complete(
            client,
            headers,
            run_id,
            {
                "juice_volume": "60",
                "juice_volume_unit": "L",
                "vessel_id": str(fruit.vessel_id),
                "labor_hours": "1.5",
            },
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["run"]["labor_rate"] == "40.00"
    assert answer.json()["lots"][0]["labor_cost"] == "60.00"
