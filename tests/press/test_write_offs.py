"""press.write_off_line: the fruit left on a purchase line closed as waste, with a reason.

After a write-off the fruit is gone for every reader of what is left (the picker,
add_load, correct_load, a grower's fruit left); a refusal writes nothing: no
write-off, no audit row, the line's figures as they were.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cidery import catalog, press
from cidery.models import FruitWriteOff, Purchase, PurchaseItem
from cidery.models.enums import AuditOperation, UserRole
from cidery.press.errors import (
    Forbidden,
    InsufficientFruit,
    InvalidInput,
    NotFound,
    NothingLeft,
)
from cidery.press.schemas import FruitWriteOffRead
from tests.factories import Factory, new_actor
from tests.press.support import World, audit_rows, counts, fields, refused


def write_off(w: World, item: PurchaseItem | None = None, **given: Any) -> FruitWriteOffRead:
    data = {"reason": "rotten in the bins", **given}
    return press.write_off_line(w.session, w.actor, (item or w.item).id, data)


def figures(session: Session, item: PurchaseItem) -> tuple[Decimal, Decimal]:
    """The line's pressed and written-off kilograms, as the database keeps them."""
    row = session.execute(
        select(PurchaseItem.pressed_kg, PurchaseItem.written_off_kg).where(
            PurchaseItem.id == item.id
        )
    ).one()
    return row.pressed_kg, row.written_off_kg


def test_the_rest_of_a_line_is_written_off_and_no_longer_offered(w: World) -> None:
    run = w.start()
    w.load(run, "350")
    written = write_off(w)
    assert written.purchase_item_id == w.item.id
    assert written.weight_kg == Decimal("650.000")
    assert written.reason == "rotten in the bins"
    assert written.created_by == w.actor.user_id
    assert figures(w.session, w.item) == (Decimal("350.000"), Decimal("650.000"))
    assert w.remaining() == Decimal(0)
    offered = press.available_fruit(w.session, w.actor, {"vendor_id": w.vendor.id})
    assert [line.purchase_item_id for line in offered] == []
    # add_load counts written-off fruit as gone.
    with refused(w.session, InsufficientFruit, "insufficient_fruit") as info:
        w.load(run, "1")
    assert info.value.remaining_kg == Decimal("0.000")


def test_the_write_off_is_audited_with_its_reason(w: World) -> None:
    written = write_off(w, reason="culled: hail damage")
    [row] = audit_rows(w.session, written.id, "fruit_write_offs")
    assert row.operation == AuditOperation.INSERT
    assert row.reason == "culled: hail damage"
    assert row.changed_by == w.actor.user_id
    assert row.new_data is not None
    assert row.new_data["purchase_item_id"] == str(w.item.id)
    assert row.new_data["weight_kg"] == "1000.000"


def test_part_of_what_is_left_may_be_written_off(w: World) -> None:
    w.load(w.start(), "100")
    written = write_off(w, weight_kg="250.5")
    assert written.weight_kg == Decimal("250.500")
    assert w.remaining() == Decimal("649.500")
    [line] = press.available_fruit(w.session, w.actor, {"vendor_id": w.vendor.id})
    assert (line.pressed_kg, line.written_off_kg, line.remaining_kg) == (
        Decimal("100.000"),
        Decimal("250.500"),
        Decimal("649.500"),
    )
    # The rest later, by default.
    assert write_off(w).weight_kg == Decimal("649.500")
    assert figures(w.session, w.item) == (Decimal("100.000"), Decimal("900.000"))


def test_exactly_what_is_left_may_be_asked_for(w: World) -> None:
    assert write_off(w, weight_kg="1000").weight_kg == Decimal("1000.000")
    assert w.remaining() == Decimal(0)


def test_more_than_is_left_is_refused_with_the_figures(w: World) -> None:
    w.load(w.start(), "900")
    with refused(
        w.session, InsufficientFruit, "insufficient_fruit", "100.000 kg left", "write-off"
    ) as info:
        write_off(w, weight_kg="100.001")
    assert info.value.details["remaining_kg"] == "100.000"
    assert figures(w.session, w.item) == (Decimal("900.000"), Decimal("0.000"))
    w.assert_usable()


def test_a_line_with_nothing_left_is_refused(w: World) -> None:
    w.load(w.start(), "1000")
    with refused(w.session, NothingLeft, "nothing_left", str(w.item.id), "no fruit left") as info:
        write_off(w)
    assert info.value.details == {"purchase_item_id": str(w.item.id)}
    w.assert_usable()


