"""What the API tests check again and again: problem answers, and rows counted in the database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cidery.api.app import create_app
from cidery.api.problems import MEDIA_TYPE, STATUSES
from cidery.api.settings import ApiSettings

API = "/api/v1"


def assert_problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is the problem ``code`` with ``status``, in full; returns its body."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == MEDIA_TYPE, answer.headers
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, body
    assert body["status"] == status, body
    assert body["type"] == f"urn:cidery:problem:{code}", body
    assert body["title"] == STATUSES[code][1], body
    assert isinstance(body["detail"], str), body
    assert body["detail"], body
    assert body["request_id"] == answer.headers["x-request-id"], body
    return body


def count(engine: Engine, sql: str, **params: Any) -> int:
    """A ``SELECT count(*) …`` on committed data."""
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def execute(engine: Engine, sql: str, **params: Any) -> None:
    """One committed statement (moving a timestamp, say), in a transaction of its own."""
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def unknown() -> str:
    """An id of nothing."""
    return str(uuid.uuid4())


@contextmanager
def app_client(settings: ApiSettings, **client: Any) -> Iterator[TestClient]:
    """A client of another app (other settings, another database), its lifespan running."""
    with TestClient(create_app(settings), raise_server_exceptions=False, **client) as test_client:
        yield test_client
