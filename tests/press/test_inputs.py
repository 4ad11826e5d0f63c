"""Whatever a client sends, the service answers with a typed error, never a raw database
error, and reports every problem at once.

Each class of input PostgreSQL cannot store has a case here: a NUL character in
text, a time outside years 1-9999 once in UTC, an amount past the column's
precision, a boolean for a count, a junk cursor or yield band, a junk actor id.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cidery import press
from cidery.models.enums import UserRole
from cidery.press.errors import (
    ConstraintViolation,
    DatabaseFailure,
    InvalidInput,
    NotFound,
    PressError,
)
from cidery.press.inputs import decode_cursor, encode_cursor
from cidery.press.rules import MAX_AMOUNT
from cidery.press.translate import translate
from tests.factories import Factory, new_actor
from tests.press.support import counts


@pytest.fixture
def actor(session: Session) -> press.Actor:
    return new_actor(session, UserRole.OPERATOR)


def _fields(error: InvalidInput) -> list[str]:
    return [entry["field"] for entry in error.errors]


def test_every_problem_is_reported_at_once(session: Session, actor: press.Actor) -> None:
    run = press.start_run(session, actor, {"vendor_id": Factory(session).vendor().id})
    with pytest.raises(InvalidInput) as info:
        press.add_load(
            session,
            actor,
            run.id,
            {"purchase_item_id": "x", "weight": "-1", "weight_unit": "oz", "brix": "NaN"},
        )
    assert _fields(info.value) == ["purchase_item_id", "weight", "weight_unit", "brix"]
    assert all(entry["message"] for entry in info.value.errors)
    assert str(info.value).count(";") == 3
    assert info.value.to_dict()["details"]["errors"] == info.value.errors


def test_unknown_fields_are_refused(session: Session, actor: press.Actor) -> None:
    with pytest.raises(InvalidInput) as info:
        press.start_run(session, actor, {"vendor_id": uuid.uuid4(), "vendor": "Bramble"})
    assert _fields(info.value) == ["vendor"]


@pytest.mark.parametrize("field", ["notes"])
def test_a_nul_character_is_refused_before_postgresql(
    session: Session, actor: press.Actor, field: str
) -> None:
    vendor = Factory(session).vendor()
    with pytest.raises(InvalidInput) as info:
        press.start_run(session, actor, {"vendor_id": vendor.id, field: "bin 4\x00"})
    assert _fields(info.value) == [field]
    assert "NUL" in str(info.value)


def test_a_nul_in_a_reason_is_refused(session: Session, actor: press.Actor) -> None:
    run = press.start_run(session, actor, {"vendor_id": Factory(session).vendor().id})
    before = counts(session)
    with pytest.raises(InvalidInput) as info:
        press.cancel_run(session, actor, run.id, {"reason": "jam\x00med"})
    assert _fields(info.value) == ["reason"]
    assert counts(session) == before


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=5))),
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
    ],
    ids=["before year 1 in UTC", "after year 9999 in UTC"],
)
def test_a_time_outside_postgresqls_range_is_refused(
    session: Session, actor: press.Actor, moment: datetime
) -> None:
    vendor = Factory(session).vendor()
    with pytest.raises(InvalidInput) as info:
        press.start_run(session, actor, {"vendor_id": vendor.id, "start_time": moment})
    assert _fields(info.value) == ["start_time"]


def test_a_naive_time_is_refused(session: Session, actor: press.Actor) -> None:
    vendor = Factory(session).vendor()
    with pytest.raises(InvalidInput) as info:
        press.start_run(
            session, actor, {"vendor_id": vendor.id, "start_time": datetime(2026, 10, 1)}
        )
    assert _fields(info.value) == ["start_time"]


def test_a_boolean_is_not_a_count(session: Session, actor: press.Actor, make: Factory) -> None:
    vendor = make.vendor()
    item = make.purchase_item(vendor=vendor)
    run = press.start_run(session, actor, {"vendor_id": vendor.id})
    press.add_load(
        session, actor, run.id, {"purchase_item_id": item.id, "weight": 100, "weight_unit": "kg"}
    )
    with pytest.raises(InvalidInput) as info:
        press.complete_run(
            session,
            actor,
            run.id,
            {
                "juice_volume": 60,
                "juice_volume_unit": "L",
                "vessel_id": make.vessel().id,
                "worker_count": True,
            },
        )
    assert _fields(info.value) == ["worker_count"]
    with pytest.raises(InvalidInput) as listing:
        press.list_runs(session, actor, {"limit": True})
    assert _fields(listing.value) == ["limit"]


def test_a_run_total_past_the_columns_precision_is_refused(
    session: Session, actor: press.Actor, make: Factory
) -> None:
    """Each load fits numeric(10,3); their sum on the run would not."""
    vendor = make.vendor()
    run = press.start_run(session, actor, {"vendor_id": vendor.id})
    big = Decimal("6000000")
    loads = [
        {"purchase_item_id": make.purchase_item(vendor=vendor, quantity=big).id, "weight": big}
        for _ in range(2)
    ]
    press.add_load(session, actor, run.id, {**loads[0], "weight_unit": "kg"})
    before = counts(session)
    with pytest.raises(InvalidInput) as info:
        press.add_load(session, actor, run.id, {**loads[1], "weight_unit": "kg"})
    assert str(MAX_AMOUNT) in str(info.value)
    assert counts(session) == before


def test_juice_past_the_columns_precision_is_refused(
    session: Session, actor: press.Actor, make: Factory
) -> None:
    """9,999,999 gallons is a valid entry and 37.9 million litres, which no column holds."""
    run = press.start_run(session, actor, {"vendor_id": make.vendor().id})
    with pytest.raises(InvalidInput) as info:
        press.complete_run(
            session,
            actor,
            run.id,
            {"juice_volume": "9999999", "juice_volume_unit": "gal", "vessel_id": make.vessel().id},
        )
    assert _fields(info.value) == ["juice_volume"]


def test_an_actor_who_is_not_a_user_is_not_found(session: Session, make: Factory) -> None:
    ghost = press.Actor(user_id=uuid.uuid4(), role=UserRole.OPERATOR)
    before = counts(session)
    with pytest.raises(NotFound) as info:
        press.start_run(session, ghost, {"vendor_id": make.vendor().id})
    assert info.value.details["entity"] == "user"
    assert counts(session) == before


@pytest.mark.parametrize("value", ["not-a-uuid", "", "x" * 10_000, 12, None, 1.5])
def test_an_id_must_be_an_id(session: Session, actor: press.Actor, value: object) -> None:
    with pytest.raises(InvalidInput) as info:
        press.get_run(session, actor, value)  # type: ignore[arg-type]
    assert _fields(info.value) == ["run_id"]
    assert len(str(info.value)) < 200


@pytest.mark.parametrize(
    "band",
    [
        {"low": "0.9", "high": "0.4"},
        {"low": "NaN", "high": "0.8"},
        {"low": "-1", "high": "0.8"},
        {"low": "0.4"},
        {"low": True, "high": "x"},
        "0.4-0.8",
    ],
)
def test_a_junk_yield_band_is_refused(session: Session, actor: press.Actor, band: Any) -> None:
    with pytest.raises(InvalidInput):
        press.yield_outliers(session, actor, band)


def test_a_cursor_round_trips() -> None:
    moment = datetime(2026, 10, 1, 12, 30, tzinfo=UTC)
    run_id = uuid.uuid4()
    assert decode_cursor(encode_cursor(moment, run_id)) == (moment, run_id)


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "é",
        _b64({"a": 1}),
        _b64([1, 2]),
        _b64(["2026-10-01T00:00:00", "4800f120-6c83-4633-baeb-f2aab3eb00c4"]),  # no time zone
        _b64(["2026-10-01T00:00:00+00:00", "nope"]),
        _b64([{"x": 1}, "2e84fb69-8f4d-4c03-b724-a1b1e6fa251f"]),
        base64.urlsafe_b64encode(b"[" * 100_000).decode()[:200],
        "x" * 201,
    ],
)
def test_a_junk_cursor_is_refused(session: Session, actor: press.Actor, cursor: str) -> None:
    with pytest.raises(InvalidInput) as info:
        press.list_runs(session, actor, {"after": cursor})
    assert _fields(info.value) == ["after"]


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cursor=st.one_of(
        st.text(max_size=200),
        st.binary(max_size=120).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    )
)
def test_any_cursor_is_a_page_or_invalid_input(
    session: Session, actor: press.Actor, cursor: str
) -> None:
    refused: InvalidInput | None = None
    try:
        press.list_runs(session, actor, {"after": cursor, "limit": 1})
    except InvalidInput as error:
        refused = error
    assert refused is None or _fields(refused) == ["after"]


def _database_error(session: Session, sql: str) -> DBAPIError:
    with pytest.raises(DBAPIError) as info, session.begin_nested():
        session.execute(text(sql))
    return info.value


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1 / 0", InvalidInput),
        ("SELECT 'a\\u0000'::text::jsonb", InvalidInput),
        ("SELECT numeric '99999999' :: numeric(10, 3)", InvalidInput),
        ("INSERT INTO vendors (name) VALUES ('Twin'), ('twin')", ConstraintViolation),
        ("SELECT * FROM no_such_table", DatabaseFailure),
    ],
)
def test_database_errors_become_typed_errors(
    session: Session, sql: str, expected: type[PressError]
) -> None:
    """Real errors from PostgreSQL, mapped by SQLSTATE class and constraint name."""
    error = translate(_database_error(session, sql), None)
    assert type(error) is expected
    assert str(error)
    assert "\n" not in str(error)