def test_a_line_written_off_already_is_refused_a_second_time(w: World) -> None:
    write_off(w)
    with refused(w.session, NothingLeft, "nothing_left"):
        write_off(w, reason="again")
    assert figures(w.session, w.item) == (Decimal("0.000"), Decimal("1000.000"))


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": None}, "reason"),
        ({"weight_kg": "0"}, "weight_kg"),
        ({"weight_kg": "-5"}, "weight_kg"),
        ({"weight_kg": "NaN"}, "weight_kg"),
        ({"reason": "rot\x00"}, "reason"),
        ({"reason": "rot", "weight": "5"}, "weight"),
    ],
    ids=["empty", "blank", "null", "zero", "negative", "nan", "nul", "unknown-field"],
)
def test_bad_input_is_refused_field_by_field(w: World, given: dict[str, Any], field: str) -> None:
    with refused(w.session, InvalidInput, "invalid_input") as info:
        write_off(w, **given)
    assert fields(info.value) == [field]
    assert figures(w.session, w.item) == (Decimal("0.000"), Decimal("0.000"))


def test_a_reason_is_required(w: World) -> None:
    with refused(w.session, InvalidInput, "invalid_input") as info:
        press.write_off_line(w.session, w.actor, w.item.id, {})
    assert fields(info.value) == ["reason"]


def test_a_viewer_may_not_write_off(w: World) -> None:
    viewer = new_actor(w.session, UserRole.VIEWER)
    with refused(w.session, Forbidden, "forbidden", "a viewer may not write off fruit"):
        press.write_off_line(w.session, viewer, w.item.id, {"reason": "rotten"})
    assert figures(w.session, w.item) == (Decimal("0.000"), Decimal("0.000"))


def test_an_admin_may(w: World) -> None:
    admin = new_actor(w.session, UserRole.ADMIN)
    written = press.write_off_line(w.session, admin, w.item.id, {"reason": "rotten"})
    assert written.created_by == admin.user_id


def test_an_unknown_or_deleted_line_is_not_found(w: World) -> None:
    missing = uuid.uuid4()
    with refused(w.session, NotFound, "not_found", "purchase line", str(missing)):
        write_off(w, item=PurchaseItem(id=missing))
    w.session.execute(
        update(PurchaseItem).where(PurchaseItem.id == w.item.id).values(deleted_at=func.now())
    )
    with refused(w.session, NotFound, "not_found", str(w.item.id)):
        write_off(w)


def test_a_line_of_a_deleted_purchase_is_not_found(w: World) -> None:
    w.session.execute(
        update(Purchase).where(Purchase.id == w.item.purchase_id).values(deleted_at=func.now())
    )
    with refused(w.session, NotFound, "not_found"):
        write_off(w)


def test_a_line_bought_by_volume_has_no_fruit_to_write_off(w: World) -> None:
    juice = w.make.juice_line(w.vendor, w.variety)
    with refused(w.session, InvalidInput, "invalid_input", "volume") as info:
        write_off(w, item=juice)
    assert fields(info.value) == ["purchase_item_id"]


def test_an_inactive_grower_s_fruit_may_still_be_written_off(w: World, make: Factory) -> None:
    """Fruit rots whoever sold it: the grower's status does not keep it on the books."""
    retired = make.vendor(is_active=False)
    item = make.purchase_item(vendor=retired, quantity=Decimal("80"))
    assert write_off(w, item=item).weight_kg == Decimal("80.000")
    assert figures(w.session, item) == (Decimal("0.000"), Decimal("80.000"))


def test_a_correction_cannot_draw_on_written_off_fruit(w: World) -> None:
    run = w.start()
    load = w.load(run, "100")
    write_off(w)  # the other 900 kg
    with refused(w.session, InsufficientFruit, "insufficient_fruit") as info:
        press.correct_load(w.session, w.actor, load.id, {"weight": "150", "weight_unit": "kg"})
    assert info.value.remaining_kg == Decimal("100.000")  # only its own draw
    # Lighter is always accepted; the fruit it gives back is left on the line.
    press.correct_load(w.session, w.actor, load.id, {"weight": "60", "weight_unit": "kg"})
    assert figures(w.session, w.item) == (Decimal("60.000"), Decimal("900.000"))
    assert w.remaining() == Decimal("40.000")


def test_a_grower_s_fruit_left_leaves_out_what_was_written_off(w: World) -> None:
    other = w.make.purchase_item(vendor=w.vendor, quantity=Decimal("500"))
    w.load(w.start(), "200")
    write_off(w, weight_kg="300")

    def left() -> Decimal:
        [vendor] = [
            v
            for v in catalog.list_vendors(w.session, w.actor, {"q": w.vendor.name})
            if v.id == w.vendor.id
        ]
        return vendor.fruit_left_kg

    assert left() == Decimal("1000.000")  # 1000 - 200 - 300 + 500
    write_off(w, item=other)
    assert left() == Decimal("500.000")


def test_a_refused_write_off_leaves_the_transaction_usable(w: World) -> None:
    write_off(w)
    before = counts(w.session)
    with pytest.raises(NothingLeft):
        write_off(w)
    assert counts(w.session) == before
    assert (
        w.session.scalar(
            select(func.count())
            .select_from(FruitWriteOff)
            .where(FruitWriteOff.purchase_item_id == w.item.id)
        )
        == 1
    )
    w.assert_usable()
