"""catalog.fruit_reconciliation: where each purchase line's fruit went.

Bought = pressed + written off + left, line by line, with each write-off's reason;
narrowed to one grower or one season. Rows are made in the test's own rolled-back
transaction; lists are narrowed to a grower made by the test.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, update
from sqlalchemy.orm import Session

from cidery import catalog, press
from cidery.models import Purchase, PurchaseItem, Vendor
from cidery.press.errors import InvalidInput
from tests.factories import Factory


def _line(make: Factory, vendor: Vendor, kg: str, bought: date, variety: str) -> PurchaseItem:
    item = make.purchase_item(vendor=vendor, variety=make.variety(variety), quantity=Decimal(kg))
    make.session.execute(
        update(Purchase).where(Purchase.id == item.purchase_id).values(purchase_date=bought)
    )
    return item


def test_each_line_is_accounted_for_with_its_write_offs(
    session: Session, make: Factory, operator: press.Actor, viewer: press.Actor
) -> None:
    vendor = make.vendor()
    first = _line(make, vendor, "1000", date(2030, 9, 20), f"Alpha {vendor.id}")
    second = _line(make, vendor, "400", date(2030, 10, 5), f"Beta {vendor.id}")
    run = press.start_run(session, operator, {"vendor_id": vendor.id})
    press.add_load(
        session,
        operator,
        run.id,
        {"purchase_item_id": first.id, "weight": "600", "weight_unit": "kg"},
    )
    press.write_off_line(session, operator, first.id, {"reason": "hail", "weight_kg": "150"})
    press.write_off_line(session, operator, first.id, {"reason": "mould"})
    press.write_off_line(session, operator, second.id, {"reason": "culled", "weight_kg": "40"})

    rows = catalog.fruit_reconciliation(session, viewer, {"vendor_id": vendor.id})
    assert [row.purchase_item_id for row in rows] == [first.id, second.id]  # by purchase date
    a, b = rows
    assert (a.bought_kg, a.pressed_kg, a.written_off_kg, a.left_kg) == (
        Decimal("1000.000"),
        Decimal("600.000"),
        Decimal("400.000"),
        Decimal("0.000"),
    )
    # Oldest first; these two were made in one transaction, at one time.
    assert sorted((w.weight_kg, w.reason) for w in a.write_offs) == [
        (Decimal("150.000"), "hail"),
        (Decimal("250.000"), "mould"),
    ]
    assert (b.bought_kg, b.pressed_kg, b.written_off_kg, b.left_kg) == (
        Decimal("400.000"),
        Decimal("0.000"),
        Decimal("40.000"),
        Decimal("360.000"),
    )
    assert [w.reason for w in b.write_offs] == ["culled"]
    for row in rows:
        assert row.bought_kg == row.pressed_kg + row.written_off_kg + row.left_kg
        assert row.written_off_kg == sum((w.weight_kg for w in row.write_offs), Decimal(0))
        assert (row.vendor_id, row.vendor_name) == (vendor.id, vendor.name)


def test_the_season_is_the_year_the_fruit_was_bought(
    session: Session, make: Factory, viewer: press.Actor
) -> None:
    vendor = make.vendor()
    old = _line(make, vendor, "100", date(2029, 12, 31), "Old")
    new = _line(make, vendor, "100", date(2030, 1, 1), "New")
    wanted = {"vendor_id": vendor.id, "season": 2030}
    assert [r.purchase_item_id for r in catalog.fruit_reconciliation(session, viewer, wanted)] == [
        new.id
    ]
    wanted["season"] = 2029
    assert [r.purchase_item_id for r in catalog.fruit_reconciliation(session, viewer, wanted)] == [
        old.id
    ]
    wanted["season"] = 2100  # the last season there is
    assert catalog.fruit_reconciliation(session, viewer, wanted) == []
    wanted["season"] = 2101
    with pytest.raises(InvalidInput, match="season"):
        catalog.fruit_reconciliation(session, viewer, wanted)


def test_lines_deleted_or_bought_by_volume_are_left_out(
    session: Session, make: Factory, viewer: press.Actor
) -> None:
    vendor = make.vendor()
    kept = make.purchase_item(vendor=vendor)
    deleted = make.purchase_item(vendor=vendor)
    session.execute(
        update(PurchaseItem).where(PurchaseItem.id == deleted.id).values(deleted_at=func.now())
    )
    make.juice_line(vendor, kept.apple_variety_id, purchase_id=kept.purchase_id)
    rows = catalog.fruit_reconciliation(session, viewer, {"vendor_id": vendor.id})
    assert [row.purchase_item_id for row in rows] == [kept.id]
    assert rows[0].write_offs == []


def test_an_inactive_grower_s_lines_are_accounted_for_too(
    session: Session, make: Factory, viewer: press.Actor
) -> None:
    retired = make.vendor(is_active=False)
    item = make.purchase_item(vendor=retired)
    rows = catalog.fruit_reconciliation(session, viewer, {"vendor_id": retired.id})
    assert [row.purchase_item_id for row in rows] == [item.id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"season": 0}, "season"),
        ({"season": 10000}, "season"),
        ({"season": True}, "season"),
        ({"vendor_id": "nope"}, "vendor_id"),
        ({"grower": "x"}, "grower"),
    ],
)
def test_a_bad_filter_is_refused(
    session: Session, viewer: press.Actor, query: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        catalog.fruit_reconciliation(session, viewer, query)
    assert [e["field"] for e in info.value.errors] == [field]
