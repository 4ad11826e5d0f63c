"""Every route and every role: the auth answer follows the one permission table.

The routes are read from the app itself (the real APIRoutes with their full paths,
behind FastAPI's included routers), each with the permission its ``allow(...)``
dependency declares; what each role may do comes from :func:`cidery.press.access.may`.
A route added without a permission, or a new kind of route, fails here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cidery.api.app import create_app
from cidery.api.security import PUBLIC, SIGNED_IN, Permission, permission_of
from cidery.api.settings import ApiSettings
from cidery.models.enums import UserRole
from cidery.press.access import Action, Actor, may
from tests.api.conftest import PASSWORD, Account, Fruit, bearer, new_key, sign_in
from tests.api.support import API, assert_problem, count

# FastAPI's own pages and the pages' static files: the only routes that are not the
# app's APIRoutes.
DOCUMENTATION = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/static"}
UNSAFE = {"POST", "PATCH", "PUT", "DELETE"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the template, with the router prefixes: /api/v1/press-runs/{run_id}
    permissions: tuple[Permission, ...]  # as declared by the route's dependencies
    has_body: bool
    page: bool  # a page (cidery.web, HTML, cookie only) rather than an API operation

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


def endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            assert context.path in DOCUMENTATION, f"a route that is not an APIRoute: {context.path}"
            continue
        declared = tuple(
            p
            for d in _dependants(route.dependant)
            if d.call is not None and (p := permission_of(d.call)) is not None
        )
        assert context.path is not None
        for method in sorted(context.methods or ()):
            found.append(
                Endpoint(
                    method,
                    context.path,
                    declared,
                    route.body_field is not None,
                    page=not route.include_in_schema,
                )
            )
    return found


# Built at collection to name the tests; nothing connects until a request is served.
_ROUTES = endpoints(create_app(ApiSettings(database_url="postgresql+psycopg://unused@/unused")))


def test_the_routes_found_are_the_documented_operations(api_app: FastAPI) -> None:
    found = {(e.method, e.path) for e in endpoints(api_app) if not e.page}
    documented = {
        (method.upper(), path)
        for path, operations in api_app.openapi()["paths"].items()
        for method in operations
    }
    assert found == documented
    assert found == {(e.method, e.path) for e in _ROUTES if not e.page}
    # The pages were found too.
    assert ("GET", "/pressing") in {(e.method, e.path) for e in _ROUTES if e.page}
    # The walk found the routers' routes, not only the app's own.
    assert ("POST", f"{API}/press-runs/{{run_id}}/loads") in found


@pytest.mark.parametrize("endpoint", _ROUTES, ids=str)
def test_every_route_declares_exactly_one_permission(endpoint: Endpoint) -> None:
    assert len(endpoint.permissions) == 1, f"{endpoint} declares {endpoint.permissions}"


def test_a_route_without_a_permission_is_found() -> None:
    """The check above can fail: a route that forgot ``allow(...)`` has no permission."""
    app = FastAPI()

    @app.get("/forgotten")
    def forgotten() -> None:
        return None

    assert [e.permissions for e in endpoints(app)] == [()]


def body_for(endpoint: Endpoint, account: dict[UserRole, Account]) -> dict[str, Any]:
    """A valid body for the route, naming nothing that exists (the auth answer is the point)."""
    something = str(uuid.uuid4())
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/auth/sign-in"): {"email": account[UserRole.VIEWER].email, "password": PASSWORD},
        ("POST", "/auth/tokens"): {"name": "matrix"},
        ("POST", "/press-runs"): {"vendor_id": something},
        ("POST", "/press-runs/{run_id}/loads"): {
            "purchase_item_id": something,
            "weight": "10",
            "weight_unit": "kg",
        },
        ("PATCH", "/press-runs/{run_id}/loads/{load_id}"): {"weight": "10", "weight_unit": "kg"},
        ("POST", "/press-runs/{run_id}/loads/{load_id}/void"): {"reason": "matrix"},
        ("POST", "/press-runs/{run_id}/complete"): {
            "juice_volume": "10",
            "juice_volume_unit": "L",
            "vessel_id": something,
        },
        ("POST", "/press-runs/{run_id}/cancel"): {"reason": "matrix"},
        ("POST", "/purchase-lines/{item_id}/write-offs"): {"reason": "matrix"},
        ("POST", "/press-runs/{run_id}/recompute-costs"): {"reason": "matrix"},
        ("POST", "/users"): {
            "email": f"matrix-{something}@cidery.example",
            "name": "Matrix",
            "role": "viewer",
            "password": PASSWORD,
        },
        ("PATCH", "/users/{user_id}"): {"name": "Matrix"},
    }
    key = (endpoint.method, endpoint.path.removeprefix(API))
    assert key in bodies, f"{endpoint} takes a body: add a sample of it here"
    return bodies[key]


def expected(permission: Permission, role: UserRole | None) -> int | None:
    """401 or 403 for a caller the route refuses; None for one it lets through."""
    if permission is PUBLIC:
        return None
    if role is None:
        return 401
    if permission is SIGNED_IN:
        return None
    assert isinstance(permission, Action)
    return None if may(Actor(user_id=uuid.uuid4(), role=role), permission) else 403


CALLERS: tuple[UserRole | None, ...] = (None, UserRole.VIEWER, UserRole.OPERATOR, UserRole.ADMIN)


@pytest.mark.parametrize("endpoint", [e for e in _ROUTES if not e.page], ids=str)
def test_each_role_gets_the_answer_the_permission_table_gives(
    client: TestClient, account: dict[UserRole, Account], endpoint: Endpoint
) -> None:
    (permission,) = endpoint.permissions
    path = re.sub(r"\{[a-z_]+\}", lambda _: str(uuid.uuid4()), endpoint.path)
    wrong = []
    for role in CALLERS:
        headers = bearer(account[role]) if role is not None else {}
        if endpoint.method in UNSAFE:
            headers.update(new_key())
        body = body_for(endpoint, account) if endpoint.has_body else None
        answer = client.request(endpoint.method, path, json=body, headers=headers)
        want = expected(permission, role)
        who = role.value if role else "anonymous"
        if want is None:
            if answer.status_code in (401, 403) or answer.status_code >= 500:
                wrong.append(f"{who}: got {answer.status_code} {answer.text}")
        elif answer.status_code != want:
            wrong.append(f"{who}: wanted {want}, got {answer.status_code} {answer.text}")
        else:
            code = {401: "not_authenticated", 403: "forbidden"}[want]
            assert_problem(answer, want, code)
    assert not wrong, f"{endpoint} ({permission}):\n" + "\n".join(wrong)


def test_the_matrix_refuses_what_the_table_refuses() -> None:
    """The table the matrix follows is not all-permissive (or the matrix would prove little)."""
    refused = [
        (role, e)
        for e in _ROUTES
        for role in CALLERS
        if e.permissions and expected(e.permissions[0], role) == 403
    ]
    assert {role for role, _ in refused} == {UserRole.VIEWER, UserRole.OPERATOR}
    assert any(e.path == f"{API}/users" for _, e in refused)


# --- CSRF: cookie-authenticated writes must come from the app's pages ----------------------


def _start(client: TestClient, fruit: Fruit, headers: dict[str, str]) -> Any:
    return client.post(
        f"{API}/press-runs", json={"vendor_id": str(fruit.vendor_id)}, headers=headers
    )


def _runs_of(engine: Engine, fruit: Fruit) -> int:
    return count(engine, "SELECT count(*) FROM press_runs WHERE vendor_id = :v", v=fruit.vendor_id)


def test_a_cookie_write_without_the_csrf_token_is_refused(
    client: TestClient, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    csrf = sign_in(client, account[UserRole.OPERATOR].email)
    assert_problem(_start(client, fruit, {}), 403, "csrf_failed")
    assert_problem(_start(client, fruit, {"X-CSRF-Token": "not-it"}), 403, "csrf_failed")
    assert _runs_of(api_engine, fruit) == 0
    # Reads need no token; the token makes the write pass.
    assert client.get(f"{API}/press-runs").status_code == 200
    assert _start(client, fruit, csrf).status_code == 201
    assert _runs_of(api_engine, fruit) == 1


def test_a_cookie_write_from_another_site_is_refused(
    client: TestClient, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    csrf = sign_in(client, account[UserRole.OPERATOR].email)
    evil = {**csrf, "Origin": "https://evil.example"}
    assert_problem(_start(client, fruit, evil), 403, "csrf_failed")
    referer = {**csrf, "Referer": "https://evil.example/press"}
    assert_problem(_start(client, fruit, referer), 403, "csrf_failed")
    assert _runs_of(api_engine, fruit) == 0
    own = {**csrf, "Origin": "http://testserver"}
    assert _start(client, fruit, own).status_code == 201
    own_page = {**csrf, "Referer": "http://testserver/press"}
    assert _start(client, fruit, own_page).status_code == 201
    assert _runs_of(api_engine, fruit) == 2


def test_a_bearer_write_needs_no_csrf_token(
    client: TestClient, account: dict[UserRole, Account], fruit: Fruit
) -> None:
    headers = {**bearer(account[UserRole.OPERATOR]), "Origin": "https://evil.example"}
    assert _start(client, fruit, headers).status_code == 201


# --- the pages: the same table, answered as pages ------------------------------------------


@pytest.fixture(scope="module")
def page_sessions(api_app: FastAPI, account: dict[UserRole, Account]) -> Any:
    """A signed-in browser session per role (its cookie and CSRF token), made once;
    ``fresh=True`` for a test that ends the session it is given (signing out)."""
    made: dict[UserRole, tuple[str, str]] = {}

    def session_of(role: UserRole, fresh: bool = False) -> tuple[str, str]:
        if fresh or role not in made:
            with TestClient(api_app) as browser:
                csrf = sign_in(browser, account[role].email)["X-CSRF-Token"]
                cookie = browser.cookies.get("cidery_session")
                assert cookie is not None
            if fresh:
                return cookie, csrf
            made[role] = (cookie, csrf)
        return made[role]

    return session_of


@pytest.mark.parametrize("endpoint", [e for e in _ROUTES if e.page], ids=str)
def test_each_role_gets_the_page_the_permission_table_gives(
    client: TestClient, page_sessions: Any, endpoint: Endpoint
) -> None:
    """Not signed in: a redirect to the sign-in page; a role the table refuses: 403."""
    (permission,) = endpoint.permissions
    path = re.sub(r"\{[a-z_]+\}", lambda _: str(uuid.uuid4()), endpoint.path)
    # Signing in or out ends the browser's session: those get a session of their own,
    # and signing out answers, as signing in first would, with the sign-in page.
    ends_session = endpoint.method == "POST" and endpoint.path in ("/sign-in", "/sign-out")
    wrong = []
    for role in CALLERS:
        client.cookies.clear()
        form: dict[str, str] = {}
        if role is not None:
            cookie, csrf = page_sessions(role, fresh=ends_session)
            client.cookies.set("cidery_session", cookie)
            form = {"csrf_token": csrf}
        answer = client.request(
            endpoint.method,
            path,
            data=form if endpoint.method in UNSAFE else None,
            follow_redirects=False,
        )
        want = expected(permission, role)
        who = role.value if role else "anonymous"
        to_sign_in = answer.status_code == 303 and answer.headers["location"] == "/sign-in"
        if permission is PUBLIC:
            # The sign-in page answers a refused sign-in with itself (401 or 429).
            if answer.status_code >= 500:
                wrong.append(f"{who}: got {answer.status_code}")
        elif want is None:
            refused = to_sign_in and not ends_session
            if refused or answer.status_code in (401, 403) or answer.status_code >= 500:
                wrong.append(f"{who}: got {answer.status_code}")
        elif want == 401 and not to_sign_in:
            wrong.append(f"{who}: wanted the sign-in page, got {answer.status_code}")
        elif want == 403 and answer.status_code != 403:
            wrong.append(f"{who}: wanted 403, got {answer.status_code}")
    assert not wrong, f"{endpoint} ({permission}):\n" + "\n".join(wrong)
