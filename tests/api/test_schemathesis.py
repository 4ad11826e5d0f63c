"""Every operation of the OpenAPI document, fuzzed against the app by schemathesis.

Schemathesis reads the document the app serves and, for each operation, sends
requests generated from its parameters and body schemas (valid ones, and the
edge cases of its coverage phase), as an operator with an API token. Each answer
must not be a server error, must have a documented status, and must match the
documented schema of that status and media type.

Deterministic and bounded: derandomized, a few examples per operation, no
example database. The app commits what it accepts; that lands in the API tests'
shared database, where every other test makes and counts data of its own.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cidery.api import openapi
from cidery.api.app import create_app
from cidery.api.settings import ApiSettings
from cidery.models.enums import UserRole
from tests.api.conftest import Account, bearer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The document as the app serves it at /openapi.json, read when the module is
# collected, so each operation is a test of its own. Building the app connects to
# nothing; the requests go to ``fuzzed_app``, the same app on the test database.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(ApiSettings(database_url=openapi.UNUSED_DATABASE_URL))
)


@pytest.fixture(scope="module")
def fuzzed_app(api_url: str) -> FastAPI:
    # An app of its own: schemathesis runs its lifespan (the engine) in a thread of
    # its own, which must not share app.state with the other tests' clients.
    return create_app(ApiSettings(database_url=api_url))


@schema.parametrize()
@hypothesis.settings(
    max_examples=20,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_as_documented(
    case: Case, fuzzed_app: FastAPI, account: dict[UserRole, Account]
) -> None:
    case.call_and_validate(
        headers=bearer(account[UserRole.OPERATOR]), checks=CHECKS, app=fuzzed_app
    )
