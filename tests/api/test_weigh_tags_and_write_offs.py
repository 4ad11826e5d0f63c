"""Weigh tags and write-offs over HTTP: the bodies follow the schemas, refusals are problems."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cidery.models.enums import UserRole
from tests.api.conftest import Account, Fruit, bearer, new_key
from tests.api.support import API, assert_problem, count


@pytest.fixture
def operator(account: dict[UserRole, Account]) -> dict[str, str]:
    return bearer(account[UserRole.OPERATOR])


def start(client: TestClient, headers: dict[str, str], fruit: Fruit) -> str:
    started = client.post(
        f"{API}/press-runs", json={"vendor_id": str(fruit.vendor_id)}, headers=headers
    )
    assert started.status_code == 201, started.text
    run_id: str = started.json()["id"]
    return run_id


def test_a_load_is_added_by_its_weigh_tag_and_corrected_to_a_net_weight(
    client: TestClient, operator: dict[str, str], fruit: Fruit
) -> None:
    run_id = start(client, operator, fruit)
    added = client.post(
        f"{API}/press-runs/{run_id}/loads",
        json={
            "purchase_item_id": str(fruit.item_id),
            "gross_weight": "1210.5",
            "tare_weight": "360.5",
            "weight_unit": "lb",
        },
        headers={**operator, **new_key()},
    )
    assert added.status_code == 201, added.text
    load = added.json()
    assert (load["weight"], load["gross_weight"], load["tare_weight"], load["weight_kg"]) == (
        "850.000",
        "1210.500",
        "360.500",
        "385.554",
    )
    corrected = client.patch(
        f"{API}/press-runs/{run_id}/loads/{load['id']}",
        json={"weight": "840", "weight_unit": "lb", "reason": "net from the ticket"},
        headers=operator,
    )
    assert corrected.status_code == 200, corrected.text
    [after] = corrected.json()["loads"]
    assert (after["weight"], after["gross_weight"], after["tare_weight"]) == ("840.000", None, None)


@pytest.mark.parametrize(
    ("weights", "field"),
    [
        ({"gross_weight": "500", "tare_weight": "600"}, "tare_weight"),
        ({"gross_weight": "500", "tare_weight": "500"}, "tare_weight"),
        ({"gross_weight": "500"}, "tare_weight"),
        ({"weight": "400", "gross_weight": "500", "tare_weight": "100"}, "gross_weight"),
        ({}, "weight"),
    ],
    ids=["tare-above-gross", "tare-equal-to-gross", "only-gross", "weight-and-tag", "none"],
)
def test_a_bad_weigh_tag_is_a_problem_at_its_field(
    client: TestClient,
    operator: dict[str, str],
    fruit: Fruit,
    api_engine: Engine,
    weights: dict[str, str],
    field: str,
) -> None:
    run_id = start(client, operator, fruit)
    answer = client.post(
        f"{API}/press-runs/{run_id}/loads",
        json={"purchase_item_id": str(fruit.item_id), "weight_unit": "kg", **weights},
        headers={**operator, **new_key()},
    )
    body = assert_problem(answer, 422, "invalid_input")
    assert body["field"] == field, body
    assert [e["field"] for e in body["errors"]] == [field]
    assert (
        count(api_engine, "SELECT count(*) FROM press_run_loads WHERE press_run_id = :r", r=run_id)
        == 0
    )


def test_the_rest_of_a_line_is_written_off_and_reconciled(
    client: TestClient,
    operator: dict[str, str],
    account: dict[UserRole, Account],
    fruit: Fruit,
) -> None:
    run_id = start(client, operator, fruit)
    added = client.post(
        f"{API}/press-runs/{run_id}/loads",
        json={"purchase_item_id": str(fruit.item_id), "weight": "300", "weight_unit": "kg"},
        headers={**operator, **new_key()},
    )
    assert added.status_code == 201, added.text
    key = new_key()
    url = f"{API}/purchase-lines/{fruit.item_id}/write-offs"
    written = client.post(url, json={"reason": "rotten"}, headers={**operator, **key})
    assert written.status_code == 201, written.text
    assert (written.json()["weight_kg"], written.json()["reason"]) == ("700.000", "rotten")
    # A retry with the key is answered from memory, not refused for nothing left.
    again = client.post(url, json={"reason": "rotten"}, headers={**operator, **key})
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == written.json()

    offered = client.get(
        f"{API}/available-fruit", params={"vendor_id": str(fruit.vendor_id)}, headers=operator
    )
    assert offered.json() == []
    refused = client.post(
        f"{API}/press-runs/{run_id}/loads",
        json={"purchase_item_id": str(fruit.item_id), "weight": "1", "weight_unit": "kg"},
        headers={**operator, **new_key()},
    )
    assert assert_problem(refused, 409, "insufficient_fruit")["details"]["remaining_kg"] == "0.000"
    nothing = client.post(url, json={"reason": "again"}, headers={**operator, **new_key()})
    assert_problem(nothing, 409, "nothing_left")

    viewer = bearer(account[UserRole.VIEWER])
    lines = client.get(
        f"{API}/purchase-lines", params={"vendor_id": str(fruit.vendor_id)}, headers=viewer
    )
    assert lines.status_code == 200, lines.text
    [line] = lines.json()
    assert (line["bought_kg"], line["pressed_kg"], line["written_off_kg"], line["left_kg"]) == (
        "1000.000",
        "300.000",
        "700.000",
        "0.000",
    )
    assert [(w["weight_kg"], w["reason"]) for w in line["write_offs"]] == [("700.000", "rotten")]
    vendors = client.get(f"{API}/vendors", params={"q": "Grower"}, headers=viewer).json()
    [mine] = [v for v in vendors if v["id"] == str(fruit.vendor_id)]
    assert Decimal(mine["fruit_left_kg"]) == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"reason": "  "}, 422, "invalid_input"),
        ({}, 422, "invalid_input"),
        ({"reason": "rot", "weight_kg": "1000.001"}, 409, "insufficient_fruit"),
    ],
    ids=["blank-reason", "no-reason", "more-than-left"],
)
def test_a_refused_write_off_writes_nothing(
    client: TestClient,
    operator: dict[str, str],
    fruit: Fruit,
    api_engine: Engine,
    body: dict[str, str],
    status: int,
    code: str,
) -> None:
    answer = client.post(
        f"{API}/purchase-lines/{fruit.item_id}/write-offs", json=body, headers=operator
    )
    assert_problem(answer, status, code)
    assert (
        count(
            api_engine,
            "SELECT count(*) FROM fruit_write_offs WHERE purchase_item_id = :i",
            i=fruit.item_id,
        )
        == 0
    )


def test_a_viewer_may_not_write_off(
    client: TestClient, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    answer = client.post(
        f"{API}/purchase-lines/{fruit.item_id}/write-offs",
        json={"reason": "rotten"},
        headers=bearer(account[UserRole.VIEWER]),
    )
    assert_problem(answer, 403, "forbidden")
    assert (
        count(
            api_engine,
            "SELECT count(*) FROM fruit_write_offs WHERE purchase_item_id = :i",
            i=fruit.item_id,
        )
        == 0
    )


def test_an_unknown_line_is_not_found(client: TestClient, operator: dict[str, str]) -> None:
    answer = client.post(
        f"{API}/purchase-lines/00000000-0000-0000-0000-000000000000/write-offs",
        json={"reason": "rotten"},
        headers=operator,
    )
    assert_problem(answer, 404, "not_found")
