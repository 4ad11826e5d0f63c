"""Managing users: admins create them with a role, change the role, deactivate them.

A user is never deleted: their name stays on the runs and audit rows they wrote. A
deactivated user cannot sign in, and their sessions and tokens end at once; so do a
demoted user's, so a new role applies from the next request. The last active admin
can be neither demoted nor deactivated, or nobody could manage users any more.
Every change writes an audit row (never with the password hash).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cidery import audit, credentials
from cidery.accounts import queries, signin
from cidery.accounts.errors import EmailTaken, LastAdmin
from cidery.accounts.principal import Principal
from cidery.accounts.schemas import UserCreate, UserRead, UserUpdate
from cidery.models.enums import AuditOperation, UserRole
from cidery.press.access import Action, Actor, require
from cidery.press.errors import ConstraintViolation, NotFound
from cidery.press.inputs import Id, identifier, parse
from cidery.press.translate import reading, writing

_EMAIL_KEY = "users_email_key"


def _audited(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in row.items() if k != "password_hash"}


def list_users(session: Session, actor: object) -> list[UserRead]:
    require(actor, Action.MANAGE_USERS)
    with reading():
        rows = session.connection().execute(queries.USERS).mappings()
        return [UserRead.model_validate(dict(r)) for r in rows]


def create_user(session: Session, actor: object, data: UserCreate | object) -> UserRead:
    who = require(actor, Action.MANAGE_USERS)
    request = parse(UserCreate, data)
    password_hash = credentials.hash_password(request.password)
    try:
        with writing(session, who.user_id):
            row = (
                session.connection()
                .execute(
                    insert(queries.users)
                    .values(
                        email=request.email,
                        name=request.name,
                        role=request.role,
                        password_hash=password_hash,
                    )
                    .returning(*queries.USER_COLUMNS)
                )
                .mappings()
                .one()
            )
            audit.record(
                session,
                table="users",
                record_id=row["id"],
                operation=AuditOperation.INSERT,
                actor=who.user_id,
                new=_audited(row),
            )
    except ConstraintViolation as exc:
        if exc.details.get("constraint") == _EMAIL_KEY:
            raise EmailTaken(request.email) from None
        raise
    return UserRead.model_validate(dict(row))


def _last_admin(session: Session, user: Mapping[Any, Any], change: UserUpdate) -> bool:
    if user["role"] != UserRole.ADMIN or not user["is_active"]:
        return False
    demoted = change.role is not None and change.role != UserRole.ADMIN
    if not (demoted or change.is_active is False):
        return False
    admins = session.connection().execute(queries.ACTIVE_ADMINS).scalars().all()
    return len(admins) <= 1


def update_user(
    session: Session, actor: object, user_id: Id, data: UserUpdate | object
) -> UserRead:
    who: Actor = require(actor, Action.MANAGE_USERS)
    id_ = identifier(user_id, "user_id")
    change = parse(UserUpdate, data)
    values = change.model_dump(exclude_none=True)
    with writing(session, who.user_id):
        conn = session.connection()
        old = conn.execute(queries.LOCK_USER, {"user_id": id_}).mappings().first()
        if old is None:
            raise NotFound("user", id_)
        if _last_admin(session, old, change):
            raise LastAdmin()
        new = (
            conn.execute(
                queries.users.update()
                .where(queries.users.c.id == id_)
                .values(**values)  # who changed it is in the audit row
                .returning(*queries.USER_COLUMNS)
            )
            .mappings()
            .one()
        )
        if new["role"] != old["role"] or (old["is_active"] and not new["is_active"]):
            signin.revoke_everything(conn, id_)
        audit.record(
            session,
            table="users",
            record_id=id_,
            operation=AuditOperation.UPDATE,
            actor=who.user_id,
            old=_audited(old),
            new=_audited(new),
        )
    return UserRead.model_validate(dict(new))


def current_user(session: Session, principal: Principal) -> UserRead:
    """The signed-in user's own account."""
    with reading():
        row = (
            session.connection()
            .execute(queries.USER_BY_ID, {"user_id": principal.user_id})
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound("user", principal.user_id)
    return UserRead.model_validate(dict(row))


def get_user(session: Session, actor: object, user_id: Id) -> UserRead:
    require(actor, Action.MANAGE_USERS)
    id_ = identifier(user_id, "user_id")
    with reading():
        row = session.connection().execute(queries.USER_BY_ID, {"user_id": id_}).mappings().first()
    if row is None:
        raise NotFound("user", id_)
    return UserRead.model_validate(dict(row))
