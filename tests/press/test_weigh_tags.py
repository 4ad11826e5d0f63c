"""Weigh tags: a load given as gross and tare (a bin or truck weighed full and empty).

The load weighs gross less tare and keeps both; each mistake in how the weight is given
is one ``InvalidInput`` at the field concerned, with nothing written. A correction sets,
changes or drops the tag: ``weight`` alone drops it, ``gross_weight`` with
``tare_weight`` sets it and the weight follows, ``weight_unit`` alone re-reads the
weight and the tag in that unit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cidery import press
from cidery.models import PressRunLoad
from cidery.press.errors import InsufficientFruit, InvalidInput
from cidery.press.schemas import PressRunDetail, PressRunLoadRead
from tests.press.support import World, audit_rows, fields, refused


def tagged(w: World, gross: Any, tare: Any, unit: str = "lb") -> PressRunLoadRead:
    """A load of a new run given by its weigh tag, as the API sends it (no ``weight``)."""
    entry = {
        "purchase_item_id": w.item.id,
        "gross_weight": gross,
        "tare_weight": tare,
        "weight_unit": unit,
    }
    return press.add_load(w.session, w.actor, w.start().id, entry)


def stored(session: Session, load: PressRunLoadRead) -> PressRunLoad:
    row = session.scalars(select(PressRunLoad).where(PressRunLoad.id == load.id)).one()
    session.refresh(row)
    return row


def test_a_load_given_by_its_weigh_tag_weighs_gross_less_tare(w: World) -> None:
    run = w.start()
    entry = {
        "purchase_item_id": w.item.id,
        "gross_weight": "1210.5",
        "tare_weight": "360.5",
        "weight_unit": "lb",
    }
    load = press.add_load(w.session, w.actor, run.id, entry)
    assert (load.weight, load.gross_weight, load.tare_weight) == (
        Decimal("850.000"),
        Decimal("1210.500"),
        Decimal("360.500"),
    )
    assert load.weight_unit.value == "lb"
    assert load.weight_kg == Decimal("385.554")  # 850 lb, as a net weight of 850 lb is
    row = stored(w.session, load)
    assert (row.weight, row.gross_weight, row.tare_weight) == (
        Decimal("850.000"),
        Decimal("1210.500"),
        Decimal("360.500"),
    )
    assert w.read(run).total_apple_weight_kg == Decimal("385.554")
    assert w.remaining() == Decimal("614.446")
    [insert] = audit_rows(w.session, load.id, "press_run_loads")
    assert insert.new_data is not None
    assert (insert.new_data["gross_weight"], insert.new_data["tare_weight"]) == (
        "1210.500",
        "360.500",
    )


def test_a_tare_of_nothing_is_a_weigh_tag_all_the_same(w: World) -> None:
    load = tagged(w, "200", "0", unit="kg")
    assert (load.weight, load.gross_weight, load.tare_weight) == (
        Decimal("200.000"),
        Decimal("200.000"),
        Decimal("0.000"),
    )


def test_a_load_given_net_has_no_weigh_tag(w: World) -> None:
    load = w.load(w.start(), "120")
    assert (load.gross_weight, load.tare_weight) == (None, None)


@pytest.mark.parametrize(
    ("given", "field", "words"),
    [
        ({"gross_weight": "500", "tare_weight": "600"}, "tare_weight", "less than gross_weight"),
        ({"gross_weight": "500", "tare_weight": "500"}, "tare_weight", "less than gross_weight"),
        ({"gross_weight": "500"}, "tare_weight", "needs tare_weight"),
        ({"tare_weight": "50"}, "gross_weight", "needs gross_weight"),
        (
            {"weight": "450", "gross_weight": "500", "tare_weight": "50"},
            "gross_weight",
            "not both",
        ),
        ({"weight": "450", "tare_weight": "50"}, "tare_weight", "not both"),
        ({}, "weight", "give the weight"),
        ({"gross_weight": "500", "tare_weight": "-1"}, "tare_weight", "greater than or equal"),
        ({"gross_weight": "0", "tare_weight": "0"}, "gross_weight", "greater than 0"),
        # 0.001 lb is 0.45 g: the stored kilograms would be 0.000.
        ({"gross_weight": "0.002", "tare_weight": "0.001"}, "tare_weight", "less than 1 g"),
    ],
    ids=[
        "tare-above-gross",
        "tare-equal-to-gross",
        "only-gross",
        "only-tare",
        "weight-and-tag",
        "weight-and-tare",
        "no-weight-at-all",
        "negative-tare",
        "gross-of-nothing",
        "net-below-a-gram",
    ],
)
def test_each_mistake_in_a_weigh_tag_is_one_error_at_its_field(
    w: World, given: dict[str, str], field: str, words: str
) -> None:
    run = w.start()
    entry = {"purchase_item_id": w.item.id, "weight_unit": "lb", **given}
    with refused(w.session, InvalidInput, "invalid_input", words) as info:
        press.add_load(w.session, w.actor, run.id, entry)
    assert fields(info.value) == [field]
    assert w.remaining() == Decimal("1000.000")
    w.assert_usable()


def test_a_weigh_tag_heavier_than_the_fruit_left_is_refused_with_the_net_figure(
    w: World,
) -> None:
    run = w.start()
    entry = {
        "purchase_item_id": w.item.id,
        "gross_weight": "1300",
        "tare_weight": "250",
        "weight_unit": "kg",
    }
    with refused(w.session, InsufficientFruit, "insufficient_fruit", "1050") as info:
        press.add_load(w.session, w.actor, run.id, entry)
    assert info.value.requested_kg == Decimal("1050")
    assert info.value.remaining_kg == Decimal("1000.000")


# --- corrections ----------------------------------------------------------------------------


def correct(w: World, load: PressRunLoadRead, **given: Any) -> PressRunDetail:
    return press.correct_load(w.session, w.actor, load.id, given)


def the_load(detail: PressRunDetail, load: PressRunLoadRead) -> PressRunLoadRead:
    [found] = [row for row in detail.loads if row.id == load.id]
    return found


def test_a_weight_alone_drops_the_weigh_tag(w: World) -> None:
    load = tagged(w, "500", "100", unit="kg")
    after = the_load(correct(w, load, weight="380", weight_unit="kg", reason="net ticket"), load)
    assert (after.weight, after.gross_weight, after.tare_weight) == (
        Decimal("380.000"),
        None,
        None,
    )
    assert after.weight_kg == Decimal("380.000")
    [update] = [r for r in audit_rows(w.session, load.id) if r.operation.value == "update"]
    assert update.diff is not None
    assert {"weight", "weight_kg", "gross_weight", "tare_weight"} <= set(update.diff)
    assert update.reason == "net ticket"
    assert w.remaining() == Decimal("620.000")


def test_a_weigh_tag_given_to_a_net_load_sets_its_weight(w: World) -> None:
    run = w.start()
    load = w.load(run, "300", "kg")
    after = the_load(
        correct(w, load, gross_weight="420", tare_weight="95.5", weight_unit="kg"), load
    )
    assert (after.weight, after.gross_weight, after.tare_weight) == (
        Decimal("324.500"),
        Decimal("420.000"),
        Decimal("95.500"),
    )
    assert w.read(run).total_apple_weight_kg == Decimal("324.500")
    assert w.remaining() == Decimal("675.500")


def test_a_changed_weigh_tag_recomputes_the_weight(w: World) -> None:
    load = tagged(w, "900", "100", unit="lb")
    after = the_load(
        correct(w, load, gross_weight="900", tare_weight="150", weight_unit="lb"), load
    )
    assert (after.weight, after.tare_weight) == (Decimal("750.000"), Decimal("150.000"))
    assert after.weight_kg == Decimal("340.194")


def test_a_unit_alone_re_reads_the_weigh_tag_in_that_unit(w: World) -> None:
    load = tagged(w, "500", "100", unit="kg")
    after = the_load(correct(w, load, weight_unit="lb"), load)
    assert (after.weight, after.gross_weight, after.tare_weight, after.weight_unit.value) == (
        Decimal("400.000"),
        Decimal("500.000"),
        Decimal("100.000"),
        "lb",
    )
    assert after.weight_kg == Decimal("181.437")


def test_the_same_weigh_tag_again_changes_nothing(w: World) -> None:
    load = tagged(w, "500", "100", unit="kg")
    before = audit_rows(w.session, load.id)
    correct(w, load, gross_weight="500", tare_weight="100", weight_unit="kg")
    assert audit_rows(w.session, load.id) == before


@pytest.mark.parametrize(
    ("given", "field", "words"),
    [
        ({"gross_weight": "500", "weight_unit": "kg"}, "tare_weight", "needs tare_weight"),
        ({"tare_weight": "50", "weight_unit": "kg"}, "gross_weight", "needs gross_weight"),
        (
            {"gross_weight": "500", "tare_weight": "500", "weight_unit": "kg"},
            "tare_weight",
            "less than gross_weight",
        ),
        (
            {"weight": "400", "gross_weight": "500", "tare_weight": "100", "weight_unit": "kg"},
            "gross_weight",
            "not both",
        ),
        ({"gross_weight": "500", "tare_weight": "100"}, "LoadCorrection", "needs its weight_unit"),
        ({"gross_weight": None, "tare_weight": None}, "gross_weight", "cannot be cleared"),
    ],
    ids=["only-gross", "only-tare", "tare-equal-to-gross", "weight-and-tag", "no-unit", "nulls"],
)
def test_a_bad_weigh_tag_correction_is_refused_and_changes_nothing(
    w: World, given: dict[str, Any], field: str, words: str
) -> None:
    load = tagged(w, "500", "100", unit="kg")
    with refused(w.session, InvalidInput, "invalid_input", words) as info:
        correct(w, load, **given)
    assert fields(info.value)[0] == field
    row = stored(w.session, load)
    assert (row.weight, row.gross_weight, row.tare_weight) == (
        Decimal("400.000"),
        Decimal("500.000"),
        Decimal("100.000"),
    )


def test_a_heavier_weigh_tag_than_the_line_has_is_refused(w: World) -> None:
    load = tagged(w, "500", "100", unit="kg")  # 400 kg of 1000
    with refused(w.session, InsufficientFruit, "insufficient_fruit") as info:
        correct(w, load, gross_weight="1200", tare_weight="100", weight_unit="kg")
    assert info.value.remaining_kg == Decimal("1000.000")  # its own 400 counts as left
    assert stored(w.session, load).weight == Decimal("400.000")
