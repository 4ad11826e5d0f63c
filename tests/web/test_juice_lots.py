"""Completing a run into several vessels from the phone: "Add vessel", what is left to
assign, the check before confirming, and the juice lots the run then shows."""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import Engine, func, select

from cidery import press
from cidery.db.engine import transaction
from cidery.models import PressRunBatch
from cidery.models.enums import UserRole
from cidery.press.access import Actor
from tests.api.conftest import Account, Fruit, make_fruit
from tests.web.pages import check_page, sign_in
from tests.web.test_pressing import add_load, start_run


def _loaded_run(page: Page, fruit: Fruit) -> str:
    run_id = start_run(page, fruit, axe=False)
    add_load(page, "400")
    expect(page.get_by_text("Load 1 saved.")).to_be_visible()
    add_load(page, "150", "kg")
    expect(page.get_by_text("Load 2 saved.")).to_be_visible()
    page.get_by_role("link", name="Complete run").click()
    expect(page.get_by_role("heading", name="Complete run")).to_be_visible()
    return run_id


def test_a_run_is_split_across_two_vessels(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    barrel = make_fruit(api_engine, capacity_l=Decimal("100")).vessel_id
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = _loaded_run(page, fruit)

    page.get_by_label("Juice volume").fill("50")
    page.get_by_role("radio", name="gal").check()
    page.get_by_label("Vessel", exact=True).select_option(str(fruit.vessel_id))
    page.get_by_role("button", name="Add vessel").click()
    # The form came back with a second vessel, and what was typed kept.
    expect(page.get_by_label("Vessel 2", exact=True)).to_be_visible()
    expect(page.get_by_label("Juice volume")).to_have_value("50")
    check_page(page)
    page.locator("#volume_0").fill("30")
    expect(page.locator("#left-to-assign")).to_have_text("Left to assign: 20 gal")
    page.get_by_label("Vessel 2", exact=True).select_option(str(barrel))
    page.locator("#volume_1").fill("20")
    expect(page.locator("#left-to-assign")).to_have_text("Left to assign: 0 gal")
    page.locator("#pomace_weight").fill("120")
    page.get_by_role("button", name="Complete run").click()

    expect(page.get_by_role("heading", name="Check and confirm")).to_be_visible()
    # 50 gal are 189.271 L: 30 and 20 gal of it, shared to the millilitre.
    expect(page.get_by_text("113.563 L")).to_be_visible()
    expect(page.get_by_text("75.708 L")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Run completed")).to_be_visible()
    lots = page.get_by_role("region", name="Juice lots")
    expect(lots.get_by_role("listitem")).to_have_count(2)
    expect(lots.get_by_role("heading", level=3)).to_have_count(2)
    check_page(page)
    with transaction(api_engine) as session:
        stored = press.run_lots(session, Actor.system(), run_id)
        done = press.get_run(session, Actor.system(), run_id)
    assert [lot.vessel_id for lot in stored] == [fruit.vessel_id, barrel]
    assert [lot.litres for lot in stored] == [Decimal("113.563"), Decimal("75.708")]
    assert done.run.pomace_kg == Decimal("120.000")


def test_volumes_that_do_not_add_up_are_refused_before_confirming(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    other = make_fruit(api_engine).vessel_id
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = _loaded_run(page, fruit)

    page.get_by_label("Juice volume").fill("200")
    page.get_by_label("Vessel", exact=True).select_option(str(fruit.vessel_id))
    page.get_by_role("button", name="Add vessel").click()
    page.locator("#volume_0").fill("150")
    page.get_by_label("Vessel 2", exact=True).select_option(str(other))
    page.locator("#volume_1").fill("40")
    expect(page.locator("#left-to-assign")).to_have_text("Left to assign: 10 L")
    page.get_by_role("button", name="Complete run").click()

    expect(page.get_by_role("alert")).to_have_text(
        "The vessels would receive 190 L but the run gave 200 L: "
        "the volumes must add up to the juice"
    )
    expect(page.get_by_role("heading", name="Check and confirm")).to_have_count(0)
    # Removing the second vessel sends all the juice to the first.
    page.get_by_role("button", name="Remove vessel 2").click()
    expect(page.get_by_label("Vessel 2", exact=True)).to_have_count(0)
    with transaction(api_engine) as session:
        assert press.get_run(session, Actor.system(), run_id).run.status.value == "in_progress"
        linked = session.scalar(select(func.count()).where(PressRunBatch.press_run_id == run_id))
    assert linked == 0
