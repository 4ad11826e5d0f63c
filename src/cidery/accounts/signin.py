"""Signing in and out, and telling who a request comes from.

A refused sign-in must still be remembered (the failure counts towards the
back-off), so :func:`sign_in` does not raise: it returns the refusal, and the
caller commits before reporting it.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Select, Update, case, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cidery import credentials
from cidery.accounts import queries, rules
from cidery.accounts.errors import SignInFailed, SignInThrottled
from cidery.accounts.principal import Principal
from cidery.accounts.schemas import SignedIn, SignIn, UserRead
from cidery.press.errors import PressError
from cidery.press.inputs import parse
from cidery.press.translate import reading


@dataclass(frozen=True)
class SignInResult:
    """Either ``signed_in`` with the session's ``token`` (for the cookie), or ``refusal``."""

    signed_in: SignedIn | None = None
    token: str | None = None
    refusal: PressError | None = None


def _scopes(email: str, address: str | None) -> tuple[str, str | None]:
    return f"account:{email.lower()}", (f"address:{address}" if address else None)


def _record_failure(conn: Connection, scope: str, free: int) -> None:
    t = queries.throttles
    counted = (
        insert(t)
        .values(scope=scope, failures=1)
        .on_conflict_do_update(
            index_elements=[t.c.scope],
            set_={
                # Failures older than the memory are forgotten: count from one again.
                "failures": case(
                    (t.c.last_failure_at > func.now() - rules.FAILURE_MEMORY, t.c.failures + 1),
                    else_=1,
                ),
                "last_failure_at": func.now(),
            },
        )
        .returning(t.c.failures)
    )
    wait = rules.backoff_s(conn.execute(counted).scalar_one(), free)
    if wait:
        conn.execute(
            t.update()
            .where(t.c.scope == scope)
            .values(blocked_until=func.now() + timedelta(seconds=wait))
        )


def sign_in(
    session: Session,
    data: SignIn | object,
    *,
    address: str | None = None,
    user_agent: str | None = None,
) -> SignInResult:
    """Check the email and password and open a session, or say why not.

    ``address`` is the client's address (for the per-address back-off), ``user_agent``
    kept with the session so a user can tell their sessions apart.
    """
    credentials_in = parse(SignIn, data)
    account_scope, address_scope = _scopes(credentials_in.email, address)
    scopes = [s for s in (account_scope, address_scope) if s]
    with reading():
        conn = session.connection()
        blocked = conn.execute(queries.BLOCKED_FOR, {"scopes": scopes}).scalar()
        if blocked is not None and blocked > 0:
            return SignInResult(refusal=SignInThrottled(math.ceil(blocked)))
        row = (
            conn.execute(queries.USER_BY_EMAIL, {"email": credentials_in.email}).mappings().first()
        )
        # An unknown or deactivated account is checked against a stand-in hash: a
        # refusal takes as long whichever it was, and answers the same.
        stored = row["password_hash"] if row is not None and row["is_active"] else None
        matches = credentials.verify(credentials_in.password, stored)
        if row is None or not matches:
            _record_failure(conn, account_scope, rules.FREE_FAILURES_PER_ACCOUNT)
            if address_scope:
                _record_failure(conn, address_scope, rules.FREE_FAILURES_PER_ADDRESS)
            return SignInResult(refusal=SignInFailed())
        conn.execute(queries.FORGET_FAILURES, {"scope": account_scope})
        token = credentials.new_secret()
        csrf = credentials.new_secret()
        opened = conn.execute(
            queries.OPEN_SESSION,
            {
                "user_id": row["id"],
                "token_hash": credentials.digest(token),
                "csrf_token": csrf,
                "lifetime": rules.ABSOLUTE_LIMIT,
                "user_agent": (user_agent or "")[:400].replace("\x00", "") or None,
            },
        ).one()
        signed_in_at = conn.execute(
            queries.users.update()
            .where(queries.users.c.id == row["id"])
            .values(last_login_at=func.now())
            .returning(queries.users.c.last_login_at)
        ).scalar_one()
    user = UserRead.model_validate({**row, "last_login_at": signed_in_at})
    return SignInResult(
        signed_in=SignedIn(user=user, csrf_token=csrf, expires_at=opened.expires_at), token=token
    )


def sign_out(session: Session, token: str) -> bool:
    """Revoke the session of ``token``; whether there was one to revoke."""
    with reading():
        result = session.connection().execute(
            queries.REVOKE_SESSION, {"session_hash": credentials.digest(token)}
        )
    return bool(result.rowcount)


def _holder(
    session: Session,
    lookup: Select[Any],
    touch: Update,
    key: str,
    values: dict[str, Any],
) -> Principal | None:
    """The principal ``lookup`` finds; its last use is written at most once a minute
    (``touch``, by the column ``key``), not on every request."""
    with reading():
        conn = session.connection()
        row = conn.execute(lookup, {**values, "touch_every": rules.TOUCH_EVERY}).mappings().first()
        if row is None:
            return None
        if row["stale"]:
            conn.execute(touch, {key: row[key]})
    fields = {name: row[name] for name in _PRINCIPAL_FIELDS if name in row}
    return Principal(**fields)


_PRINCIPAL_FIELDS = ("user_id", "role", "email", "name", "session_id", "csrf_token", "token_id")


def by_session(session: Session, token: str) -> Principal | None:
    """Who holds this session cookie, if it is valid (not revoked, idle or too old)."""
    return _holder(
        session,
        queries.SESSION_PRINCIPAL,
        queries.TOUCH_SESSION,
        "session_id",
        {"token_hash": credentials.digest(token), "idle_limit": rules.IDLE_LIMIT},
    )


def by_token(session: Session, token: str) -> Principal | None:
    """Who holds this API token, if it is valid (not revoked or expired)."""
    if not token.startswith(credentials.TOKEN_PREFIX):
        return None
    return _holder(
        session,
        queries.TOKEN_PRINCIPAL,
        queries.TOUCH_TOKEN,
        "token_id",
        {"token_hash": credentials.digest(token)},
    )


def revoke_everything(conn: Connection, user_id: uuid.UUID) -> None:
    """End every session and token of a user (deactivated, or demoted by an admin)."""
    conn.execute(queries.REVOKE_USER_SESSIONS, {"owner_id": user_id})
    conn.execute(queries.REVOKE_USER_TOKENS, {"owner_id": user_id})
