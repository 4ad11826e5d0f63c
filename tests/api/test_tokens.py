"""API tokens: shown once, used as Bearer, revoked by their owner only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cidery import credentials
from cidery.models.enums import UserRole
from tests.api.conftest import Account, bearer
from tests.api.support import API, assert_problem, execute, unknown

TOKENS = f"{API}/auth/tokens"
ME = f"{API}/auth/me"


def create(client: TestClient, owner: Account, **body: object) -> dict[str, object]:
    answer = client.post(TOKENS, json={"name": "scale at the press", **body}, headers=bearer(owner))
    assert answer.status_code == 201, answer.text
    created: dict[str, object] = answer.json()
    return created


def as_bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_new_token_is_shown_once_and_works(
    client: TestClient, account: dict[UserRole, Account]
) -> None:
    owner = account[UserRole.OPERATOR]
    created = create(client, owner)
    token = str(created["token"])
    assert token.startswith(credentials.TOKEN_PREFIX)
    assert created["prefix"] == token[: credentials.SHOWN_CHARS]
    assert created["revoked_at"] is None
    me = client.get(ME, headers=as_bearer(token))
    assert me.status_code == 200
    assert me.json()["id"] == str(owner.id)

    listed = client.get(TOKENS, headers=bearer(owner))
    assert listed.status_code == 200
    mine = [t for t in listed.json() if t["id"] == created["id"]]
    assert len(mine) == 1
    assert "token" not in mine[0]
    assert mine[0]["last_used_at"] is not None
    assert token not in listed.text
    assert all("token" not in t for t in listed.json())


def test_a_revoked_token_is_refused(client: TestClient, account: dict[UserRole, Account]) -> None:
    owner = account[UserRole.OPERATOR]
    created = create(client, owner)
    revoked = client.post(f"{TOKENS}/{created['id']}/revoke", headers=bearer(owner))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert_problem(client.get(ME, headers=as_bearer(created["token"])), 401, "not_authenticated")
    # Revoking again keeps the first time.
    again = client.post(f"{TOKENS}/{created['id']}/revoke", headers=bearer(owner))
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    # The owner's other tokens still work.
    assert client.get(ME, headers=bearer(owner)).status_code == 200


def test_an_expired_token_is_refused(
    client: TestClient, account: dict[UserRole, Account], api_engine: Engine
) -> None:
    created = create(client, account[UserRole.VIEWER], expires_in_days=1)
    assert client.get(ME, headers=as_bearer(created["token"])).status_code == 200
    execute(
        api_engine,
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=created["id"],
    )
    assert_problem(client.get(ME, headers=as_bearer(created["token"])), 401, "not_authenticated")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer    ",
        "Token cidery_abc",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-cidery-token",
        "Bearer cidery_but-not-a-real-one",
    ],
)
def test_a_malformed_or_unknown_authorization_is_refused(client: TestClient, header: str) -> None:
    answer = client.get(ME, headers={"Authorization": header})
    assert_problem(answer, 401, "not_authenticated")


def test_a_public_route_ignores_credentials_that_do_not_hold(client: TestClient) -> None:
    """Health checks and signing in need no credentials, so bad ones do not stop them."""
    assert client.get("/healthz", headers={"Authorization": "Bearer nonsense"}).status_code == 200


def test_another_user_cannot_revoke_my_token(
    client: TestClient, account: dict[UserRole, Account]
) -> None:
    created = create(client, account[UserRole.VIEWER])
    other = client.post(f"{TOKENS}/{created['id']}/revoke", headers=bearer(account[UserRole.ADMIN]))
    assert_problem(other, 404, "not_found")
    assert client.get(ME, headers=as_bearer(created["token"])).status_code == 200
    listed = client.get(TOKENS, headers=bearer(account[UserRole.ADMIN])).json()
    assert created["id"] not in [t["id"] for t in listed]
    assert_problem(
        client.post(f"{TOKENS}/{unknown()}/revoke", headers=bearer(account[UserRole.VIEWER])),
        404,
        "not_found",
    )
