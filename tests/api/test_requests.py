"""What every request gets, whatever its route: an id, a size limit, a problem on failure."""

from __future__ import annotations

import logging
import uuid

import pytest
from fastapi.testclient import TestClient

from cidery.api.requests import MAX_BODY_BYTES
from cidery.models.enums import UserRole
from tests.api.conftest import Account, bearer


def test_a_body_over_the_limit_is_refused_before_it_is_read(
    client: TestClient, account: dict[UserRole, Account]
) -> None:
    notes = "x" * (MAX_BODY_BYTES + 1)
    answer = client.post(
        "/api/v1/press-runs",
        json={"vendor_id": str(uuid.uuid4()), "notes": notes},
        headers=bearer(account[UserRole.OPERATOR]),
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "payload_too_large"
    assert answer.headers["x-request-id"] == answer.json()["request_id"]


def test_a_chunked_body_over_the_limit_is_refused_too(
    client: TestClient, account: dict[UserRole, Account]
) -> None:
    def chunks() -> object:
        for _ in range(3):
            yield b"{" + b" " * (MAX_BODY_BYTES // 2)

    answer = client.post(
        "/api/v1/press-runs",
        content=chunks(),
        headers={**bearer(account[UserRole.OPERATOR]), "content-type": "application/json"},
    )
    assert answer.status_code == 413


def test_an_ended_session_does_not_stop_signing_in_again(
    client: TestClient, account: dict[UserRole, Account]
) -> None:
    client.cookies.set("cidery_session", "no-such-session")
    answer = client.post(
        "/api/v1/auth/sign-in",
        json={"email": account[UserRole.VIEWER].email, "password": "correct horse battery"},
    )
    assert answer.status_code == 200, answer.text


def test_signing_in_from_another_site_is_refused(
    client: TestClient, account: dict[UserRole, Account]
) -> None:
    answer = client.post(
        "/api/v1/auth/sign-in",
        json={"email": account[UserRole.VIEWER].email, "password": "correct horse battery"},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "csrf_failed"
    assert "cidery_session" not in answer.cookies


def test_each_request_is_logged_once_without_secrets(
    client: TestClient, account: dict[UserRole, Account], caplog: pytest.LogCaptureFixture
) -> None:
    operator = account[UserRole.OPERATOR]
    run_id = uuid.uuid4()
    with caplog.at_level(logging.INFO, logger="cidery.api.access"):
        client.get(f"/api/v1/press-runs/{run_id}", headers=bearer(operator))
    lines = [r.getMessage() for r in caplog.records if r.name == "cidery.api.access"]
    assert len(lines) == 1
    assert '"route":"/api/v1/press-runs/{run_id}"' in lines[0]
    assert '"status":404' in lines[0]
    assert f'"user_id":"{operator.id}"' in lines[0]
    assert operator.token not in lines[0]
    assert str(run_id) not in lines[0]


def test_the_app_waits_for_a_lock_no_longer_than_its_lock_timeout(client: TestClient) -> None:
    """Without a lock timeout a request behind a held row would hang until it is freed."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        settings = conn.exec_driver_sql(
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
        ).one()
    assert tuple(settings) == ("5s", "30s")
