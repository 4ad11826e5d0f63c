"""Signing in and out, who am I, and one's own API tokens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from cidery import accounts
from cidery.api import idempotency
from cidery.api.idempotency import IdempotencyKey
from cidery.api.problems import problem_response
from cidery.api.security import (
    PUBLIC,
    SESSION_COOKIE,
    SIGNED_IN,
    Call,
    allow,
    clear_session_cookie,
    set_session_cookie,
    sign_in_browser,
)

router = APIRouter(prefix="/auth", tags=["sign-in"])


@router.post(
    "/sign-in",
    response_model=accounts.SignedIn,
    responses={429: problem_response("Too many failed sign-ins: wait (Retry-After)")},
)
async def sign_in(
    body: accounts.SignIn, response: Response, call: Call = allow(PUBLIC)
) -> accounts.SignedIn:
    """Sign in with email and password: a session cookie, and the CSRF token for writes."""

    def work(call: Call) -> accounts.SignedIn:
        result = sign_in_browser(call.request, call.session, body)
        if result.refusal is not None:
            # The failure counts towards the back-off: keep it, then answer.
            call.session.commit()
            raise result.refusal
        assert result.signed_in is not None
        assert result.token is not None
        set_session_cookie(call.request, response, result.token)
        return result.signed_in

    return await call.run(work)


@router.post("/sign-out", status_code=204)
async def sign_out(response: Response, call: Call = allow(SIGNED_IN)) -> None:
    """End this browser's session (an API token is revoked under /auth/tokens)."""

    def work(call: Call) -> None:
        cookie = call.request.cookies.get(SESSION_COOKIE)
        if cookie:
            accounts.sign_out(call.session, cookie)
        clear_session_cookie(response)

    await call.run(work)


@router.get("/me", response_model=accounts.UserRead)
async def me(call: Call = allow(SIGNED_IN)) -> accounts.UserRead:
    """The signed-in user."""
    return await call.run(lambda call: accounts.current_user(call.session, call.signed_in))


@router.get("/tokens", response_model=list[accounts.ApiTokenRead])
async def list_tokens(call: Call = allow(SIGNED_IN)) -> list[accounts.ApiTokenRead]:
    """Your API tokens (never their secrets)."""
    return await call.run(lambda call: accounts.tokens.list_own(call.session, call.signed_in))


@router.post("/tokens", status_code=201, response_model=accounts.ApiTokenCreated)
async def create_token(
    body: accounts.ApiTokenCreate, key: IdempotencyKey = None, call: Call = allow(SIGNED_IN)
) -> object:
    """A new API token for programs: its ``token`` is shown in this answer only."""
    return await idempotency.save(
        call,
        key,
        body,
        lambda call: accounts.tokens.create(call.session, call.signed_in, body),
        status=201,
    )


@router.post("/tokens/{token_id}/revoke", response_model=accounts.ApiTokenRead)
async def revoke_token(token_id: uuid.UUID, call: Call = allow(SIGNED_IN)) -> accounts.ApiTokenRead:
    """Revoke one of your API tokens; requests with it are refused from now on."""
    return await call.run(
        lambda call: accounts.tokens.revoke(call.session, call.signed_in, token_id)
    )
