"""Idempotency-Key: a retried save is saved once, and answered as the first time."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cidery.models.enums import UserRole
from tests.api.conftest import Account, Fruit, bearer, new_key
from tests.api.support import API, assert_problem, count, execute

REPLAYED = "idempotent-replayed"


@pytest.fixture
def operator(account: dict[UserRole, Account]) -> dict[str, str]:
    return bearer(account[UserRole.OPERATOR])


def start(client: TestClient, headers: dict[str, str], fruit: Fruit) -> str:
    answer = client.post(
        f"{API}/press-runs", json={"vendor_id": str(fruit.vendor_id)}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def entry(fruit: Fruit, kg: str = "100") -> dict[str, str]:
    return {"purchase_item_id": str(fruit.item_id), "weight": kg, "weight_unit": "kg"}


def loads_of(engine: Engine, run_id: str) -> int:
    return count(engine, "SELECT count(*) FROM press_run_loads WHERE press_run_id = :r", r=run_id)


def test_a_replay_gets_the_first_answer_and_writes_nothing(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id = start(client, operator, fruit)
    headers = {**operator, **new_key()}
    first = client.post(f"{API}/press-runs/{run_id}/loads", json=entry(fruit), headers=headers)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    again = client.post(f"{API}/press-runs/{run_id}/loads", json=entry(fruit), headers=headers)
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json()
    assert loads_of(api_engine, run_id) == 1


def test_a_replayed_completion_is_not_refused_as_a_second_completion(
    client: TestClient, operator: dict[str, str], fruit: Fruit
) -> None:
    run_id = start(client, operator, fruit)
    added = client.post(
        f"{API}/press-runs/{run_id}/loads", json=entry(fruit), headers={**operator, **new_key()}
    )
    assert added.status_code == 201
    outcome = {"juice_volume": "60", "juice_volume_unit": "L", "vessel_id": str(fruit.vessel_id)}
    headers = {**operator, **new_key()}
    first = client.post(f"{API}/press-runs/{run_id}/complete", json=outcome, headers=headers)
    assert first.status_code == 200, first.text
    again = client.post(f"{API}/press-runs/{run_id}/complete", json=outcome, headers=headers)
    assert again.status_code == 200, again.text
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json()


def test_the_same_key_with_another_body_is_refused(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id = start(client, operator, fruit)
    headers = {**operator, **new_key()}
    url = f"{API}/press-runs/{run_id}/loads"
    assert client.post(url, json=entry(fruit, "100"), headers=headers).status_code == 201
    other = client.post(url, json=entry(fruit, "120"), headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")
    assert loads_of(api_engine, run_id) == 1


def test_adding_a_load_and_completing_require_a_key(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    run_id = start(client, operator, fruit)
    missing = client.post(f"{API}/press-runs/{run_id}/loads", json=entry(fruit), headers=operator)
    assert_problem(missing, 400, "idempotency_key_missing")
    assert loads_of(api_engine, run_id) == 0
    outcome = {"juice_volume": "60", "juice_volume_unit": "L", "vessel_id": str(fruit.vessel_id)}
    assert_problem(
        client.post(f"{API}/press-runs/{run_id}/complete", json=outcome, headers=operator),
        400,
        "idempotency_key_missing",
    )
    # Starting a run does not require one.
    assert start(client, operator, fruit)


@pytest.mark.parametrize("key", ["two words", "x" * 300, "tab\there", "é-accent".encode("latin-1")])
def test_a_malformed_key_is_invalid_input(
    client: TestClient, operator: dict[str, str], fruit: Fruit, api_engine: Engine, key: str | bytes
) -> None:
    run_id = start(client, operator, fruit)
    answer = client.post(
        f"{API}/press-runs/{run_id}/loads",
        json=entry(fruit),
        headers={**operator, "Idempotency-Key": key},  # type: ignore[dict-item]
    )
    body = assert_problem(answer, 422, "invalid_input")
    assert body["field"] == "Idempotency-Key"
    assert loads_of(api_engine, run_id) == 0


def test_keys_are_per_user(
    client: TestClient, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    operator, admin = bearer(account[UserRole.OPERATOR]), bearer(account[UserRole.ADMIN])
    run_id = start(client, operator, fruit)
    key = new_key()
    url = f"{API}/press-runs/{run_id}/loads"
    mine = client.post(url, json=entry(fruit), headers={**operator, **key})
    theirs = client.post(url, json=entry(fruit), headers={**admin, **key})
    assert mine.status_code == theirs.status_code == 201
    assert REPLAYED not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    assert loads_of(api_engine, run_id) == 2


def test_an_expired_key_can_be_used_again(
    client: TestClient, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    operator = bearer(account[UserRole.OPERATOR])
    run_id = start(client, operator, fruit)
    key = new_key()
    url = f"{API}/press-runs/{run_id}/loads"
    assert (
        client.post(url, json=entry(fruit, "100"), headers={**operator, **key}).status_code == 201
    )
    execute(
        api_engine,
        "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"
        " WHERE user_id = :u AND key = :k",
        u=account[UserRole.OPERATOR].id,
        k=key["Idempotency-Key"],
    )
    again = client.post(url, json=entry(fruit, "120"), headers={**operator, **key})
    assert again.status_code == 201, again.text
    assert REPLAYED not in again.headers
    assert loads_of(api_engine, run_id) == 2
    # And the key now remembers the new save.
    replay = client.post(url, json=entry(fruit, "120"), headers={**operator, **key})
    assert replay.headers[REPLAYED] == "true"
    assert replay.json() == again.json()


def test_concurrent_requests_with_one_key_write_one_load(
    client: TestClient, api_app: FastAPI, operator: dict[str, str], fruit: Fruit, api_engine: Engine
) -> None:
    """Ten clients send the same save at once: one saves, the others wait or replay it."""
    run_id = start(client, operator, fruit)
    headers = {**operator, **new_key()}
    url = f"{API}/press-runs/{run_id}/loads"
    at_once = 10
    barrier = threading.Barrier(at_once)
    answers: list[Any] = [None] * at_once

    def send(i: int) -> None:
        # A client of its own (its own event loop); ``client`` keeps the app's lifespan.
        own = TestClient(api_app, raise_server_exceptions=False)
        barrier.wait(timeout=30)
        answers[i] = own.post(url, json=entry(fruit), headers=headers)

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(at_once)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    saved = [a for a in answers if a.status_code == 201 and REPLAYED not in a.headers]
    assert len(saved) == 1, [a.status_code for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert_problem(answer, 409, "idempotency_in_flight")
            assert answer.headers["retry-after"] == "1"
        else:
            assert answer.status_code == 201, answer.text
            assert answer.json() == saved[0].json()
    assert loads_of(api_engine, run_id) == 1

    later = client.post(url, json=entry(fruit), headers=headers)
    assert later.status_code == 201
    assert later.headers[REPLAYED] == "true"
    assert later.json() == saved[0].json()


def test_a_refused_save_is_not_remembered(
    client: TestClient, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    operator = bearer(account[UserRole.OPERATOR])
    first, second = start(client, operator, fruit), start(client, operator, fruit)
    taken = client.post(
        f"{API}/press-runs/{first}/loads",
        json=entry(fruit, "700"),
        headers={**operator, **new_key()},
    )
    assert taken.status_code == 201
    key = new_key()
    url = f"{API}/press-runs/{second}/loads"
    refused = client.post(url, json=entry(fruit, "400"), headers={**operator, **key})
    assert_problem(refused, 409, "insufficient_fruit")
    remembered = "SELECT count(*) FROM idempotency_keys WHERE user_id = :u AND key = :k"
    ids = {"u": account[UserRole.OPERATOR].id, "k": key["Idempotency-Key"]}
    assert count(api_engine, remembered, **ids) == 0

    voided = client.post(
        f"{API}/press-runs/{first}/loads/{taken.json()['id']}/void",
        json={"reason": "weighed twice"},
        headers=operator,
    )
    assert voided.status_code == 200, voided.text
    retried = client.post(url, json=entry(fruit, "400"), headers={**operator, **key})
    assert retried.status_code == 201, retried.text
    assert REPLAYED not in retried.headers
    assert loads_of(api_engine, second) == 1
    assert count(api_engine, remembered, **ids) == 1


def test_the_key_is_kept_with_what_it_answered(
    client: TestClient, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    operator = bearer(account[UserRole.OPERATOR])
    run_id = start(client, operator, fruit)
    key = str(uuid.uuid4())
    answer = client.post(
        f"{API}/press-runs/{run_id}/loads",
        json=entry(fruit),
        headers={**operator, "Idempotency-Key": key},
    )
    kept = (
        "SELECT count(*) FROM idempotency_keys WHERE user_id = :u AND key = :k"
        " AND method = 'POST' AND path = :p AND response_status = 201"
        " AND response_body ->> 'id' = :id AND expires_at > now() + interval '6 days 23 hours'"
    )
    found = count(
        api_engine,
        kept,
        u=account[UserRole.OPERATOR].id,
        k=key,
        p=f"{API}/press-runs/{run_id}/loads",
        id=answer.json()["id"],
    )
    assert found == 1
