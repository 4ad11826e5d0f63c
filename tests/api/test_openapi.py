"""The OpenAPI document: committed as served, and readable by a client generator."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cidery.api import idempotency, openapi, problems
from cidery.models.enums import UserRole
from tests.api.conftest import Account, bearer

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"
PUBLIC_OPERATIONS = {"sign_in", "healthz", "readyz"}
KEY_REQUIRED_OPERATIONS = {"add_load", "complete_run"}


@pytest.fixture(scope="module")
def document(api_app: FastAPI) -> dict[str, Any]:
    return api_app.openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_the_committed_document_is_the_apps(api_app: FastAPI) -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi.render(api_app), (
        "openapi.json is out of date with the app: regenerate it with `make openapi` "
        "(.venv/bin/cidery types openapi openapi.json) and commit it"
    )


def test_it_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")


def test_every_operation_has_a_readable_unique_id(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", i) for i in ids), ids


def test_every_operation_documents_the_problems_as_problem_json(
    document: dict[str, Any],
) -> None:
    problem = {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        for status in problems.ERROR_RESPONSES:
            if (path, status) == ("/readyz", 503):
                continue  # readiness answers 503 with its own body
            assert responses[str(status)]["content"] == problem, (method, path, status)
        for status, response in responses.items():
            if not status.startswith("2") and (path, status) != ("/readyz", "503"):
                assert response["content"] == problem, (method, path, status)


def test_sign_in_documents_its_back_off(document: dict[str, Any]) -> None:
    assert "429" in document["paths"]["/api/v1/auth/sign-in"]["post"]["responses"]


def test_the_idempotency_key_is_documented_and_required_where_it_is(
    document: dict[str, Any],
) -> None:
    seen = set()
    for method, path, operation in _operations(document):
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        key = headers.get(idempotency.HEADER)
        if method in ("POST", "PATCH") and operation["operationId"] not in (
            "sign_in",
            "sign_out",
            "revoke_token",
        ):
            assert key is not None, (method, path)
        if key is None:
            continue
        assert key["schema"]["type"] == "string"
        required = operation["operationId"] in KEY_REQUIRED_OPERATIONS
        assert key["required"] is required, (method, path)
        bad_request = operation["responses"]["400"]["description"]
        assert ("Idempotency-Key" in bad_request) is required, (method, path)
        seen.add(operation["operationId"])
    assert seen >= KEY_REQUIRED_OPERATIONS
    assert idempotency.REQUIRED_EXTENSION not in json.dumps(document)


def test_security_schemes_are_declared_and_used(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["session"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "cidery_session",
        "description": schemes["session"]["description"],
    }
    assert schemes["api_token"]["type"] == "http"
    assert schemes["api_token"]["scheme"] == "bearer"
    for _, _, operation in _operations(document):
        if operation["operationId"] in PUBLIC_OPERATIONS:
            assert "security" not in operation, operation["operationId"]
        else:
            assert operation["security"] == [{"session": []}, {"api_token": []}]


def test_the_interactive_docs_are_served(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "swagger" in page.text.lower()
    assert client.get("/openapi.json").json() == json.loads(COMMITTED.read_text())


BODIES = {
    "loads": {"purchase_item_id": str(uuid.uuid4()), "weight": "10", "weight_unit": "kg"},
    "complete": {"juice_volume": "5", "juice_volume_unit": "L", "vessel_id": str(uuid.uuid4())},
}


@pytest.mark.parametrize("action", sorted(BODIES))
def test_a_save_that_requires_the_key_answers_400_without_it(
    client: TestClient, account: dict[UserRole, Account], action: str
) -> None:
    answer = client.post(
        f"/api/v1/press-runs/{uuid.uuid4()}/{action}",
        json=BODIES[action],
        headers=bearer(account[UserRole.OPERATOR]),
    )
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == problems.MEDIA_TYPE
    assert answer.json()["code"] == "idempotency_key_missing"
