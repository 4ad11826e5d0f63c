"""How long sessions last and how sign-in failures are slowed down."""

from __future__ import annotations

from datetime import timedelta

# A session ends after a shift without use, and a week after sign-in at the latest.
IDLE_LIMIT = timedelta(hours=8)
ABSOLUTE_LIMIT = timedelta(days=7)
# last_seen_at is written at most once a minute per session, not on every request.
TOUCH_EVERY = timedelta(minutes=1)

# Failed sign-ins allowed before the back-off starts: per account (guessing one
# person's password), and per client address (trying many accounts, or a shared
# workshop network where several people mistype).
FREE_FAILURES_PER_ACCOUNT = 5
FREE_FAILURES_PER_ADDRESS = 20
# Each failure past the free ones doubles the wait, from 1 s up to 15 min.
MAX_BACKOFF_S = 900
# Failures older than this are forgotten: the count starts again.
FAILURE_MEMORY = timedelta(hours=1)


def backoff_s(failures: int, free: int) -> int:
    """Seconds to wait after ``failures`` failures in a row, ``free`` of them without."""
    excess = failures - free
    if excess <= 0:
        return 0
    return int(min(2 ** (excess - 1), MAX_BACKOFF_S))
