"""The pressing pages in a real browser, as an operator at the press uses them."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from cidery.db.engine import transaction
from cidery.models.enums import UserRole
from cidery.press import get_run
from cidery.press.access import Actor
from tests.api.conftest import Account, Fruit
from tests.web.pages import check_page, sign_in


def start_run(page: Page, fruit: Fruit) -> str:
    page.get_by_role("link", name="Start press run").click()
    check_page(page)
    page.get_by_label("Grower").select_option(str(fruit.vendor_id))
    page.get_by_role("button", name="Start").click()
    expect(page).to_have_url(re.compile(r"/pressing/runs/[0-9a-f-]+$"))
    return page.url.rsplit("/", 1)[1]


def add_load(page: Page, weight: str, unit: str = "lb") -> None:
    page.get_by_label("Weight").fill(weight)
    page.get_by_role("radio", name=unit, exact=True).check()
    page.get_by_role("button", name="Save load").click()


def test_an_operator_signs_in_starts_a_run_and_adds_loads(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    page.goto("/sign-in")
    check_page(page)
    sign_in(page, account[UserRole.OPERATOR].email)
    check_page(page)
    expect(page.get_by_role("heading", name="In progress")).to_be_visible()
    expect(page.get_by_role("heading", name="Recently completed")).to_be_visible()
    run_id = start_run(page, fruit)
    check_page(page)

    # lb is the default unit; the conversion is shown as the weight is typed.
    expect(page.get_by_role("radio", name="lb", exact=True)).to_be_checked()
    page.get_by_label("Weight").fill("850")
    expect(page.locator("#weight-converted")).to_have_text("= 385.55 kg")
    page.get_by_role("button", name="Save load").click()
    expect(page.get_by_role("status").filter(has_text="Load 1 saved.")).to_be_visible()
    expect(page.get_by_label("Weight")).to_be_focused()
    expect(page.get_by_label("Weight")).to_have_value("")

    add_load(page, "150", "kg")
    expect(page.get_by_text("Load 2 saved.")).to_be_visible()
    expect(page.locator("#total-loads")).to_have_text("2")
    expect(page.locator("#total-kg")).to_have_text("535.554")
    expect(page.get_by_role("heading", name=re.compile(r"^Load 2 "))).to_be_visible()
    check_page(page)

    with transaction(api_engine) as session:
        run = get_run(session, Actor.system(), run_id)
    assert run.total_weight_kg == Decimal("535.554")
    assert [load.weight_unit.value for load in run.loads] == ["lb", "kg"]
