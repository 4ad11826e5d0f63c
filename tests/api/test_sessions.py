"""Browser sessions: the cookie, signing out, idle and absolute expiry, users changed by an admin.

Time is moved in the database (``last_seen_at``, ``expires_at``), never waited for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cidery import credentials
from cidery.accounts import rules
from cidery.api.security import SESSION_COOKIE
from cidery.api.settings import ApiSettings
from cidery.models.enums import UserRole
from tests.api.conftest import PASSWORD, Account, bearer, new_account, new_address, sign_in
from tests.api.support import API, app_client, assert_problem, count, execute

ME = f"{API}/auth/me"


def session_cookie(answer: Any) -> tuple[str, list[str]]:
    """The session token the answer sets, and the cookie's attributes (lower case)."""
    (header,) = [h for h in answer.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)]
    pair, *attributes = [part.strip() for part in header.split(";")]
    return pair.split("=", 1)[1], [a.lower() for a in attributes]


def with_cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={token}"}


def sign_in_answer(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    return client.post(f"{API}/auth/sign-in", json={"email": email, "password": password})


def test_the_session_cookie_is_http_only_lax_and_site_wide(
    client: TestClient, account: dict[UserRole, Account]
) -> None:
    answer = sign_in_answer(client, account[UserRole.VIEWER].email)
    assert answer.status_code == 200, answer.text
    token, attributes = session_cookie(answer)
    assert token
    assert token not in answer.text  # the session travels in the cookie only
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert f"max-age={int(rules.ABSOLUTE_LIMIT.total_seconds())}" in attributes
    assert "secure" not in attributes
    body = answer.json()
    assert body["user"]["email"] == account[UserRole.VIEWER].email
    assert body["csrf_token"]
    assert "password" not in answer.text


def test_the_cookie_is_secure_when_the_app_is_served_over_tls(
    api_url: str, account: dict[UserRole, Account]
) -> None:
    with app_client(ApiSettings(database_url=api_url, secure_cookies=True)) as client:
        answer = sign_in_answer(client, account[UserRole.VIEWER].email)
        assert answer.status_code == 200, answer.text
        _, attributes = session_cookie(answer)
    assert "secure" in attributes
    assert "httponly" in attributes


def test_me_is_the_signed_in_user_by_cookie_or_token(
    client: TestClient, account: dict[UserRole, Account]
) -> None:
    operator = account[UserRole.OPERATOR]
    by_token = client.get(ME, headers=bearer(operator))
    assert by_token.status_code == 200
    assert by_token.json()["id"] == str(operator.id)
    assert by_token.json()["role"] == "operator"
    assert "password_hash" not in by_token.text
    sign_in(client, operator.email)
    by_cookie = client.get(ME)
    assert by_cookie.json() == {
        **by_token.json(),
        "last_login_at": by_cookie.json()["last_login_at"],
    }
    assert_problem(TestClient(client.app).get(ME), 401, "not_authenticated")


def test_signing_out_ends_the_session(
    client: TestClient, account: dict[UserRole, Account], api_engine: Engine
) -> None:
    answer = sign_in_answer(client, account[UserRole.VIEWER].email)
    token, _ = session_cookie(answer)
    csrf = {"X-CSRF-Token": answer.json()["csrf_token"]}
    assert client.get(ME).status_code == 200
    out = client.post(f"{API}/auth/sign-out", headers=csrf)
    assert out.status_code == 204
    assert any(
        h.startswith(f"{SESSION_COOKIE}=") and "max-age=0" in h.lower()
        for h in out.headers.get_list("set-cookie")
    )
    # The old cookie, sent again (say, by a copy of it), is refused.
    fresh = TestClient(client.app, raise_server_exceptions=False)
    assert_problem(fresh.get(ME, headers=with_cookie(token)), 401, "not_authenticated")
    revoked = "SELECT count(*) FROM auth_sessions WHERE token_hash = :h AND revoked_at IS NOT NULL"
    assert count(api_engine, revoked, h=credentials.digest(token)) == 1


def _signed_in(client: TestClient, email: str) -> tuple[str, bytes]:
    token, _ = session_cookie(sign_in_answer(client, email))
    return token, credentials.digest(token)


def test_a_session_idle_past_the_limit_ends(
    client: TestClient, account: dict[UserRole, Account], api_engine: Engine
) -> None:
    _, digest = _signed_in(client, account[UserRole.VIEWER].email)
    move = (
        "UPDATE auth_sessions SET last_seen_at = now() - CAST(:ago AS interval)"
        " WHERE token_hash = :h"
    )
    # Just inside the limit it still works, and the use slides the idle window on.
    execute(api_engine, move, ago="7 hours 59 minutes", h=digest)
    assert client.get(ME).status_code == 200
    recent = (
        "SELECT count(*) FROM auth_sessions"
        " WHERE token_hash = :h AND last_seen_at > now() - interval '1 minute'"
    )
    assert count(api_engine, recent, h=digest) == 1
    execute(api_engine, move, ago="9 hours", h=digest)
    assert_problem(client.get(ME), 401, "not_authenticated")
    # The browser still sends the dead cookie: signing in again works all the same.
    assert sign_in_answer(client, account[UserRole.VIEWER].email).status_code == 200
    assert client.get(ME).status_code == 200


def test_a_session_ends_at_its_absolute_limit_however_busy(
    client: TestClient, account: dict[UserRole, Account], api_engine: Engine
) -> None:
    _, digest = _signed_in(client, account[UserRole.VIEWER].email)
    lifetime = "SELECT expires_at - created_at FROM auth_sessions WHERE token_hash = :h"
    with api_engine.connect() as conn:
        assert conn.execute(text(lifetime), {"h": digest}).scalar_one() == rules.ABSOLUTE_LIMIT
    execute(
        api_engine,
        # Signed in a week and a second ago, and used a moment ago.
        "UPDATE auth_sessions SET created_at = now() - interval '7 days 1 second',"
        " expires_at = now() - interval '1 second', last_seen_at = now() WHERE token_hash = :h",
        h=digest,
    )
    assert_problem(client.get(ME), 401, "not_authenticated")


def test_a_deactivated_user_is_shut_out_at_once(
    client: TestClient,
    client_at: Callable[[tuple[str, int]], TestClient],
    account: dict[UserRole, Account],
    api_engine: Engine,
) -> None:
    leaving = new_account(api_engine, UserRole.OPERATOR)
    browser = client_at(new_address())
    sign_in(browser, leaving.email)
    assert browser.get(ME).status_code == 200
    assert client.get(ME, headers=bearer(leaving)).status_code == 200

    answer = client.patch(
        f"{API}/users/{leaving.id}",
        json={"is_active": False},
        headers=bearer(account[UserRole.ADMIN]),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["is_active"] is False
    assert_problem(browser.get(ME), 401, "not_authenticated")
    assert_problem(client.get(ME, headers=bearer(leaving)), 401, "not_authenticated")
    assert_problem(sign_in_answer(browser, leaving.email), 401, "sign_in_failed")


def test_a_demoted_user_acts_in_the_new_role(
    client: TestClient,
    client_at: Callable[[tuple[str, int]], TestClient],
    account: dict[UserRole, Account],
    api_engine: Engine,
) -> None:
    demoted = new_account(api_engine, UserRole.ADMIN)
    browser = client_at(new_address())
    sign_in(browser, demoted.email)
    assert browser.get(f"{API}/users").status_code == 200

    answer = client.patch(
        f"{API}/users/{demoted.id}",
        json={"role": "viewer"},
        headers=bearer(account[UserRole.ADMIN]),
    )
    assert answer.status_code == 200, answer.text
    # Sessions and tokens of the old role are ended: a new sign-in gets the new role.
    assert_problem(browser.get(f"{API}/users"), 401, "not_authenticated")
    assert_problem(client.get(ME, headers=bearer(demoted)), 401, "not_authenticated")
    again = client_at(new_address())
    sign_in(again, demoted.email)
    assert again.get(ME).json()["role"] == "viewer"
    assert_problem(again.get(f"{API}/users"), 403, "forbidden")
    assert again.get(f"{API}/press-runs").status_code == 200


def _without_request_id(answer: Any) -> dict[str, Any]:
    body: dict[str, Any] = answer.json()
    body.pop("request_id")
    return body


def test_a_wrong_password_and_an_unknown_email_are_answered_alike(
    client_at: Callable[[tuple[str, int]], TestClient], account: dict[UserRole, Account]
) -> None:
    browser = client_at(new_address())
    wrong = sign_in_answer(browser, account[UserRole.VIEWER].email, "not the password")
    nobody = sign_in_answer(browser, "nobody-at-all@cidery.example", "not the password")
    assert_problem(wrong, 401, "sign_in_failed")
    assert_problem(nobody, 401, "sign_in_failed")
    assert _without_request_id(wrong) == _without_request_id(nobody)
    assert "set-cookie" not in wrong.headers
