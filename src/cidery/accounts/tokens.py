"""Personal API tokens: created by a signed-in user, shown once, stored hashed, revocable."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from cidery import credentials
from cidery.accounts import queries
from cidery.accounts.principal import Principal
from cidery.accounts.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenRead
from cidery.press.errors import NotFound
from cidery.press.inputs import Id, identifier, parse
from cidery.press.translate import reading, writing


def create(
    session: Session, principal: Principal, data: ApiTokenCreate | object
) -> ApiTokenCreated:
    request = parse(ApiTokenCreate, data)
    token = credentials.new_api_token()
    lifetime = timedelta(days=request.expires_in_days) if request.expires_in_days else None
    with writing(session, principal.user_id):
        row = (
            session.connection()
            .execute(
                queries.NEW_TOKEN,
                {
                    "user_id": principal.user_id,
                    "name": request.name,
                    "token_hash": credentials.digest(token),
                    "prefix": token[: credentials.SHOWN_CHARS],
                    "lifetime": lifetime,
                },
            )
            .mappings()
            .one()
        )
    return ApiTokenCreated.model_validate({**row, "token": token})


def list_own(session: Session, principal: Principal) -> list[ApiTokenRead]:
    with reading(principal.user_id):
        rows = session.connection().execute(queries.USER_TOKENS, {"user_id": principal.user_id})
        return [ApiTokenRead.model_validate(dict(r)) for r in rows.mappings()]


def revoke(session: Session, principal: Principal, token_id: Id) -> ApiTokenRead:
    """Revoke one of the principal's own tokens (revoking twice keeps the first time)."""
    id_ = identifier(token_id, "token_id")
    with writing(session, principal.user_id):
        row = (
            session.connection()
            .execute(queries.REVOKE_TOKEN, {"token_id": id_, "owner_id": principal.user_id})
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound("API token", id_)
    return ApiTokenRead.model_validate(dict(row))
