"""Idempotent saves over HTTP, after the IETF draft "The Idempotency-Key HTTP Header Field".

Every POST and PATCH accepts ``Idempotency-Key``; adding a load and completing a
run require it (a phone on weak Wi-Fi retries exactly those). A retry with the same
key and body gets the first answer again (``Idempotent-Replayed: true``) and writes
nothing; the same key with another body is refused (422); a retry while the first
request is still running is told to wait (409, ``Retry-After``). Only successes are
remembered: a refused save wrote nothing, so its retry is simply tried again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from cidery.accounts import idempotency
from cidery.api.problems import ApiError, problem_response
from cidery.api.security import Call

HEADER = "Idempotency-Key"
# Printable ASCII without spaces, as a header value travels safely (a UUID fits).
_KEY = re.compile(r"[\x21-\x7e]{1,255}")

# What a route that requires the key declares (``@router.post(..., **KEY_REQUIRED)``),
# besides ``respond(required=True)``: the OpenAPI document then marks the header
# required and says what its 400 means (cidery.api.openapi).
REQUIRED_EXTENSION = "x-idempotency-key-required"
KEY_REQUIRED: dict[str, Any] = {
    "responses": {
        400: problem_response("No Idempotency-Key header, or a body that cannot be parsed")
    },
    "openapi_extra": {REQUIRED_EXTENSION: True},
}
# The header's schema in the OpenAPI document (what ``_KEY`` accepts).
KEY_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": "^[\\x21-\\x7e]+$",
    "examples": ["0b6a3a5e-6a1f-4a43-9f7e-3d1c1f9b2d77"],
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="A unique value per save (a UUID): a retry with it is answered from memory.",
    ),
]


def respond(
    call: Call,
    key: str | None,
    body: BaseModel | None,
    produce: Callable[[], object],
    *,
    status: int = 200,
    required: bool = False,
) -> JSONResponse:
    """Run ``produce`` once per key: the save and its remembered answer in one transaction.

    ``produce`` returns an API type, a model or a dataclass: either is sent as its JSON
    form (``to_jsonable_python`` serialises both by their own schema)."""
    if key is None:
        if required:
            raise ApiError(
                "idempotency_key_missing", f"send an {HEADER} header (a new UUID per save)"
            )
        return JSONResponse(to_jsonable_python(produce()), status_code=status)
    if not _KEY.fullmatch(key):
        raise ApiError(
            "invalid_input",
            f"{HEADER} must be 1-255 printable characters without spaces",
            errors=[{"field": HEADER, "message": "1-255 printable ASCII characters"}],
        )
    user_id = call.signed_in.user_id
    request = call.request
    print_ = idempotency.fingerprint(
        request.method,
        request.url.path,
        body.model_dump(mode="json", exclude_unset=True) if body is not None else None,
    )
    if not idempotency.claim(call.session, user_id, key):
        raise ApiError(
            "idempotency_in_flight",
            "a request with this Idempotency-Key is still running; retry in a moment",
        )
    earlier = idempotency.stored(call.session, user_id, key)
    if earlier is not None:
        if earlier.fingerprint != print_:
            raise ApiError(
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request; use a new key",
            )
        return JSONResponse(
            earlier.body, status_code=earlier.status, headers={"Idempotent-Replayed": "true"}
        )
    answer = to_jsonable_python(produce())
    idempotency.remember(
        call.session,
        user_id,
        key,
        method=request.method,
        path=request.url.path,
        fingerprint=print_,
        status=status,
        body=answer,
    )
    return JSONResponse(answer, status_code=status)


async def save(
    call: Call,
    key: str | None,
    body: BaseModel | None,
    work: Callable[[Call], object],
    *,
    status: int = 200,
    required: bool = False,
) -> JSONResponse:
    """A save of a route: ``work(call)`` once per key, in the request's transaction."""
    return await call.run(
        lambda call: respond(call, key, body, lambda: work(call), status=status, required=required)
    )
