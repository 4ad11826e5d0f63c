"""Sign-in back-off, per account and per client address, read from the throttle table.

Each test signs in from addresses of its own (so the shared database's other tests
are never throttled) and as accounts or unknown emails of its own. A block is
lengthened in the database rather than raced against the clock: the code sets
how long it is, the test checks that length and then moves time. A password check
costs a good fraction of a second, so earlier failures are written to the table
directly and only the attempts that matter are made.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cidery.accounts import rules
from cidery.models.enums import UserRole
from tests.api.conftest import PASSWORD, Account, new_account, new_address
from tests.api.support import API, assert_problem, count, execute

WRONG = "not the password"
SIGN_IN = f"{API}/auth/sign-in"


def attempt(client: TestClient, email: str, password: str = WRONG) -> Any:
    return client.post(SIGN_IN, json={"email": email, "password": password})


def throttle(engine: Engine, scope: str) -> tuple[int, timedelta | None] | None:
    """The scope's failures and the length of its block (from the last failure)."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT failures, blocked_until - last_failure_at FROM sign_in_throttles"
                " WHERE scope = :s"
            ),
            {"s": scope},
        ).first()
    return None if row is None else (row[0], row[1])


def unblock(engine: Engine, scope: str) -> None:
    """The block has run out (the failures are still remembered)."""
    execute(engine, "UPDATE sign_in_throttles SET blocked_until = now() WHERE scope = :s", s=scope)


def failed_before(engine: Engine, scope: str, failures: int) -> None:
    """``failures`` recent failures of the scope, none of them blocking yet."""
    execute(
        engine,
        "INSERT INTO sign_in_throttles (scope, failures, last_failure_at) VALUES (:s, :f, now())",
        s=scope,
        f=failures,
    )


def prolong(engine: Engine, scope: str) -> None:
    """The block lasts another minute, however slow the machine running the test."""
    execute(
        engine,
        "UPDATE sign_in_throttles SET blocked_until = now() + interval '1 minute' WHERE scope = :s",
        s=scope,
    )


