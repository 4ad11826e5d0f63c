"""sign-in sessions, API tokens, sign-in throttling and idempotency keys

What the HTTP API keeps between requests, in PostgreSQL so that several app
processes share it: browser sessions (``auth_sessions``) and personal API tokens
(``api_tokens``), each stored as the SHA-256 of its secret; failed sign-ins per
account and per client address (``sign_in_throttles``) for the growing back-off;
and the ``Idempotency-Key`` of every save with its stored response
(``idempotency_keys``), written in the save's own transaction.

Reviewed by hand after autogenerate: four new tables, so nothing is rewritten and
no existing row is locked for long; the foreign keys to ``users`` take a brief
SHARE ROW EXCLUSIVE lock on ``users`` (no writes wait on it for more than the
``lock_timeout``). The downgrade keeps the rows, as every rollback does: they
are copied into ``cidery_archive_0006`` before the tables are dropped, and the
next upgrade puts them back, so signed-in users and issued API tokens survive a
rollback and a new upgrade.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 22:00:12.142479
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cidery.migrations.authoring import archive, ops

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Parents first: the order rows are put back in.
TABLES = ("sign_in_throttles", "api_tokens", "auth_sessions", "idempotency_keys")


def upgrade() -> None:
    ops.set_timeouts()
    ops.lint_exception(
        "prefer-bigint-over-int",
        "failed sign-ins in a row of one account or address: the back-off stops them long before int's 2.1 billion",
        column="failures",
    )
    op.create_table(
        "sign_in_throttles",
        sa.Column("scope", sa.String(length=400), nullable=False),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "last_failure_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "failures >= 0", name=op.f("sign_in_throttles_failures_nonnegative_check")
        ),
        sa.PrimaryKeyConstraint("scope", name=op.f("sign_in_throttles_pkey")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("api_tokens_name_not_blank_check")),
        sa.CheckConstraint(
            "octet_length(token_hash) = 32", name=op.f("api_tokens_token_hash_sha256_check")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("api_tokens_user_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("api_tokens_pkey")),
        sa.UniqueConstraint("token_hash", name=op.f("api_tokens_token_hash_key")),
    )
    op.create_index("api_tokens_user_id_idx", "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.String(length=400), nullable=True),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("auth_sessions_expires_after_creation_check")
        ),
        sa.CheckConstraint(
            "length(csrf_token) >= 32", name=op.f("auth_sessions_csrf_token_long_enough_check")
        ),
        sa.CheckConstraint(
            "octet_length(token_hash) = 32", name=op.f("auth_sessions_token_hash_sha256_check")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("auth_sessions_user_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("auth_sessions_pkey")),
        sa.UniqueConstraint("token_hash", name=op.f("auth_sessions_token_hash_key")),
    )
    op.create_index("auth_sessions_user_id_idx", "auth_sessions", ["user_id"], unique=False)
    ops.lint_exception(
        "prefer-bigint-over-smallint",
        "an HTTP status code: three digits, checked to be 200-299",
        column="response_status",
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(), nullable=False),
        sa.Column("response_status", sa.SmallInteger(), nullable=False),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(key) > 0", name=op.f("idempotency_keys_key_not_empty_check")),
        sa.CheckConstraint(
            "octet_length(fingerprint) = 32", name=op.f("idempotency_keys_fingerprint_sha256_check")
        ),
        sa.CheckConstraint(
            "response_status BETWEEN 200 AND 299",
            name=op.f("idempotency_keys_response_status_success_check"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("idempotency_keys_user_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("idempotency_keys_pkey")),
    )
    op.create_index(
        "idempotency_keys_expires_at_idx", "idempotency_keys", ["expires_at"], unique=False
    )
    archive.restore_archived(revision, TABLES)


def downgrade() -> None:
    ops.set_timeouts()
    archive.archive_tables(revision, TABLES)
    op.drop_table("idempotency_keys")
    op.drop_table("auth_sessions")
    op.drop_table("api_tokens")
    op.drop_table("sign_in_throttles")
