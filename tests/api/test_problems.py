"""Every error code's HTTP answer: its status and its problem body (RFC 9457).

Each refusal is provoked as a client would provoke it, through HTTP; a refused
request writes nothing (rows are counted before and after).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cidery import press
from cidery.api.settings import ApiSettings
from cidery.db.engine import make_engine
from cidery.models.enums import UserRole
from tests.api.conftest import PASSWORD, Account, Fruit, bearer, make_fruit, new_account, new_key
from tests.api.support import API, app_client, assert_problem, count, unknown


@pytest.fixture
def operator(account: dict[UserRole, Account]) -> dict[str, str]:
    return bearer(account[UserRole.OPERATOR])


def start(client: TestClient, headers: dict[str, str], fruit: Fruit) -> str:
    answer = client.post(
        f"{API}/press-runs", json={"vendor_id": str(fruit.vendor_id)}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def load(client: TestClient, headers: dict[str, str], run_id: str, item_id: Any, kg: str) -> Any:
    return client.post(
        f"{API}/press-runs/{run_id}/loads",
        json={"purchase_item_id": str(item_id), "weight": kg, "weight_unit": "kg"},
        headers={**headers, **new_key()},
    )


def complete(
    client: TestClient, headers: dict[str, str], run_id: str, litres: str, vessel_id: Any
) -> Any:
    return client.post(
        f"{API}/press-runs/{run_id}/complete",
        json={"juice_volume": litres, "juice_volume_unit": "L", "vessel_id": str(vessel_id)},
        headers={**headers, **new_key()},
    )


def loads_of(engine: Engine, run_id: str) -> int:
    return count(engine, "SELECT count(*) FROM press_run_loads WHERE press_run_id = :r", r=run_id)


# --- invalid input: 422 with the field and every error ------------------------------------


def test_a_bad_body_is_invalid_input_naming_every_field_and_writing_nothing(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id = start(client, operator, fruit)
    answer = client.post(
        f"{API}/press-runs/{run_id}/loads",
        json={"purchase_item_id": str(fruit.item_id), "weight": "-5", "weight_unit": "stone"},
        headers={**operator, **new_key()},
    )
    body = assert_problem(answer, 422, "invalid_input")
    assert body["field"] == "weight"
    assert [e["field"] for e in body["errors"]] == ["weight", "weight_unit"]
    assert all(e["message"] for e in body["errors"])
    assert "stone" not in answer.text  # values as sent are not echoed
    assert loads_of(api_engine, run_id) == 0


def test_a_load_dated_by_a_clock_that_was_reset_is_invalid_input_at_pressed_at(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id = start(client, operator, fruit)
    answer = client.post(
        f"{API}/press-runs/{run_id}/loads",
        json={
            "purchase_item_id": str(fruit.item_id),
            "weight": "120",
            "weight_unit": "kg",
            "pressed_at": "2000-01-01T08:00:00Z",
        },
        headers={**operator, **new_key()},
    )
    body = assert_problem(answer, 422, "invalid_input")
    assert body["field"] == "pressed_at"
    assert "2000-01-01 08:00 UTC is before the run started" in body["detail"]
    assert "check the clock" in body["detail"]
    assert loads_of(api_engine, run_id) == 0


def test_a_body_that_is_not_json_is_invalid_input(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    answer = client.post(
        f"{API}/press-runs",
        content=b"{not json",
        headers={**operator, "Content-Type": "application/json"},
    )
    body = assert_problem(answer, 422, "invalid_input")
    assert body["field"] == "body"
    assert body["errors"] == [{"field": "body", "message": "not valid JSON (at character 1)"}]
    assert (
        count(api_engine, "SELECT count(*) FROM press_runs WHERE vendor_id = :v", v=fruit.vendor_id)
        == 0
    )


def test_an_unknown_field_is_invalid_input(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    answer = client.post(
        f"{API}/press-runs",
        json={"vendor_id": str(fruit.vendor_id), "colour": "red"},
        headers=operator,
    )
    body = assert_problem(answer, 422, "invalid_input")
    assert body["field"] == "colour"
    runs = "SELECT count(*) FROM press_runs WHERE vendor_id = :v"
    assert count(api_engine, runs, v=fruit.vendor_id) == 0


def test_a_bad_query_value_is_invalid_input(client: TestClient, operator: dict[str, str]) -> None:
    body = assert_problem(
        client.get(f"{API}/press-runs", params={"limit": "0"}, headers=operator),
        422,
        "invalid_input",
    )
    assert body["field"] == "limit"
    assert body["errors"][0]["field"] == "limit"


def test_a_path_id_that_is_not_a_uuid_is_invalid_input(
    client: TestClient, operator: dict[str, str]
) -> None:
    body = assert_problem(
        client.get(f"{API}/press-runs/not-a-uuid", headers=operator), 422, "invalid_input"
    )
    assert body["field"] == "run_id"


# --- 404, 401, 403 ---------------------------------------------------------------------


def test_an_unknown_id_is_not_found(client: TestClient, operator: dict[str, str]) -> None:
    missing = unknown()
    body = assert_problem(
        client.get(f"{API}/press-runs/{missing}", headers=operator), 404, "not_found"
    )
    assert missing in body["detail"]


def test_an_unknown_route_is_a_not_found_problem(client: TestClient) -> None:
    assert_problem(client.get(f"{API}/no-such-thing"), 404, "not_found")


def test_no_credentials_is_not_authenticated(client: TestClient) -> None:
    assert_problem(client.get(f"{API}/press-runs"), 401, "not_authenticated")


def test_a_role_without_the_permission_is_forbidden(
    client: TestClient, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    answer = client.post(
        f"{API}/press-runs",
        json={"vendor_id": str(fruit.vendor_id)},
        headers=bearer(account[UserRole.VIEWER]),
    )
    body = assert_problem(answer, 403, "forbidden")
    assert "viewer" in body["detail"]
    runs = "SELECT count(*) FROM press_runs WHERE vendor_id = :v"
    assert count(api_engine, runs, v=fruit.vendor_id) == 0


# --- rule refusals: 409 ----------------------------------------------------------------


def test_insufficient_fruit_gives_the_figures(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id = start(client, operator, fruit)
    assert load(client, operator, run_id, fruit.item_id, "300").status_code == 201
    body = assert_problem(
        load(client, operator, run_id, fruit.item_id, "800"), 409, "insufficient_fruit"
    )
    assert Decimal(body["details"]["remaining_kg"]) == Decimal("700")
    assert Decimal(body["details"]["requested_kg"]) == Decimal("800")
    assert body["details"]["purchase_item_id"] == str(fruit.item_id)
    assert loads_of(api_engine, run_id) == 1


def test_completing_a_cancelled_run_is_an_invalid_transition(
    client: TestClient, operator: dict[str, str], fruit: Fruit
) -> None:
    run_id = start(client, operator, fruit)
    assert load(client, operator, run_id, fruit.item_id, "100").status_code == 201
    cancelled = client.post(
        f"{API}/press-runs/{run_id}/cancel", json={"reason": "wrong grower"}, headers=operator
    )
    assert cancelled.status_code == 200, cancelled.text
    assert_problem(
        complete(client, operator, run_id, "60", fruit.vessel_id), 409, "invalid_transition"
    )


def test_fruit_of_another_grower_is_a_vendor_mismatch(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    other = make_fruit(api_engine)
    run_id = start(client, operator, fruit)
    assert_problem(load(client, operator, run_id, other.item_id, "10"), 409, "vendor_mismatch")
    assert loads_of(api_engine, run_id) == 0


def test_too_much_juice_for_the_vessel_is_vessel_too_small(
    client: TestClient, operator: dict[str, str], api_engine: Engine
) -> None:
    fruit = make_fruit(api_engine, capacity_l=Decimal("40"))
    run_id = start(client, operator, fruit)
    assert load(client, operator, run_id, fruit.item_id, "100").status_code == 201
    assert_problem(
        complete(client, operator, run_id, "60", fruit.vessel_id), 409, "vessel_too_small"
    )


def test_a_vessel_in_use_is_unavailable(
    client: TestClient, operator: dict[str, str], fruit: Fruit
) -> None:
    first, second = start(client, operator, fruit), start(client, operator, fruit)
    for run_id in (first, second):
        assert load(client, operator, run_id, fruit.item_id, "100").status_code == 201
    assert complete(client, operator, first, "60", fruit.vessel_id).status_code == 200
    body = assert_problem(
        complete(client, operator, second, "60", fruit.vessel_id), 409, "vessel_unavailable"
    )
    assert body["details"]["vessel_id"] == str(fruit.vessel_id)
    assert (body["details"]["status"], body["details"]["status_in_words"]) == ("in_use", "in use")


def test_completing_a_run_without_loads_is_no_loads(
    client: TestClient, operator: dict[str, str], fruit: Fruit
) -> None:
    run_id = start(client, operator, fruit)
    assert_problem(complete(client, operator, run_id, "60", fruit.vessel_id), 409, "no_loads")


def test_more_juice_than_fruit_gives_is_an_implausible_yield(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id = start(client, operator, fruit)
    assert load(client, operator, run_id, fruit.item_id, "100").status_code == 201
    assert_problem(
        complete(client, operator, run_id, "500", fruit.vessel_id), 409, "implausible_yield"
    )
    status = "SELECT status::text FROM press_runs WHERE id = :r"
    with api_engine.connect() as conn:
        assert conn.execute(text(status), {"r": run_id}).scalar_one() == "in_progress"


def test_an_inactive_grower_is_refused(
    client: TestClient, operator: dict[str, str], api_engine: Engine
) -> None:
    fruit = make_fruit(api_engine, vendor_active=False)
    answer = client.post(
        f"{API}/press-runs", json={"vendor_id": str(fruit.vendor_id)}, headers=operator
    )
    assert_problem(answer, 409, "vendor_inactive")
    runs = "SELECT count(*) FROM press_runs WHERE vendor_id = :v"
    assert count(api_engine, runs, v=fruit.vendor_id) == 0


def test_a_taken_email_is_refused(client: TestClient, account: dict[UserRole, Account]) -> None:
    taken = account[UserRole.VIEWER].email.upper()
    answer = client.post(
        f"{API}/users",
        json={"email": taken, "name": "Twin", "role": "viewer", "password": PASSWORD},
        headers=bearer(account[UserRole.ADMIN]),
    )
    assert_problem(answer, 409, "email_taken")


@pytest.fixture
def lone_admin(
    create_database: Callable[..., str], template_name: str
) -> Iterator[tuple[str, Account]]:
    """A database of its own whose one user is its only admin."""
    url = create_database("cidery_api_admin", template=template_name)
    engine = make_engine(url)
    try:
        yield url, new_account(engine, UserRole.ADMIN)
    finally:
        engine.dispose()


@pytest.mark.parametrize("change", [{"role": "operator"}, {"is_active": False}])
def test_the_last_admin_stays(lone_admin: tuple[str, Account], change: dict[str, Any]) -> None:
    url, admin = lone_admin
    with app_client(ApiSettings(database_url=url)) as client:
        answer = client.patch(f"{API}/users/{admin.id}", json=change, headers=bearer(admin))
        assert_problem(answer, 409, "last_admin")
        me = client.get(f"{API}/auth/me", headers=bearer(admin))
        assert me.status_code == 200
        assert me.json()["role"] == "admin"
        assert me.json()["is_active"] is True


# --- retry later: 503 on a lock timeout -------------------------------------------------


def test_a_lock_timeout_is_a_retryable_conflict(
    api_url: str, api_engine: Engine, account: dict[UserRole, Account], fruit: Fruit
) -> None:
    operator = bearer(account[UserRole.OPERATOR])
    with app_client(ApiSettings(database_url=api_url, lock_timeout="100ms")) as client:
        run_id = start(client, operator, fruit)
        key = new_key()
        entry = {"purchase_item_id": str(fruit.item_id), "weight": "50", "weight_unit": "kg"}
        with api_engine.connect() as holder:
            holder.execute(
                text("SELECT id FROM press_runs WHERE id = :r FOR UPDATE"), {"r": run_id}
            )
            answer = client.post(
                f"{API}/press-runs/{run_id}/loads", json=entry, headers={**operator, **key}
            )
            body = assert_problem(answer, 503, "conflict")
            assert answer.headers["retry-after"] == "1"
            assert "try again" in body["detail"]
            holder.rollback()
        # The refusal was not remembered under its key: the retry saves.
        retried = client.post(
            f"{API}/press-runs/{run_id}/loads", json=entry, headers={**operator, **key}
        )
        assert retried.status_code == 201, retried.text
    assert loads_of(api_engine, run_id) == 1


# --- the unexpected: 500 without internals ----------------------------------------------


def test_an_unexpected_error_is_a_500_with_the_request_id_and_no_internals(
    client: TestClient, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("secret internals at /srv/cidery/press.py line 42")

    monkeypatch.setattr(press, "get_run", broken)
    answer = client.get(f"{API}/press-runs/{unknown()}", headers=operator)
    body = assert_problem(answer, 500, "internal_error")
    assert body["request_id"] in body["detail"]
    for leak in ("secret", "RuntimeError", "Traceback", "press.py"):
        assert leak not in answer.text


# --- request ids -----------------------------------------------------------------------


def test_every_answer_carries_a_request_id(client: TestClient, operator: dict[str, str]) -> None:
    answers = [
        client.get("/healthz"),
        client.get(f"{API}/press-runs", headers=operator),
        client.get(f"{API}/press-runs"),
        client.get(f"{API}/press-runs/{unknown()}", headers=operator),
    ]
    ids = [a.headers["x-request-id"] for a in answers]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids
    assert len(set(ids)) == len(ids)


def test_a_sane_incoming_request_id_is_echoed_and_an_odd_one_replaced(
    client: TestClient,
) -> None:
    mine = client.get(f"{API}/press-runs", headers={"X-Request-ID": "phone-7.retry_2"})
    assert mine.headers["x-request-id"] == "phone-7.retry_2"
    assert mine.json()["request_id"] == "phone-7.retry_2"
    for odd in ("has spaces in it", "x" * 65, "semi;colon"):
        answer = client.get("/healthz", headers={"X-Request-ID": odd})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"]), odd
