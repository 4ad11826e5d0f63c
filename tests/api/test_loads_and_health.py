"""Correcting and voiding loads over HTTP (a load of another run is not found), and the probes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cidery.api.settings import ApiSettings
from cidery.db.engine import make_engine
from cidery.migrations import runner
from cidery.migrations.scripts import head
from cidery.models.enums import UserRole
from tests.api.conftest import Account, Fruit, bearer, new_key
from tests.api.support import API, app_client, assert_problem


@pytest.fixture
def operator(account: dict[UserRole, Account]) -> dict[str, str]:
    return bearer(account[UserRole.OPERATOR])


def run_with_load(
    client: TestClient, headers: dict[str, str], fruit: Fruit, kg: str = "100"
) -> tuple[str, str]:
    started = client.post(
        f"{API}/press-runs", json={"vendor_id": str(fruit.vendor_id)}, headers=headers
    )
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    added = client.post(
        f"{API}/press-runs/{run_id}/loads",
        json={"purchase_item_id": str(fruit.item_id), "weight": kg, "weight_unit": "kg"},
        headers={**headers, **new_key()},
    )
    assert added.status_code == 201, added.text
    return run_id, added.json()["id"]


def weight_kg(engine: Engine, load_id: str) -> Decimal:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT weight_kg FROM press_run_loads WHERE id = :id AND deleted_at IS NULL"),
            {"id": load_id},
        ).scalar_one()
    assert isinstance(found, Decimal)
    return found


def test_a_load_is_corrected(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id, load_id = run_with_load(client, operator, fruit)
    answer = client.patch(
        f"{API}/press-runs/{run_id}/loads/{load_id}",
        json={"weight": "120", "weight_unit": "kg", "reason": "scale was tared wrong"},
        headers=operator,
    )
    assert answer.status_code == 200, answer.text
    detail = answer.json()
    assert [Decimal(x["weight_kg"]) for x in detail["loads"]] == [Decimal("120")]
    assert Decimal(detail["run"]["total_apple_weight_kg"]) == Decimal("120")
    assert weight_kg(api_engine, load_id) == Decimal("120")


def test_a_load_of_another_run_is_not_found(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id, load_id = run_with_load(client, operator, fruit)
    other_run, _ = run_with_load(client, operator, fruit)
    corrected = client.patch(
        f"{API}/press-runs/{other_run}/loads/{load_id}",
        json={"weight": "120", "weight_unit": "kg"},
        headers=operator,
    )
    assert_problem(corrected, 404, "not_found")
    voided = client.post(
        f"{API}/press-runs/{other_run}/loads/{load_id}/void",
        json={"reason": "wrong run"},
        headers=operator,
    )
    assert_problem(voided, 404, "not_found")
    assert weight_kg(api_engine, load_id) == Decimal("100")
    # Through its own run, the same void works.
    own = client.post(
        f"{API}/press-runs/{run_id}/loads/{load_id}/void",
        json={"reason": "weighed twice"},
        headers=operator,
    )
    assert own.status_code == 200, own.text
    assert own.json()["loads"] == []


def test_the_process_is_alive(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"


def test_a_migrated_database_is_ready(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ready", "revision": head(), "expected_revision": head()}


@pytest.fixture
def behind_url(create_database: Callable[..., str]) -> str:
    """A database migrated to an older revision than this code's."""
    url = create_database("cidery_api_behind")
    engine = make_engine(url)
    try:
        runner.upgrade(engine, "0005")
    finally:
        engine.dispose()
    return url


def test_a_database_at_an_older_revision_is_not_ready(behind_url: str) -> None:
    assert head() != "0005"
    with app_client(ApiSettings(database_url=behind_url)) as client:
        answer = client.get("/readyz")
        alive = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.headers["retry-after"]
    assert answer.json() == {
        "status": "database not migrated",
        "revision": "0005",
        "expected_revision": head(),
    }
    assert alive.status_code == 200
