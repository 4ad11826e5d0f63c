"""The catalog's filters refuse what can never be right, every problem at once, before
anything reaches the database; the permission check comes before the input is read."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from cidery import catalog, press
from cidery.press.errors import Forbidden, InvalidInput
from cidery.press.inputs import encode_cursor
from tests.press.support import fields

NOW = datetime(2030, 10, 2, 8, 0, tzinfo=UTC)
Read = Callable[[Session, press.Actor, Any], object]


def _refused(session: Session, actor: press.Actor, read: Read, query: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        read(session, actor, query)
    assert info.value.code == "invalid_input"
    return info.value


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "Orch\x00ard"}, ["q"]),
        ({"q": "x" * 201}, ["q"]),
        ({"active": "sometimes"}, ["active"]),
        ({"limit": 0}, ["limit"]),
        ({"limit": 500}, ["limit"]),
        ({"limit": True}, ["limit"]),
        ({"colour": "red"}, ["colour"]),
        ({"q": "\x00", "limit": 0, "active": []}, ["active", "q", "limit"]),
        (42, ["VendorFilter"]),
    ],
    ids=[
        "nul",
        "long search",
        "not a boolean",
        "limit 0",
        "limit 500",
        "limit true",
        "unknown field",
        "all at once",
        "not a mapping",
    ],
)
def test_vendor_filters_refused(
    session: Session, viewer: press.Actor, query: object, expected: list[str]
) -> None:
    assert fields(_refused(session, viewer, catalog.list_vendors, query)) == expected


def test_vessel_filter_refused(session: Session, viewer: press.Actor) -> None:
    error = _refused(session, viewer, catalog.list_vessels, {"available": "perhaps"})
    assert fields(error) == ["available"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"group_by": "orchard"}, ["group_by"]),
        ({"since": NOW, "until": NOW - timedelta(seconds=1)}, ["until"]),
        ({"since": "2030-10-02T08:00:00"}, ["since"]),
        ({"until": "next tuesday"}, ["until"]),
        ({"since": "0001-01-01T00:00:00+05:00"}, ["since"]),
        ({"group_by": "week", "since": "yesterday"}, ["group_by", "since"]),
    ],
    ids=["unknown grouping", "since after until", "naive", "not a time", "year 0", "both"],
)
def test_yield_queries_refused(
    session: Session, viewer: press.Actor, query: dict[str, Any], expected: list[str]
) -> None:
    assert fields(_refused(session, viewer, catalog.yield_report, query)) == expected


def test_since_after_until_names_both(session: Session, viewer: press.Actor) -> None:
    error = _refused(
        session, viewer, catalog.yield_report, {"since": NOW, "until": NOW - timedelta(days=1)}
    )
    assert "since" in error.errors[0]["message"]


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"limit": 0}, ["limit"]),
        ({"limit": 500}, ["limit"]),
        ({"after": "not a cursor"}, ["after"]),
        ({"after": _b64(["2030-10-02T08:00:00", str(uuid.uuid4())])}, ["after"]),
        ({"after": _b64(["2030-10-02T08:00:00+00:00", "not an id"])}, ["after"]),
        ({"after": _b64({"changed_at": "x"})}, ["after"]),
        ({"after": "x" * 201}, ["after"]),
        ({"record_id": "17"}, ["record_id"]),
        ({"table": "press\x00runs"}, ["table"]),
        ({"table": "t" * 64}, ["table"]),
        ({"table": ""}, ["table"]),
    ],
    ids=[
        "limit 0",
        "limit 500",
        "not base64 json",
        "naive time",
        "bad id",
        "not a pair",
        "too long",
        "bad record id",
        "nul table",
        "long table",
        "blank table",
    ],
)
def test_audit_queries_refused(
    session: Session, admin: press.Actor, query: dict[str, Any], expected: list[str]
) -> None:
    error = _refused(session, admin, catalog.list_audit_logs, query)
    assert fields(error) == expected


def test_a_malformed_cursor_is_named_for_the_audit_log(
    session: Session, admin: press.Actor
) -> None:
    error = _refused(session, admin, catalog.list_audit_logs, {"after": "%%%"})
    assert error.errors == [
        {"field": "after", "message": "not a cursor returned by list_audit_logs"}
    ]


def test_a_cursor_of_the_run_list_shape_is_accepted(session: Session, admin: press.Actor) -> None:
    """A cursor is a time and an id: one from before every row gives an empty page."""
    cursor = encode_cursor(datetime(1970, 1, 1, tzinfo=UTC), uuid.UUID(int=0))
    page = catalog.list_audit_logs(session, admin, {"after": cursor})
    assert page.items == []
    assert page.next_cursor is None


def test_permission_is_checked_before_the_input(session: Session, viewer: press.Actor) -> None:
    with pytest.raises(Forbidden):
        catalog.list_audit_logs(session, viewer, {"limit": "many", "after": "%%%"})


@pytest.mark.parametrize("actor", [None, {"user_id": None, "role": "admin"}])
def test_an_actor_must_be_an_actor(session: Session, actor: object) -> None:
    with pytest.raises(InvalidInput) as info:
        catalog.list_varieties(session, actor)
    assert fields(info.value) == ["actor"]


def test_every_filter_has_defaults(session: Session, admin: press.Actor) -> None:
    catalog.list_vendors(session, admin, None)
    catalog.list_vessels(session, admin, None)
    assert catalog.yield_report(session, admin, {}) == catalog.yield_report(
        session, admin, catalog.YieldQuery(group_by=catalog.YieldGrouping.VARIETY)
    )
    assert catalog.list_audit_logs(session, admin, None).items == (
        catalog.list_audit_logs(session, admin, catalog.AuditQuery(limit=50)).items
    )
