"""Writing off the rest of a purchase line from a run's page, on a small phone."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Browser, expect
from sqlalchemy import Engine, text

from cidery.models.enums import UserRole
from tests.api.conftest import Account, Fruit
from tests.web.conftest import new_page
from tests.web.pages import check_page, sign_in
from tests.web.test_phone import SMALL_PHONE
from tests.web.test_pressing import add_load, start_run


def test_the_rest_of_a_line_is_written_off_from_the_run_page(
    browser: Browser,
    base_url: str,
    account: dict[UserRole, Account],
    fruit: Fruit,
    api_engine: Engine,
) -> None:
    page = new_page(browser, base_url, viewport=SMALL_PHONE)
    try:
        sign_in(page, account[UserRole.OPERATOR].email)
        start_run(page, fruit)
        add_load(page, "300")
        expect(page.get_by_text("Load 1 saved.")).to_be_visible()
        fruit_left = page.get_by_role("region", name="Fruit left")
        expect(fruit_left).to_contain_text("863.922 kg left")  # refreshed with the load
        check_page(page)
        fruit_left.get_by_role("link", name=re.compile(r"^Write off the rest")).click()
        expect(page.get_by_role("heading", name="Write off the rest")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
        check_page(page)
        page.get_by_label("Reason").fill("rotten in the bins")
        page.get_by_role("button", name="Write off 863.922 kg").click()
        expect(page).to_have_url(re.compile(r"\?written_off=1#fruit-left$"))
        expect(page.get_by_text("This grower has no fruit left to press.")).to_be_visible()
        expect(page.get_by_role("region", name="Fruit left")).to_have_count(0)
        check_page(page)
    finally:
        page.context.close()
    with api_engine.connect() as conn:
        written = conn.execute(
            text("SELECT weight_kg, reason FROM fruit_write_offs WHERE purchase_item_id = :i"),
            {"i": fruit.item_id},
        ).all()
    assert [tuple(row) for row in written] == [(Decimal("863.922"), "rotten in the bins")]


def test_a_viewer_is_not_offered_a_write_off(
    browser: Browser, base_url: str, account: dict[UserRole, Account], fruit: Fruit
) -> None:
    page = new_page(browser, base_url)
    try:
        sign_in(page, account[UserRole.OPERATOR].email)
        run_id = start_run(page, fruit)
        page.context.clear_cookies()
        sign_in(page, account[UserRole.VIEWER].email)
        page.goto(f"/pressing/runs/{run_id}")
        expect(page.get_by_role("heading", name="Press run")).to_be_visible()
        expect(page.get_by_role("link", name=re.compile("Write off"))).to_have_count(0)
        answer = page.goto(f"/pressing/runs/{run_id}/lines/{fruit.item_id}/write-off")
        assert answer is not None
        assert answer.status == 403
    finally:
        page.context.close()
