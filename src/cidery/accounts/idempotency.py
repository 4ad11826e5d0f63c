"""Saves that may be retried: the ``Idempotency-Key`` a client sent, and what it got.

The key's row is written in the transaction of the save it answers, so the save
and the memory of it commit together or not at all. Concurrent requests with one
key are told apart by a transaction-scoped advisory lock on the (user, key) pair:
the first holds it until it commits, the others find it taken and are told to
retry; once committed, a retry finds the stored answer.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cidery.models import IdempotencyKey
from cidery.press.translate import reading

# Keys are remembered for a week (the IETF draft leaves the window to the server): a
# load queued on a phone is retried under its key whenever the connection and its
# owner's session come back, which may be after a weekend without Wi-Fi at the press;
# a send that reached the server before its answer was lost must still be known then.
KEEP_FOR = timedelta(days=7)

keys = cast(Table, IdempotencyKey.__table__)

_CLAIM = select(
    func.pg_try_advisory_xact_lock(
        func.hashtextextended(
            bindparam("user_id", type_=keys.c.key.type) + ":" + bindparam("key"), 0
        )
    )
)
_STORED = select(keys.c.fingerprint, keys.c.response_status, keys.c.response_body).where(
    keys.c.user_id == bindparam("user_id"),
    keys.c.key == bindparam("key"),
    keys.c.expires_at > func.now(),
)


@dataclass(frozen=True)
class Stored:
    fingerprint: bytes
    status: int
    body: Any


def fingerprint(method: str, path: str, body: Any) -> bytes:
    """The request's identity: method, path and the body's canonical JSON."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).digest()


def claim(session: Session, user_id: uuid.UUID, key: str) -> bool:
    """Whether this transaction may act on the key (no other request is acting on it)."""
    with reading(user_id):
        taken = session.connection().execute(_CLAIM, {"user_id": str(user_id), "key": key})
        return bool(taken.scalar_one())


def stored(session: Session, user_id: uuid.UUID, key: str) -> Stored | None:
    with reading(user_id):
        row = session.connection().execute(_STORED, {"user_id": user_id, "key": key}).first()
    return None if row is None else Stored(bytes(row[0]), row[1], row[2])


def remember(
    session: Session,
    user_id: uuid.UUID,
    key: str,
    *,
    method: str,
    path: str,
    fingerprint: bytes,
    status: int,
    body: Any,
) -> None:
    """Store the answer (replacing an expired row of the same key)."""
    values = {
        "user_id": user_id,
        "key": key,
        "method": method,
        "path": path,
        "fingerprint": fingerprint,
        "response_status": status,
        "response_body": body,
        "created_at": func.now(),
        "expires_at": func.now() + KEEP_FOR,
    }
    statement = insert(keys).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=[keys.c.user_id, keys.c.key],
        set_={k: statement.excluded[k] for k in values if k not in ("user_id", "key")},
        where=keys.c.expires_at <= func.now(),
    )
    with reading(user_id):
        session.connection().execute(statement)
