"""Errors as RFC 9457 problem details: the one table from error codes to HTTP statuses.

The services raise transport-free errors with a stable ``code``
(:mod:`cidery.press.errors`, :mod:`cidery.accounts.errors`); this module alone
knows which status each becomes. The body is ``application/problem+json``:
``type`` (a URN naming the code), ``title``, ``status``, ``detail``, ``code``,
``request_id``, and for invalid input ``field`` and ``errors`` (every problem
found), for a refused rule the figures a client needs (``details``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from cidery.errors import CideryError
from cidery.press.errors import DatabaseFailure, PressError

log = logging.getLogger("cidery.api")

MEDIA_TYPE = "application/problem+json"

# code -> (status, title)
STATUSES: MappingProxyType[str, tuple[int, str]] = MappingProxyType(
    {
        "invalid_input": (422, "The request has invalid values"),
        "not_found": (404, "Not found"),
        "not_authenticated": (401, "Sign in first"),
        "sign_in_failed": (401, "Sign-in failed"),
        "forbidden": (403, "Not allowed for your role"),
        "csrf_failed": (403, "The request did not come from this app's pages"),
        "too_many_attempts": (429, "Too many failed sign-ins"),
        "vendor_inactive": (409, "The grower is inactive"),
        "invalid_transition": (409, "Not possible in the run's current state"),
        "vendor_mismatch": (409, "The fruit is from another grower"),
        "insufficient_fruit": (409, "Not enough fruit left on the purchase line"),
        "nothing_left": (409, "No fruit left on the purchase line"),
        "no_loads": (409, "The run has no loads"),
        "vessel_unavailable": (409, "The vessel is not available"),
        "vessel_too_small": (409, "The vessel is too small"),
        "implausible_yield": (409, "Implausible yield"),
        "volumes_do_not_add_up": (422, "The vessels' litres do not add up to the juice"),
        "email_taken": (409, "The email is taken"),
        "last_admin": (409, "The last admin must stay"),
        "constraint_violation": (409, "The database refused the change"),
        "idempotency_key_missing": (400, "An Idempotency-Key header is required"),
        "idempotency_key_reused": (422, "The Idempotency-Key was used for another request"),
        "idempotency_in_flight": (409, "A request with this Idempotency-Key is in progress"),
        "conflict": (503, "Busy: try again"),
        "database_failure": (503, "The database failed"),
        "database_unavailable": (503, "The database is unavailable"),
        "payload_too_large": (413, "The request body is too large"),
        "http_error": (400, "Bad request"),
        "internal_error": (500, "Internal server error"),
    }
)
# Retryable answers tell the client when to try again.
RETRY_AFTER_S = 1


class Problem(BaseModel):
    """An error answer (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    field: str | None = Field(default=None, description="The first offending field, if any.")
    errors: list[dict[str, str]] | None = Field(
        default=None, description="Every invalid field with its message."
    )
    details: dict[str, Any] | None = Field(
        default=None, description="The figures of a refused rule (say, kg left)."
    )


class ApiError(CideryError):
    """An error of the HTTP layer itself (CSRF, idempotency), with a code of the table."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def problem(
    request: Request,
    code: str,
    detail: str,
    *,
    status: int | None = None,
    errors: list[dict[str, str]] | None = None,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    known_status, title = STATUSES.get(code, STATUSES["internal_error"])
    status = status or known_status
    body = Problem(
        type=f"urn:cidery:problem:{code}",
        title=title,
        status=status,
        detail=detail,
        code=code,
        request_id=request_id(request),
        field=errors[0]["field"] if errors else None,
        errors=errors,
        details=details or None,
    )
    headers = dict(headers or {})
    if status in (429, 503) or code == "idempotency_in_flight":
        headers.setdefault("Retry-After", str(RETRY_AFTER_S))
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PressError | ApiError)
    details = dict(exc.details)
    errors = details.pop("errors", None)
    headers = {}
    if "retry_after_s" in details:
        headers["Retry-After"] = str(details["retry_after_s"])
    status = None
    if isinstance(exc, DatabaseFailure) and not exc.retryable:
        status = 500
    return problem(
        request, exc.code, str(exc), status=status, errors=errors, details=details, headers=headers
    )


def _cidery(request: Request, exc: Exception) -> JSONResponse:
    code = getattr(exc, "code", "internal_error")
    return problem(request, code if code in STATUSES else "database_unavailable", str(exc))


def _field(location: tuple[Any, ...]) -> str:
    # FastAPI puts where the value was first: body, query, path, header.
    parts = [str(p) for p in location[1:]] if len(location) > 1 else [str(p) for p in location]
    return ".".join(parts) or "body"


def _invalid(error: Mapping[str, Any]) -> dict[str, str]:
    location = tuple(error["loc"])
    if error.get("type") == "json_invalid":
        # FastAPI puts the character where parsing stopped where a field name would be.
        where = f" (at character {location[1]})" if len(location) > 1 else ""
        return {"field": "body", "message": f"not valid JSON{where}"}
    return {"field": _field(location), "message": error["msg"]}


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The values as sent are never echoed back: they may be long, or secret.
    errors = [_invalid(e) for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(request, "invalid_input", detail, errors=errors)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 401: "not_authenticated", 403: "forbidden"}
    code = codes.get(exc.status_code, "http_error")
    return problem(
        request, code, str(exc.detail), status=exc.status_code, headers=dict(exc.headers or {})
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error (request %s)", request_id(request), exc_info=exc)
    return problem(
        request,
        "internal_error",
        f"something went wrong on the server; quote request id {request_id(request)}",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(PressError, _domain)
    app.add_exception_handler(ApiError, _domain)
    app.add_exception_handler(CideryError, _cidery)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


def problem_response(description: str) -> dict[str, Any]:
    """A problem answer of an operation, for the OpenAPI document (``responses=``)."""
    return {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": description}


# What every operation may answer besides its success, for the OpenAPI document; an
# operation adds its own (400 for a missing Idempotency-Key, 429 for sign-in).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: problem_response(description)
    for status, description in (
        (400, "A body that cannot be parsed"),
        (401, "Not signed in"),
        (403, "Not allowed"),
        (404, "Not found"),
        (409, "Refused by a rule"),
        (422, "Invalid input"),
        (500, "Unexpected server error (quote the request id)"),
        (503, "Busy or unavailable: retry"),
    )
}
