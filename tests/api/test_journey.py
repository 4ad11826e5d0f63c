"""A press run from sign-in to completion, through HTTP alone, as the pressing page does it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cidery.models.enums import UserRole
from tests.api.conftest import Account, Fruit, new_key, sign_in

API = "/api/v1"


def test_an_operator_presses_a_run_from_sign_in_to_completion(
    client: TestClient, account: dict[UserRole, Account], fruit: Fruit
) -> None:
    csrf = sign_in(client, account[UserRole.OPERATOR].email)

    started = client.post(
        f"{API}/press-runs", json={"vendor_id": str(fruit.vendor_id)}, headers=csrf
    )
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]

    for weight, unit in (("400", "lb"), ("150", "kg")):
        load = client.post(
            f"{API}/press-runs/{run_id}/loads",
            json={"purchase_item_id": str(fruit.item_id), "weight": weight, "weight_unit": unit},
            headers={**csrf, **new_key()},
        )
        assert load.status_code == 201, load.text

    run = client.get(f"{API}/press-runs/{run_id}").json()
    assert [load["load_sequence"] for load in run["loads"]] == [1, 2]
    assert run["run"]["total_apple_weight_kg"] == "331.437"

    done = client.post(
        f"{API}/press-runs/{run_id}/complete",
        json={"juice_volume": "220", "juice_volume_unit": "L", "vessel_id": str(fruit.vessel_id)},
        headers={**csrf, **new_key()},
    )
    assert done.status_code == 200, done.text
    assert done.json()["run"]["status"] == "completed"

    listed = client.get(
        f"{API}/press-runs", params={"status": "completed", "vendor_id": str(fruit.vendor_id)}
    )
    assert [r["id"] for r in listed.json()["items"]] == [run_id]

    assert client.post(f"{API}/auth/sign-out", headers=csrf).status_code == 204
    assert client.get(f"{API}/press-runs/{run_id}").status_code == 401
