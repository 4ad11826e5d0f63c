"""The statements of the accounts service, named once."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Interval, Table, bindparam, delete, func, insert, select, update

from cidery.models import ApiToken, AuthSession, SignInThrottle, User
from cidery.models.base import live

sessions = cast(Table, AuthSession.__table__)
tokens = cast(Table, ApiToken.__table__)
throttles = cast(Table, SignInThrottle.__table__)
users = cast(Table, User.__table__)

USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.name,
    users.c.role,
    users.c.is_active,
    users.c.last_login_at,
    users.c.created_at,
)

# Seconds until the longest block of any of the scopes ends (NULL: none blocked).
BLOCKED_FOR = select(func.max(func.extract("epoch", throttles.c.blocked_until - func.now()))).where(
    throttles.c.scope.in_(bindparam("scopes", expanding=True))
)

USER_BY_EMAIL = select(*USER_COLUMNS, users.c.password_hash).where(
    func.lower(users.c.email) == func.lower(bindparam("email")), live(users)
)

USER_BY_ID = select(*USER_COLUMNS).where(users.c.id == bindparam("user_id"), live(users))

LOCK_USER = (
    select(*USER_COLUMNS).where(users.c.id == bindparam("user_id"), live(users)).with_for_update()
)

USERS = select(*USER_COLUMNS).where(live(users)).order_by(func.lower(users.c.email))

ACTIVE_ADMINS = (
    select(users.c.id)
    .where(users.c.role == "admin", users.c.is_active, live(users))
    .with_for_update()
)

FORGET_FAILURES = delete(throttles).where(throttles.c.scope == bindparam("scope"))

OPEN_SESSION = (
    insert(sessions)
    .values(expires_at=func.now() + bindparam("lifetime", type_=Interval()))
    .returning(sessions.c.id, sessions.c.expires_at)
)

SESSION_PRINCIPAL = (
    select(
        sessions.c.id.label("session_id"),
        sessions.c.csrf_token,
        (sessions.c.last_seen_at < func.now() - bindparam("touch_every", type_=Interval())).label(
            "stale"
        ),
        users.c.id.label("user_id"),
        users.c.role,
        users.c.email,
        users.c.name,
    )
    .join(users, users.c.id == sessions.c.user_id)
    .where(
        sessions.c.token_hash == bindparam("token_hash"),
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > func.now(),
        sessions.c.last_seen_at > func.now() - bindparam("idle_limit", type_=Interval()),
        users.c.is_active,
        live(users),
    )
)

TOUCH_SESSION = (
    update(sessions).where(sessions.c.id == bindparam("session_id")).values(last_seen_at=func.now())
)

REVOKE_SESSION = (
    update(sessions)
    .where(sessions.c.token_hash == bindparam("session_hash"), sessions.c.revoked_at.is_(None))
    .values(revoked_at=func.now())
)

REVOKE_USER_SESSIONS = (
    update(sessions)
    .where(sessions.c.user_id == bindparam("owner_id"), sessions.c.revoked_at.is_(None))
    .values(revoked_at=func.now())
)

TOKEN_PRINCIPAL = (
    select(
        tokens.c.id.label("token_id"),
        (
            tokens.c.last_used_at.is_(None)
            | (tokens.c.last_used_at < func.now() - bindparam("touch_every", type_=Interval()))
        ).label("stale"),
        users.c.id.label("user_id"),
        users.c.role,
        users.c.email,
        users.c.name,
    )
    .join(users, users.c.id == tokens.c.user_id)
    .where(
        tokens.c.token_hash == bindparam("token_hash"),
        tokens.c.revoked_at.is_(None),
        tokens.c.expires_at.is_(None) | (tokens.c.expires_at > func.now()),
        users.c.is_active,
        live(users),
    )
)

TOUCH_TOKEN = (
    update(tokens).where(tokens.c.id == bindparam("token_id")).values(last_used_at=func.now())
)

TOKEN_COLUMNS = (
    tokens.c.id,
    tokens.c.name,
    tokens.c.prefix,
    tokens.c.created_at,
    tokens.c.last_used_at,
    tokens.c.expires_at,
    tokens.c.revoked_at,
)

# expires_at: NULL (never) when the lifetime is NULL.
NEW_TOKEN = (
    insert(tokens)
    .values(expires_at=func.now() + bindparam("lifetime", type_=Interval()))
    .returning(*TOKEN_COLUMNS)
)

USER_TOKENS = (
    select(*TOKEN_COLUMNS)
    .where(tokens.c.user_id == bindparam("user_id"))
    .order_by(tokens.c.created_at.desc(), tokens.c.id)
)

REVOKE_TOKEN = (
    update(tokens)
    .where(tokens.c.id == bindparam("token_id"), tokens.c.user_id == bindparam("owner_id"))
    .values(revoked_at=func.coalesce(tokens.c.revoked_at, func.now()))
    .returning(*TOKEN_COLUMNS)
)

REVOKE_USER_TOKENS = (
    update(tokens)
    .where(tokens.c.user_id == bindparam("owner_id"), tokens.c.revoked_at.is_(None))
    .values(revoked_at=func.now())
)
