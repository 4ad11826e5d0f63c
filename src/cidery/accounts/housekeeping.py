"""Forgetting what has expired: ended sessions, old idempotency keys, stale sign-in failures.

Nothing depends on these deletions for correctness (every lookup checks expiry
itself); they keep the tables small. The app runs :func:`purge` when it starts and
every hour (:mod:`cidery.api.app`); several app processes doing it at once is harmless.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_
from sqlalchemy.orm import Session

from cidery.accounts import queries, rules
from cidery.accounts.idempotency import keys
from cidery.press.translate import reading

# An ended session is kept a day, for a user asking "was I signed out?" in the logs.
KEEP_ENDED_SESSIONS = timedelta(days=1)

_SESSIONS = queries.sessions.delete().where(
    or_(
        queries.sessions.c.expires_at < func.now() - KEEP_ENDED_SESSIONS,
        queries.sessions.c.revoked_at < func.now() - KEEP_ENDED_SESSIONS,
        queries.sessions.c.last_seen_at < func.now() - rules.IDLE_LIMIT - KEEP_ENDED_SESSIONS,
    )
)
_KEYS = keys.delete().where(keys.c.expires_at <= func.now())
_THROTTLES = queries.throttles.delete().where(
    queries.throttles.c.last_failure_at < func.now() - rules.FAILURE_MEMORY,
    or_(
        queries.throttles.c.blocked_until.is_(None),
        queries.throttles.c.blocked_until < func.now(),
    ),
)


def purge(session: Session) -> dict[str, int]:
    """Delete what has expired; how many rows of each table."""
    with reading():
        conn = session.connection()
        return {
            "auth_sessions": conn.execute(_SESSIONS).rowcount,
            "idempotency_keys": conn.execute(_KEYS).rowcount,
            "sign_in_throttles": conn.execute(_THROTTLES).rowcount,
        }
