"""Users, for admins: list, create with a role, change role or name, deactivate."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from cidery import accounts
from cidery.api import idempotency
from cidery.api.idempotency import IdempotencyKey
from cidery.api.security import Call, allow
from cidery.press.access import Action

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=list[accounts.UserRead])
async def list_users(call: Call = allow(Action.MANAGE_USERS)) -> list[accounts.UserRead]:
    return await call.run(lambda call: accounts.list_users(call.session, call.actor))


@router.post("", status_code=201, response_model=accounts.UserRead)
async def create_user(
    body: accounts.UserCreate,
    key: IdempotencyKey = None,
    call: Call = allow(Action.MANAGE_USERS),
) -> object:
    """Create a user with a role and an initial password."""
    return await idempotency.save(
        call,
        key,
        body,
        lambda call: accounts.create_user(call.session, call.actor, body),
        status=201,
    )


@router.get("/{user_id}", response_model=accounts.UserRead)
async def get_user(
    user_id: uuid.UUID, call: Call = allow(Action.MANAGE_USERS)
) -> accounts.UserRead:
    return await call.run(lambda call: accounts.get_user(call.session, call.actor, user_id))


@router.patch("/{user_id}", response_model=accounts.UserRead)
async def update_user(
    user_id: uuid.UUID,
    body: accounts.UserUpdate,
    key: IdempotencyKey = None,
    call: Call = allow(Action.MANAGE_USERS),
) -> object:
    """Change the name or role, or deactivate (``is_active: false``): never deleted."""
    return await idempotency.save(
        call, key, body, lambda call: accounts.update_user(call.session, call.actor, user_id, body)
    )
