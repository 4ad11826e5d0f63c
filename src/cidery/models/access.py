"""Who is signed in: browser sessions, API tokens, sign-in throttling, idempotent saves.

Secrets are never stored: a session cookie or an API token is a random value whose
SHA-256 is kept (``token_hash``), so a copy of the database signs nobody in. A token
has 256 bits of entropy, so a fast hash is enough; passwords, chosen by people, get
argon2id (:mod:`cidery.accounts.passwords`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cidery.models.base import Base, UUIDPrimaryKey

_SHA256 = "octet_length(token_hash) = 32"


class AuthSession(UUIDPrimaryKey, Base):
    """A signed-in browser: ended by sign-out (``revoked_at``), idleness or its age."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    # Not a secret on its own (the page reads it to send it back in a header): it only
    # proves that a cookie-authenticated request came from a page of this app.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_agent: Mapped[str | None] = mapped_column(String(400))

    __table_args__ = (
        CheckConstraint(_SHA256, name="token_hash_sha256"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        CheckConstraint("length(csrf_token) >= 32", name="csrf_token_long_enough"),
        Index("auth_sessions_user_id_idx", "user_id"),
    )


class ApiToken(UUIDPrimaryKey, Base):
    """A personal token for programs (``Authorization: Bearer``), shown once, revocable."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    # The token's first characters, to tell tokens apart in a list without the secret.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(_SHA256, name="token_hash_sha256"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        Index("api_tokens_user_id_idx", "user_id"),
    )


class SignInThrottle(Base):
    """Failed sign-ins of one account or one client address, for the growing back-off."""

    __tablename__ = "sign_in_throttles"

    # "account:<lower-cased email>" or "address:<client address>"
    scope: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_failure_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("failures >= 0", name="failures_nonnegative"),)


class IdempotencyKey(Base):
    """A save's ``Idempotency-Key``: written in the transaction of the save it answers.

    A retry with the same key and the same request gets ``response_body`` again and
    writes nothing; the same key with another request is refused.
    """

    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    # SHA-256 of the method, the path and the body as sent.
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary)
    response_status: Mapped[int] = mapped_column(SmallInteger)
    response_body: Mapped[Any] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("octet_length(fingerprint) = 32", name="fingerprint_sha256"),
        CheckConstraint("response_status BETWEEN 200 AND 299", name="response_status_success"),
        CheckConstraint("length(key) > 0", name="key_not_empty"),
        Index("idempotency_keys_expires_at_idx", "expires_at"),
    )
