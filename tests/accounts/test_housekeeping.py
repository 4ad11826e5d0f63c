"""Expired sessions, idempotency keys and stale sign-in failures are purged; live ones stay."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from cidery.accounts import housekeeping
from tests.factories import new_user


def _count(session: Session, table: str, where: str) -> int:
    return session.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar_one()


def test_purge_deletes_what_expired_and_keeps_the_rest(session: Session) -> None:
    user = new_user(session)
    session.execute(
        text(
            "INSERT INTO auth_sessions (user_id, token_hash, csrf_token, created_at,"
            " last_seen_at, expires_at, revoked_at) VALUES"
            " (:u, sha256('live'), repeat('c', 43), now(), now(), now() + interval '7 days', NULL),"
            " (:u, sha256('old'), repeat('c', 43), now() - interval '9 days',"
            "  now() - interval '9 days', now() - interval '2 days', NULL),"
            " (:u, sha256('out'), repeat('c', 43), now() - interval '3 days',"
            "  now() - interval '3 days', now() + interval '4 days', now() - interval '2 days')"
        ),
        {"u": user},
    )
    session.execute(
        text(
            "INSERT INTO idempotency_keys (user_id, key, method, path, fingerprint,"
            " response_status, response_body, expires_at) VALUES"
            " (:u, 'fresh', 'POST', '/x', sha256('a'), 201, '{}', now() + interval '1 hour'),"
            " (:u, 'stale', 'POST', '/x', sha256('b'), 201, '{}', now() - interval '1 second')"
        ),
        {"u": user},
    )
    session.execute(
        text(
            "INSERT INTO sign_in_throttles (scope, failures, last_failure_at, blocked_until)"
            " VALUES ('account:new@x', 2, now(), NULL),"
            " ('account:old@x', 9, now() - interval '2 hours', now() - interval '1 hour'),"
            " ('address:10.0.0.9', 30, now() - interval '2 hours', now() + interval '5 min')"
        )
    )

    purged = housekeeping.purge(session)

    assert purged == {"auth_sessions": 2, "idempotency_keys": 1, "sign_in_throttles": 1}
    assert _count(session, "auth_sessions", "token_hash = sha256('live')") == 1
    assert _count(session, "idempotency_keys", "key = 'fresh'") == 1
    # Still blocked: kept until the block ends, even with old failures.
    assert _count(session, "sign_in_throttles", "scope = 'address:10.0.0.9'") == 1
    assert _count(session, "sign_in_throttles", "scope = 'account:new@x'") == 1
