"""Users, managed by admins over HTTP and created from the command line; never deleted."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cidery.models.enums import UserRole
from tests.api.conftest import PASSWORD, Account, bearer, new_address
from tests.api.support import API, assert_problem, count, unknown

USERS = f"{API}/users"
CIDERY = Path(sys.executable).parent / "cidery"
SECRET = "Sekr1t-stdin-pass"


@pytest.fixture
def admin(account: dict[UserRole, Account]) -> dict[str, str]:
    return bearer(account[UserRole.ADMIN])


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:8]}@cidery.example"


def test_an_admin_creates_a_user_who_can_sign_in(
    client: TestClient,
    client_at: Callable[[tuple[str, int]], TestClient],
    admin: dict[str, str],
    api_engine: Engine,
) -> None:
    email = new_email()
    answer = client.post(
        USERS,
        json={"email": email, "name": "Robin", "role": "operator", "password": SECRET},
        headers=admin,
    )
    assert answer.status_code == 201, answer.text
    user = answer.json()
    assert (user["email"], user["role"], user["is_active"]) == (email, "operator", True)
    assert SECRET not in answer.text
    assert "password" not in answer.text

    with api_engine.connect() as conn:
        audited = conn.execute(
            text(
                "SELECT new_data::text FROM audit_logs"
                " WHERE table_name = 'users' AND record_id = :id AND operation = 'insert'"
            ),
            {"id": user["id"]},
        ).scalar_one()
    assert email in audited
    assert "password" not in audited
    assert "argon2" not in audited

    browser = client_at(new_address())
    signed_in = browser.post(f"{API}/auth/sign-in", json={"email": email, "password": SECRET})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["role"] == "operator"


def test_an_email_is_taken_once(
    client: TestClient, admin: dict[str, str], api_engine: Engine
) -> None:
    email = new_email()
    body = {"email": email, "name": "Sam", "role": "viewer", "password": PASSWORD}
    assert client.post(USERS, json=body, headers=admin).status_code == 201
    again = client.post(USERS, json={**body, "name": "Other Sam"}, headers=admin)
    assert_problem(again, 409, "email_taken")
    same = "SELECT count(*) FROM users WHERE lower(email) = lower(:e)"
    assert count(api_engine, same, e=email) == 1


def test_a_user_is_changed_and_deactivated_never_deleted(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = client.post(
        USERS,
        json={"email": new_email(), "name": "Kim", "role": "viewer", "password": PASSWORD},
        headers=admin,
    ).json()
    url = f"{USERS}/{created['id']}"

    promoted = client.patch(url, json={"role": "operator"}, headers=admin)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "operator"
    assert client.get(url, headers=admin).json()["role"] == "operator"

    deactivated = client.patch(url, json={"is_active": False}, headers=admin)
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["is_active"] is False
    listed = [u for u in client.get(USERS, headers=admin).json() if u["id"] == created["id"]]
    assert [u["is_active"] for u in listed] == [False]

    deleted = client.delete(url, headers=admin)
    body = assert_problem(deleted, 405, "http_error")
    assert body["status"] == 405
    assert "DELETE" not in deleted.headers["allow"]
    assert client.get(url, headers=admin).status_code == 200

    assert_problem(client.patch(url, json={}, headers=admin), 422, "invalid_input")

    history = client.get(
        f"{API}/audit-logs", params={"table": "users", "record_id": created["id"]}, headers=admin
    )
    assert history.status_code == 200, history.text
    items = history.json()["items"]
    assert [i["operation"] for i in items] == ["update", "update", "insert"]
    assert all(i["record_id"] == created["id"] for i in items)
    assert items[0]["old_data"]["is_active"] is True
    assert items[0]["new_data"]["is_active"] is False
    assert items[1]["new_data"]["role"] == "operator"
    assert "password" not in history.text


def test_an_unknown_user_is_not_found(client: TestClient, admin: dict[str, str]) -> None:
    assert_problem(client.get(f"{USERS}/{unknown()}", headers=admin), 404, "not_found")
    assert_problem(
        client.patch(f"{USERS}/{unknown()}", json={"name": "Nobody"}, headers=admin),
        404,
        "not_found",
    )


# --- cidery users create ------------------------------------------------------------------


def _cidery(env: dict[str, str], args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CIDERY), *args], input=stdin, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_command_line_creates_a_user_and_refuses_mistakes_in_one_line(
    client_at: Callable[[tuple[str, int]], TestClient],
    cli_env: Callable[..., dict[str, str]],
    api_url: str,
) -> None:
    env = cli_env(api_url)
    email = new_email()
    runs = {
        "created": (["users", "create", email, "--role", "admin", "--password-stdin"], SECRET),
        "bad role": (
            ["users", "create", new_email(), "--role", "owner", "--password-stdin"],
            SECRET,
        ),
        "empty password": (["users", "create", new_email(), "--password-stdin"], "\n"),
        "short password": (["users", "create", new_email(), "--password-stdin"], "Qz9x\n"),
    }
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        started = {name: pool.submit(_cidery, env, *run) for name, run in runs.items()}
        results = {name: future.result() for name, future in started.items()}

    done = results["created"]
    assert done.returncode == 0, done.stderr
    assert f"created admin {email}" in done.stdout
    for name in ("bad role", "empty password", "short password"):
        result = results[name]
        assert result.returncode == 1, (name, result)
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (name, result.stderr)
        assert lines[0].startswith("error: "), (name, result.stderr)
    assert "--role" in results["bad role"].stderr
    assert "no password" in results["empty password"].stderr
    for result in results.values():
        assert SECRET not in result.stdout + result.stderr
        assert "Qz9x" not in result.stdout + result.stderr

    browser = client_at(new_address())
    signed_in = browser.post(f"{API}/auth/sign-in", json={"email": email, "password": SECRET})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["role"] == "admin"