def assert_throttled(answer: Any) -> None:
    body = assert_problem(answer, 429, "too_many_attempts")
    retry_after = int(answer.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert body["details"]["retry_after_s"] == retry_after


def new_email() -> str:
    return f"nobody-{uuid.uuid4().hex[:8]}@cidery.example"


def test_an_account_is_slowed_down_after_its_free_failures(
    client_at: Callable[[tuple[str, int]], TestClient], api_engine: Engine
) -> None:
    target = new_account(api_engine, UserRole.OPERATOR)
    scope = f"account:{target.email}"
    free = rules.FREE_FAILURES_PER_ACCOUNT
    failed_before(api_engine, scope, free - 1)
    browser = client_at(new_address())
    # The last free failure: counted, not blocking.
    assert_problem(attempt(browser, target.email), 401, "sign_in_failed")
    assert throttle(api_engine, scope) == (free, None)
    # One failure more starts the back-off: 1 s.
    assert_problem(attempt(browser, target.email), 401, "sign_in_failed")
    assert throttle(api_engine, scope) == (free + 1, timedelta(seconds=1))
    prolong(api_engine, scope)
    # Blocked: even the right password, and from anywhere else.
    assert_throttled(attempt(browser, target.email, PASSWORD))
    assert_throttled(attempt(client_at(new_address()), target.email, PASSWORD))
    # A refused attempt while blocked is not another failure.
    found = throttle(api_engine, scope)
    assert found is not None
    assert found[0] == free + 1


def test_each_failure_doubles_the_wait(
    client_at: Callable[[tuple[str, int]], TestClient], api_engine: Engine
) -> None:
    email = new_email()
    scope = f"account:{email}"
    failed_before(api_engine, scope, rules.FREE_FAILURES_PER_ACCOUNT)
    waits = []
    for _ in range(3):
        assert_problem(attempt(client_at(new_address()), email), 401, "sign_in_failed")
        found = throttle(api_engine, scope)
        assert found is not None
        waits.append(found[1])
        unblock(api_engine, scope)
    assert waits == [timedelta(seconds=s) for s in (1, 2, 4)]


def test_the_wait_is_capped(
    client_at: Callable[[tuple[str, int]], TestClient], api_engine: Engine
) -> None:
    email = new_email()
    scope = f"account:{email}"
    failed_before(api_engine, scope, 40)
    assert_problem(attempt(client_at(new_address()), email), 401, "sign_in_failed")
    assert throttle(api_engine, scope) == (41, timedelta(seconds=rules.MAX_BACKOFF_S))
    blocked = attempt(client_at(new_address()), email, PASSWORD)
    assert_problem(blocked, 429, "too_many_attempts")
    assert 60 < int(blocked.headers["retry-after"]) <= rules.MAX_BACKOFF_S


def test_a_success_forgets_the_account_failures(
    client_at: Callable[[tuple[str, int]], TestClient], api_engine: Engine
) -> None:
    target = new_account(api_engine, UserRole.VIEWER)
    scope = f"account:{target.email}"
    failed_before(api_engine, scope, rules.FREE_FAILURES_PER_ACCOUNT + 3)
    browser = client_at(new_address())
    assert (
        browser.post(SIGN_IN, json={"email": target.email, "password": PASSWORD}).status_code == 200
    )
    assert throttle(api_engine, scope) is None
    # The count starts again from one.
    assert_problem(attempt(browser, target.email), 401, "sign_in_failed")
    assert throttle(api_engine, scope) == (1, None)


def test_old_failures_are_forgotten(
    client_at: Callable[[tuple[str, int]], TestClient], api_engine: Engine
) -> None:
    email = new_email()
    scope = f"account:{email}"
    execute(
        api_engine,
        "INSERT INTO sign_in_throttles (scope, failures, last_failure_at)"
        " VALUES (:s, 30, now() - CAST(:ago AS interval))",
        s=scope,
        ago=f"{int(rules.FAILURE_MEMORY.total_seconds()) + 60} seconds",
    )
    assert_problem(attempt(client_at(new_address()), email), 401, "sign_in_failed")
    assert throttle(api_engine, scope) == (1, None)


def test_an_unknown_email_is_throttled_like_an_account(
    client_at: Callable[[tuple[str, int]], TestClient],
    api_engine: Engine,
    account: dict[UserRole, Account],
) -> None:
    email = new_email()
    scope = f"account:{email}"
    browser = client_at(new_address())
    known = attempt(browser, account[UserRole.VIEWER].email)
    first = attempt(browser, email)
    assert_problem(first, 401, "sign_in_failed")
    assert first.json()["detail"] == known.json()["detail"]
    assert throttle(api_engine, scope) == (1, None)
    execute(
        api_engine,
        "UPDATE sign_in_throttles SET failures = :f WHERE scope = :s",
        s=scope,
        f=rules.FREE_FAILURES_PER_ACCOUNT,
    )
    assert_problem(attempt(browser, email), 401, "sign_in_failed")
    assert throttle(api_engine, scope) == (
        rules.FREE_FAILURES_PER_ACCOUNT + 1,
        timedelta(seconds=1),
    )
    prolong(api_engine, scope)
    assert_throttled(attempt(browser, email))


def test_an_address_is_slowed_down_after_many_failures_across_accounts(
    client_at: Callable[[tuple[str, int]], TestClient],
    api_engine: Engine,
    account: dict[UserRole, Account],
) -> None:
    address = new_address()
    scope = f"address:{address[0]}"
    free = rules.FREE_FAILURES_PER_ADDRESS
    failed_before(api_engine, scope, free - 1)
    browser = client_at(address)
    # Guessing at many accounts, one try each: no account is blocked, the address is.
    guesses = [new_email(), new_email()]
    assert_problem(attempt(browser, guesses[0]), 401, "sign_in_failed")
    assert throttle(api_engine, scope) == (free, None)
    assert_problem(attempt(browser, guesses[1]), 401, "sign_in_failed")
    assert throttle(api_engine, scope) == (free + 1, timedelta(seconds=1))
    assert [throttle(api_engine, f"account:{g}") for g in guesses] == [(1, None), (1, None)]
    prolong(api_engine, scope)
    viewer = account[UserRole.VIEWER].email
    assert_throttled(attempt(browser, viewer, PASSWORD))
    # The account itself is not blocked: from elsewhere, it signs in.
    assert attempt(client_at(new_address()), viewer, PASSWORD).status_code == 200
    # A success does not forget the address's failures (only the account's).
    assert count(api_engine, "SELECT count(*) FROM sign_in_throttles WHERE scope = :s", s=scope)
