"""Weigh tags on the pressing page: a load entered by gross and tare, with scripts (the net
shown as it is typed, with its conversion) and without them (the plain form), and a load
corrected from its tag to a net weight."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from cidery.db.engine import transaction
from cidery.models.enums import UserRole
from cidery.press import get_run
from cidery.press.access import Actor
from tests.api.conftest import Account, Fruit
from tests.web.conftest import new_page
from tests.web.pages import check_page, sign_in
from tests.web.test_offline import go_offline, offline_ready
from tests.web.test_phone import SMALL_PHONE
from tests.web.test_pressing import start_run


def tag_load(page: Page, gross: str, tare: str, unit: str = "lb") -> None:
    tag = page.locator("#weigh-tag")
    if tag.get_attribute("open") is None:
        page.get_by_text("Weigh tag", exact=False).first.click()
    page.get_by_label("Gross").fill(gross)
    page.get_by_label("Tare").fill(tare)
    page.get_by_role("radio", name=unit, exact=True).check()


def test_a_load_entered_by_gross_and_tare(
    browser: Browser,
    base_url: str,
    account: dict[UserRole, Account],
    fruit: Fruit,
    api_engine: Engine,
) -> None:
    page = new_page(browser, base_url, viewport=SMALL_PHONE)
    try:
        sign_in(page, account[UserRole.OPERATOR].email)
        run_id = start_run(page, fruit)
        expect(page.get_by_label("Gross")).to_be_hidden()  # the tag is folded away
        tag_load(page, "1210.5", "360.5")
        expect(page.locator("#net-weight")).to_have_text("Net 850 lb = 385.55 kg")
        assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
        check_page(page)
        page.get_by_role("button", name="Save load").click()
        expect(page.get_by_role("status").filter(has_text="Load 1 saved.")).to_be_visible()
        expect(page.locator("#total-kg")).to_have_text("385.554")
        expect(page.locator("#load-1")).to_contain_text("gross 1210.5, tare 360.5 lb")
        # The form is cleared for the next bin, and the tag's first field takes the focus.
        expect(page.get_by_label("Gross")).to_have_value("")
        expect(page.get_by_label("Gross")).to_be_focused()
        expect(page.locator("#net-weight")).to_have_text("")

        # A tare not below the gross is refused beside the form, and nothing is saved.
        tag_load(page, "300", "300", "kg")
        expect(page.locator("#net-weight")).to_have_text("")
        page.get_by_role("button", name="Save load").click()
        expect(page.get_by_role("alert")).to_have_text("Tare: must be less than gross (300)")
        expect(page.locator("#total-loads")).to_have_text("1")

        # Corrected to a net weight: the tag is dropped.
        page.reload()
        page.get_by_role("link", name="Edit load 1").click()
        expect(page.get_by_role("heading", name="Edit load 1")).to_be_visible()
        expect(page.get_by_label("Gross")).to_have_value("1210.5")
        expect(page.get_by_label("Tare")).to_have_value("360.5")
        expect(page.locator("#net-weight")).to_have_text("Net 850 lb = 385.55 kg")
        check_page(page)
        page.get_by_label("Tare").fill("350.5")
        expect(page.locator("#net-weight")).to_have_text("Net 860 lb = 390.09 kg")
        page.get_by_role("button", name="Save changes").click()
        expect(page.locator("#load-1")).to_contain_text("gross 1210.5, tare 350.5 lb")
    finally:
        page.context.close()
    with transaction(api_engine) as session:
        [load] = get_run(session, Actor.system(), run_id).loads
    assert (load.weight, load.gross_weight, load.tare_weight) == (
        Decimal("860.000"),
        Decimal("1210.500"),
        Decimal("350.500"),
    )


def test_without_javascript_a_weigh_tag_goes_through_the_plain_form(
    browser: Browser,
    base_url: str,
    account: dict[UserRole, Account],
    fruit: Fruit,
    api_engine: Engine,
) -> None:
    page = new_page(browser, base_url, java_script_enabled=False)
    try:
        sign_in(page, account[UserRole.OPERATOR].email)
        run_id = start_run(page, fruit, axe=False)
        tag_load(page, "500", "")  # the tare forgotten
        page.get_by_role("button", name="Save load").click()
        expect(page.locator("#tare_weight-error")).to_have_text("A weigh tag needs tare with gross")
        expect(page.get_by_label("Gross")).to_have_value("500")  # kept, the tag still open
        page.get_by_label("Tare").fill("120")
        page.get_by_role("button", name="Save load").click()
        expect(page).to_have_url(re.compile(r"\?saved=1#add-load$"))
        check_page(page, axe=False)
        page.get_by_role("link", name="Edit load 1").click()
        page.get_by_label("Gross").fill("")
        page.get_by_label("Tare").fill("")
        page.get_by_label("Weight").fill("375")
        page.get_by_role("button", name="Save changes").click()
        expect(page.locator("#load-1")).not_to_contain_text("Weigh tag")
    finally:
        page.context.close()
    with transaction(api_engine) as session:
        [load] = get_run(session, Actor.system(), run_id).loads
    assert (load.weight, load.weight_unit.value, load.gross_weight, load.tare_weight) == (
        Decimal("375.000"),
        "lb",
        None,
        None,
    )


def test_a_load_weighed_by_tag_is_queued_offline_and_sent_later(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = start_run(page, fruit)
    offline_ready(page)
    go_offline(page)
    tag_load(page, "1210.5", "360.5")
    page.get_by_role("button", name="Save load").click()
    queued = page.locator("#queued-loads > li")
    expect(queued).to_have_count(1)
    expect(queued).to_contain_text("850 lb")
    expect(queued).to_contain_text("385.554")
    page.context.set_offline(False)
    expect(page.locator("#total-loads")).to_have_text("1")
    expect(queued).to_have_count(0)
    with transaction(api_engine) as session:
        [load] = get_run(session, Actor.system(), run_id).loads
    assert (load.weight, load.gross_weight, load.tare_weight) == (
        Decimal("850.000"),
        Decimal("1210.500"),
        Decimal("360.500"),
    )
