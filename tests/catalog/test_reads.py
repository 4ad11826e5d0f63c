"""The catalog's reads on real rows: filters, order, the fruit left, yields, the audit log.

Rows are made in the test's own rolled-back transaction; lists are narrowed to what the
test made (a name tag, the ids) where other rows could be present.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, update
from sqlalchemy.orm import Session

from cidery import catalog, press
from cidery.models import (
    AppleVariety,
    AuditLog,
    PressRun,
    Purchase,
    PurchaseItem,
    Vendor,
    Vessel,
)
from cidery.models.enums import AuditOperation, VesselStatus
from cidery.press.errors import Forbidden, VesselUnavailable
from cidery.press.schemas import PressRunRead
from tests.factories import Factory

START = datetime(2030, 10, 2, 8, 0, tzinfo=UTC)


def _tag() -> str:
    return uuid.uuid4().hex[:10]


def _soft_delete(
    session: Session, model: type[Vendor | PurchaseItem | Purchase | PressRun], id_: uuid.UUID
) -> None:
    session.execute(update(model).where(model.id == id_).values(deleted_at=func.now()))


def _press(
    session: Session,
    actor: press.Actor,
    vendor: Vendor,
    loads: list[tuple[PurchaseItem, str]],
    litres: str | None,
    vessel: Vessel | None = None,
    ended: datetime | None = None,
) -> PressRunRead:
    """A run of ``vendor`` with these loads (line, kg), completed with ``litres`` when
    given, ending at ``ended``; the run as read back."""
    run = press.start_run(session, actor, {"vendor_id": vendor.id, "start_time": START})
    for item, kg in loads:
        press.add_load(
            session, actor, run.id, {"purchase_item_id": item.id, "weight": kg, "weight_unit": "kg"}
        )
    if litres is None:
        return run
    assert vessel is not None
    outcome = {
        "juice_volume": litres,
        "juice_volume_unit": "L",
        "vessel_id": vessel.id,
        "end_time": ended or START + timedelta(hours=4),
    }
    return press.complete_run(session, actor, run.id, outcome).run


# --- growers ------------------------------------------------------------------------------


def test_growers_with_fruit_left_come_first_then_by_name(
    session: Session, make: Factory, operator: press.Actor
) -> None:
    tag = _tag()
    alpha = make.vendor(f"{tag} Alpha")  # bought nothing
    beta = make.vendor(f"{tag} beta")  # 1000 kg bought, 300 pressed
    gamma = make.vendor(f"{tag} Gamma")  # 500 kg bought
    delta = make.vendor(f"{tag} Delta")  # everything pressed
    bought = make.purchase_item(vendor=beta, quantity=Decimal("1000"))
    make.purchase_item(vendor=gamma, quantity=Decimal("500"))
    all_of_it = make.purchase_item(vendor=delta, quantity=Decimal("200"))
    _press(session, operator, beta, [(bought, "300")], None)
    _press(session, operator, delta, [(all_of_it, "200")], None)

    listed = catalog.list_vendors(session, operator, {"q": tag})

    assert [(v.id, v.fruit_left_kg) for v in listed] == [
        (beta.id, Decimal("700.000")),
        (gamma.id, Decimal("500.000")),
        (alpha.id, Decimal(0)),
        (delta.id, Decimal(0)),
    ]
    assert [v.name for v in listed] == [beta.name, gamma.name, alpha.name, delta.name]
    assert all(v.is_active for v in listed)


def test_fruit_left_counts_live_lines_of_live_purchases_only(
    session: Session, make: Factory, operator: press.Actor
) -> None:
    vendor = make.vendor(f"{_tag()} Orchard")
    make.purchase_item(vendor=vendor, quantity=Decimal("100"))
    deleted_line = make.purchase_item(vendor=vendor, quantity=Decimal("40"))
    of_deleted_purchase = make.purchase_item(vendor=vendor, quantity=Decimal("20"))
    kept = make.purchase_item(vendor=vendor, quantity=Decimal("300"))
    _soft_delete(session, PurchaseItem, deleted_line.id)
    _soft_delete(session, Purchase, of_deleted_purchase.purchase_id)
    # A cancelled run gives its fruit back.
    run = _press(session, operator, vendor, [(kept, "250")], None)
    press.cancel_run(session, operator, run.id, {"reason": "press jammed"})
    _press(session, operator, vendor, [(kept, "50")], None)

    (listed,) = catalog.list_vendors(session, operator, {"q": vendor.name})

    assert listed.fruit_left_kg == Decimal("350.000")


def test_the_active_filter(session: Session, make: Factory, viewer: press.Actor) -> None:
    tag = _tag()
    active = make.vendor(f"{tag} active")
    inactive = make.vendor(f"{tag} inactive", is_active=False)
    deleted = make.vendor(f"{tag} deleted")
    _soft_delete(session, Vendor, deleted.id)

    def ids(active_filter: object) -> set[uuid.UUID]:
        query = {"q": tag} if active_filter == "default" else {"q": tag, "active": active_filter}
        return {v.id for v in catalog.list_vendors(session, viewer, query)}

    assert ids("default") == {active.id}
    assert ids(True) == {active.id}
    assert ids(False) == {inactive.id}
    assert ids(None) == {active.id, inactive.id}


def test_the_name_search_ignores_case_and_matches_wildcards_literally(
    session: Session, make: Factory, viewer: press.Actor
) -> None:
    tag = _tag()
    percent = make.vendor(f"{tag} 100% Organic")
    underscore = make.vendor(f"{tag} Hill_Side")
    make.vendor(f"{tag} 1000 Acres")
    make.vendor(f"{tag} HillXSide")
    backslash = make.vendor(f"{tag} Back\\slash")

    def names(q: str) -> list[str]:
        return [v.name for v in catalog.list_vendors(session, viewer, {"q": q})]

    assert names(f"{tag} 100%") == [percent.name]
    assert names(f"{tag} hill_") == [underscore.name]
    assert names(f"{tag} back\\") == [backslash.name]
    assert names(f"{tag.upper()} 100% ORGANIC") == [percent.name]
    assert names(f"{tag} 100% organic ") == [percent.name]


def test_the_list_stops_at_the_limit(session: Session, make: Factory, viewer: press.Actor) -> None:
    tag = _tag()
    for n in range(3):
        make.vendor(f"{tag} {n}")
    assert [v.name for v in catalog.list_vendors(session, viewer, {"q": tag, "limit": 2})] == [
        f"{tag} 0",
        f"{tag} 1",
    ]


def test_a_filter_model_is_taken_as_it_is(
    session: Session, make: Factory, viewer: press.Actor
) -> None:
    vendor = make.vendor(f"{_tag()} Model")
    listed = catalog.list_vendors(session, viewer, catalog.VendorFilter(q=vendor.name))
    assert [v.id for v in listed] == [vendor.id]


# --- varieties ----------------------------------------------------------------------------


def test_varieties_live_by_name_with_their_description(
    session: Session, make: Factory, viewer: press.Actor
) -> None:
    tag = _tag()
    second = make.variety(f"{tag} Kingston Black")
    first = AppleVariety(
        name=f"{tag} Dabinett", description="bittersweet", typical_brix=Decimal("12.5")
    )
    session.add(first)
    session.flush()
    gone = make.variety(f"{tag} Gone")
    session.execute(
        update(AppleVariety).where(AppleVariety.id == gone.id).values(deleted_at=func.now())
    )

    listed = [v for v in catalog.list_varieties(session, viewer) if v.name.startswith(tag)]

    assert [v.id for v in listed] == [first.id, second.id]
    assert listed[0].description == "bittersweet"
    assert listed[0].typical_brix == Decimal("12.50")
    assert listed[1].description is None
    everything = catalog.list_varieties(session, viewer)
    assert [v.name for v in everything] == sorted((v.name for v in everything), key=str.lower)


# --- vessels ------------------------------------------------------------------------------


def test_vessels_say_whether_they_may_receive_juice(
    session: Session, make: Factory, viewer: press.Actor
) -> None:
    made = {status: make.vessel(status=status) for status in VesselStatus}
    deleted = make.vessel()
    session.execute(update(Vessel).where(Vessel.id == deleted.id).values(deleted_at=func.now()))
    ours = {vessel.id for vessel in made.values()}

    def listed(available: bool | None) -> list[catalog.VesselRead]:
        return [
            v
            for v in catalog.list_vessels(session, viewer, {"available": available})
            if v.id in ours | {deleted.id}
        ]

    everything = listed(None)
    assert {v.id for v in everything} == ours
    assert [v.name for v in everything] == sorted((v.name for v in everything), key=str.lower)
    by_id = {v.id: v for v in everything}
    for status, vessel in made.items():
        row = by_id[vessel.id]
        assert row.status is status
        assert row.capacity_l == Decimal("5000.000")
        assert row.available is (status is VesselStatus.AVAILABLE)
    assert {v.id for v in listed(True)} == {made[VesselStatus.AVAILABLE].id}
    assert {v.id for v in listed(False)} == ours - {made[VesselStatus.AVAILABLE].id}
    assert catalog.list_vessels(session, viewer) == catalog.list_vessels(session, viewer, None)


def test_available_means_what_complete_run_accepts(
    session: Session, make: Factory, operator: press.Actor
) -> None:
    vendor = make.vendor()
    item = make.purchase_item(vendor=vendor)
    made = [make.vessel(status=status) for status in VesselStatus]
    listed = {v.id: v.available for v in catalog.list_vessels(session, operator)}
    for vessel in made:
        run = _press(session, operator, vendor, [(item, "10")], None)
        outcome = {"juice_volume": "6", "juice_volume_unit": "L", "vessel_id": vessel.id}
        if listed[vessel.id]:
            press.complete_run(session, operator, run.id, outcome)
        else:
            with pytest.raises(VesselUnavailable):
                press.complete_run(session, operator, run.id, outcome)
    assert sum(listed[vessel.id] for vessel in made) == 1


# --- yields -------------------------------------------------------------------------------


def _range(days: int = 30) -> dict[str, datetime]:
    return {"since": START, "until": START + timedelta(days=days)}


def test_by_variety_each_run_s_juice_is_shared_by_the_weight_of_its_loads(
    session: Session, make: Factory, operator: press.Actor, viewer: press.Actor
) -> None:
    tag = _tag()
    vendor = make.vendor()
    a, b = make.variety(f"{tag} A"), make.variety(f"{tag} B")
    line_a = make.purchase_item(vendor=vendor, variety=a, quantity=Decimal("2000"))
    line_b = make.purchase_item(vendor=vendor, variety=b, quantity=Decimal("2000"))
    # 300 kg of A and 100 kg of B give 200 L: A is credited 150 L, B 50 L.
    _press(session, operator, vendor, [(line_a, "300"), (line_b, "100")], "200", make.vessel())
    # A alone: 100 kg, 60 L.
    _press(session, operator, vendor, [(line_a, "100")], "60", make.vessel())
    # A voided load counts for nothing: 100 kg of B (and 50 voided) give 55 L.
    run = press.start_run(session, operator, {"vendor_id": vendor.id, "start_time": START})
    voided = press.add_load(
        session,
        operator,
        run.id,
        {"purchase_item_id": line_a.id, "weight": 50, "weight_unit": "kg"},
    )
    press.add_load(
        session,
        operator,
        run.id,
        {"purchase_item_id": line_b.id, "weight": 100, "weight_unit": "kg"},
    )
    press.void_load(session, operator, voided.id, {"reason": "weighed twice"})
    press.complete_run(
        session,
        operator,
        run.id,
        {
            "juice_volume": "55",
            "juice_volume_unit": "L",
            "vessel_id": make.vessel().id,
            "end_time": START + timedelta(days=1),
        },
    )

    rows = catalog.yield_report(session, viewer, {"group_by": "variety", **_range()})

    assert [(r.group_id, r.name) for r in rows] == [(a.id, a.name), (b.id, b.name)]
    row_a, row_b = rows
    assert (row_a.run_count, row_a.kg_pressed, row_a.juice_l) == (
        2,
        Decimal("400.000"),
        Decimal("210.000"),
    )
    assert row_a.yield_l_per_kg == Decimal("0.5250")
    assert (row_b.run_count, row_b.kg_pressed, row_b.juice_l) == (
        2,
        Decimal("200.000"),
        Decimal("105.000"),
    )
    assert row_b.yield_l_per_kg == Decimal("0.5250")
    assert sum(r.juice_l for r in rows) == Decimal("315.000")


def test_only_live_completed_runs_ended_in_the_range_count(
    session: Session, make: Factory, operator: press.Actor, viewer: press.Actor
) -> None:
    vendor = make.vendor()
    line = make.purchase_item(vendor=vendor, quantity=Decimal("5000"))
    _press(session, operator, vendor, [(line, "100")], "60", make.vessel())
    # Ends exactly at the range's end: outside it.
    _press(
        session, operator, vendor, [(line, "100")], "70", make.vessel(), START + timedelta(days=30)
    )
    # Deleted: not counted.
    deleted = _press(session, operator, vendor, [(line, "100")], "80", make.vessel())
    _soft_delete(session, PressRun, deleted.id)
    _press(session, operator, vendor, [(line, "100")], None)  # in progress
    cancelled = _press(session, operator, vendor, [(line, "100")], None)
    press.cancel_run(session, operator, cancelled.id, {"reason": "jammed"})

    (by_vendor,) = catalog.yield_report(session, viewer, {"group_by": "vendor", **_range()})
    (by_variety,) = catalog.yield_report(session, viewer, {"group_by": "variety", **_range()})

    assert by_vendor.group_id == vendor.id
    assert by_vendor.name == vendor.name
    for row in (by_vendor, by_variety):
        assert (row.run_count, row.kg_pressed, row.juice_l) == (
            1,
            Decimal("100.000"),
            Decimal("60.000"),
        )
        assert row.yield_l_per_kg == Decimal("0.6000")
    everything = catalog.yield_report(
        session, viewer, {"group_by": "vendor", "since": START, "until": None}
    )
    assert [r.run_count for r in everything if r.group_id == vendor.id] == [2]


def test_by_vendor_sums_each_grower_s_runs(
    session: Session, make: Factory, operator: press.Actor, viewer: press.Actor
) -> None:
    tag = _tag()
    first, second = make.vendor(f"{tag} First"), make.vendor(f"{tag} Second")
    one = make.purchase_item(vendor=first)
    two = make.purchase_item(vendor=second)
    _press(session, operator, first, [(one, "100")], "50", make.vessel())
    _press(session, operator, first, [(one, "300")], "250", make.vessel())
    _press(session, operator, second, [(two, "200")], "120", make.vessel())

    rows = catalog.yield_report(session, viewer, {"group_by": "vendor", **_range()})

    assert [(r.group_id, r.run_count, r.kg_pressed, r.juice_l, r.yield_l_per_kg) for r in rows] == [
        (first.id, 2, Decimal("400.000"), Decimal("300.000"), Decimal("0.7500")),
        (second.id, 1, Decimal("200.000"), Decimal("120.000"), Decimal("0.6000")),
    ]


def test_an_empty_range_reports_nothing(session: Session, viewer: press.Actor) -> None:
    moment = START - timedelta(days=3650)
    assert catalog.yield_report(session, viewer, {"since": moment, "until": moment}) == []


# --- the audit log ------------------------------------------------------------------------


def _audit_rows(session: Session, record_id: uuid.UUID, count: int) -> list[AuditLog]:
    """``count`` audit rows of one record, an hour apart, oldest first."""
    rows = [
        AuditLog(
            table_name="vendors",
            record_id=record_id,
            operation=AuditOperation.UPDATE,
            old_data={"n": n},
            new_data={"n": n + 1},
            diff={"n": [n, n + 1]},
            reason=f"change {n}",
            changed_at=START + timedelta(hours=n),
        )
        for n in range(count)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def test_the_audit_log_newest_first_in_pages(session: Session, admin: press.Actor) -> None:
    record_id = uuid.uuid4()
    rows = _audit_rows(session, record_id, 5)

    seen: list[catalog.AuditLogRead] = []
    after: str | None = None
    pages = 0
    while True:
        page = catalog.list_audit_logs(
            session, admin, {"record_id": record_id, "limit": 2, "after": after}
        )
        seen.extend(page.items)
        pages += 1
        if page.next_cursor is None:
            break
        after = page.next_cursor

    assert pages == 3
    assert [item.id for item in seen] == [row.id for row in reversed(rows)]
    newest = seen[0]
    assert newest.table_name == "vendors"
    assert newest.record_id == record_id
    assert newest.operation is AuditOperation.UPDATE
    assert (newest.old_data, newest.new_data, newest.diff) == ({"n": 4}, {"n": 5}, {"n": [4, 5]})
    assert newest.reason == "change 4"
    assert newest.changed_by is None
    assert newest.changed_at == START + timedelta(hours=4)


def test_the_audit_log_of_one_table_or_one_record(
    session: Session, make: Factory, admin: press.Actor
) -> None:
    vendor = make.vendor()
    make.purchase_item(vendor=vendor)
    run = press.start_run(session, admin, {"vendor_id": vendor.id})
    _audit_rows(session, run.id, 1)  # the same id under another table name

    of_run = catalog.list_audit_logs(session, admin, {"record_id": run.id})
    of_table = catalog.list_audit_logs(session, admin, {"record_id": run.id, "table": "press_runs"})

    assert {item.table_name for item in of_run.items} == {"press_runs", "vendors"}
    assert [item.table_name for item in of_table.items] == ["press_runs"]
    (started,) = of_table.items
    assert started.operation is AuditOperation.INSERT
    assert started.old_data is None
    assert started.new_data is not None
    assert started.new_data["id"] == str(run.id)
    assert started.changed_by == admin.user_id
    assert of_table.next_cursor is None


def test_a_page_of_the_whole_log_is_full(session: Session, admin: press.Actor) -> None:
    _audit_rows(session, uuid.uuid4(), 3)
    page = catalog.list_audit_logs(session, admin, {"limit": 2})
    assert len(page.items) == 2
    assert page.next_cursor is not None
    assert page.items[0].changed_at >= page.items[1].changed_at


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_an_admin_reads_the_audit_log(
    request: pytest.FixtureRequest, session: Session, role: str
) -> None:
    actor: press.Actor = request.getfixturevalue(role)
    with pytest.raises(Forbidden) as info:
        catalog.list_audit_logs(session, actor, {"limit": 0})
    assert info.value.details == {"role": role, "action": "read the audit log"}


def test_a_viewer_reads_the_rest_of_the_catalog(session: Session, viewer: press.Actor) -> None:
    catalog.list_vendors(session, viewer)
    catalog.list_varieties(session, viewer)
    catalog.list_vessels(session, viewer)
    catalog.yield_report(session, viewer)
