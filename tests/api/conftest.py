"""The API under test: the real app on a migrated database of its own, over HTTP in-process.

The app commits (one transaction per request), so its tests cannot run inside a
rolled-back transaction: they share one database cloned from the migrated template,
and each test makes data of its own (a grower, a run) so that tests do not depend
on each other. Each test gets a fresh client (no cookie carried over).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cidery import accounts
from cidery.api.app import create_app
from cidery.api.settings import ApiSettings
from cidery.db.engine import make_engine, transaction
from cidery.models.enums import Unit, UserRole
from cidery.press.access import Actor
from tests.factories import Factory

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    role: UserRole
    token: str  # an API token of the account, for Bearer requests


@pytest.fixture(scope="session")
def api_url(create_database: Callable[..., str], template_name: str) -> str:
    return create_database("cidery_api", template=template_name)


@pytest.fixture(scope="session")
def api_engine(api_url: str) -> Iterator[Engine]:
    engine = make_engine(api_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def api_app(api_url: str) -> FastAPI:
    return create_app(ApiSettings(database_url=api_url))


def new_account(engine: Engine, role: UserRole, password: str = PASSWORD) -> Account:
    email = f"{role.value}-{uuid.uuid4().hex[:8]}@cidery.example"
    with transaction(engine) as session:
        user = accounts.create_user(
            session,
            Actor.system(),
            {"email": email, "name": f"Test {role.value}", "role": role, "password": password},
        )
        principal = accounts.Principal(user.id, role, email, user.name)
        token = accounts.tokens.create(session, principal, {"name": "tests"}).token
    return Account(user.id, email, role, token)


@pytest.fixture(scope="session")
def account(api_engine: Engine) -> dict[UserRole, Account]:
    """One account per role, shared by the tests (they only read it)."""
    return {role: new_account(api_engine, role) for role in UserRole}


@pytest.fixture
def client(api_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(api_app, raise_server_exceptions=False) as test_client:
        yield test_client


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Sign the client in by cookie; returns the headers a page sends with its writes."""
    answer = client.post("/api/v1/auth/sign-in", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


@dataclass(frozen=True)
class Fruit:
    """A grower with one purchase line of ``quantity_kg`` and an empty vessel, committed."""

    vendor_id: uuid.UUID
    item_id: uuid.UUID
    vessel_id: uuid.UUID


def make_fruit(
    engine: Engine,
    *,
    quantity_kg: Decimal = Decimal("1000"),
    capacity_l: Decimal = Decimal("5000"),
    vendor_active: bool = True,
) -> Fruit:
    """A new grower with one purchase line and a new vessel, committed."""
    with transaction(engine) as session:
        make = Factory(session)
        vendor = make.vendor(is_active=vendor_active)
        item = make.purchase_item(vendor=vendor, quantity=quantity_kg, unit=Unit.KG)
        vessel = make.vessel(capacity_l=capacity_l)
        return Fruit(vendor.id, item.id, vessel.id)


@pytest.fixture
def fruit(api_engine: Engine) -> Fruit:
    return make_fruit(api_engine)


_addresses = itertools.count(1)


def new_address() -> tuple[str, int]:
    """A client address no other test of the session uses (sign-in back-off is per address)."""
    n = next(_addresses)
    return (f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}", 40000)


@pytest.fixture
def client_at(client: TestClient, api_app: FastAPI) -> Callable[[tuple[str, int]], TestClient]:
    """Factory: a client of the running app (``client`` holds its lifespan) from an address."""

    def build(address: tuple[str, int]) -> TestClient:
        return TestClient(api_app, raise_server_exceptions=False, client=address)

    return build


def new_key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}
