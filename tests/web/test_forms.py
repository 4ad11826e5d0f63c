"""The pages' plain forms keep the API's rules: the session's CSRF token, this site's origin."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from cidery.models.enums import UserRole
from tests.api.conftest import Account, Fruit, api_app, client, sign_in  # noqa: F401  (fixtures)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _csrf(client: TestClient) -> str:  # noqa: F811
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/pressing").text)
    assert found is not None
    return found.group(1)


def test_a_form_without_the_sessions_csrf_token_is_refused(
    client: TestClient,  # noqa: F811
    account: dict[UserRole, Account],
    fruit: Fruit,
) -> None:
    sign_in(client, account[UserRole.OPERATOR].email)
    body = {"vendor_id": str(fruit.vendor_id)}
    refused = client.post("/pressing/start", data={**body, "csrf_token": "forged"}, headers=FORM)
    assert refused.status_code == 403
    assert "out of date or came from another site" in refused.text
    elsewhere = client.post(
        "/pressing/start",
        data={**body, "csrf_token": _csrf(client)},
        headers={**FORM, "Origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403
    started = client.post(
        "/pressing/start",
        data={**body, "csrf_token": _csrf(client)},
        headers=FORM,
        follow_redirects=False,
    )
    assert started.status_code == 303
    assert started.headers["location"].startswith("/pressing/runs/")


def test_pages_send_a_visitor_without_a_session_to_sign_in(client: TestClient) -> None:  # noqa: F811
    for path in ("/", "/pressing", "/pressing/start"):
        answer = client.get(path, follow_redirects=True)
        assert answer.url.path == "/sign-in"
    assert (
        client.post("/sign-out", data={}, headers=FORM, follow_redirects=False).headers["location"]
        == "/sign-in"
    )


def test_sign_in_from_another_sites_page_is_refused(
    client: TestClient,  # noqa: F811
    account: dict[UserRole, Account],
) -> None:
    answer = client.post(
        "/sign-in",
        data={"email": account[UserRole.OPERATOR].email, "password": "correct horse battery"},
        headers={**FORM, "Origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert "cidery_session" not in answer.cookies
