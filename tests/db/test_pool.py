"""The pool finds dead connections without a round trip per checkout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

from cidery.db.engine import make_engine


@pytest.fixture
def pooled(clone_url: str) -> Iterator[Engine]:
    engine = make_engine(clone_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every ping the dialect makes on the engine from now on."""
    made: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        made.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return made


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_healthy_pooled_connection_is_not_pinged(
    pooled: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(pooled)
    pings = _pings(pooled, monkeypatch)
    assert [_backend(pooled) for _ in range(5)] == [first] * 5
    assert pings == []


def test_a_connection_whose_backend_was_terminated_is_replaced_on_checkout(
    pooled: Engine, clone_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = _backend(pooled)
    pings = _pings(pooled, monkeypatch)
    other = make_engine(clone_url, poolclass=NullPool)
    try:
        with other.connect() as conn:
            # The second argument waits for the backend to have exited.
            terminated = conn.execute(
                text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": gone}
            ).scalar_one()
        assert terminated
    finally:
        other.dispose()
    # The first statement on the pool succeeds, on a new connection.
    assert _backend(pooled) != gone
    assert len(pings) == 1
