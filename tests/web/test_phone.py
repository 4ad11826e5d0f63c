"""Every page on a small phone (360 by 740): no sideways scrolling, little JavaScript, and
without JavaScript at all a load is still saved through the plain form.

With ``CIDERY_SCREENSHOTS=DIR`` (``make screenshots``) the walk also saves a PNG of
each page into DIR.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Browser, Page, Response, expect
from sqlalchemy import Engine

import cidery.web
from cidery.db.engine import transaction
from cidery.models.enums import UserRole
from cidery.press import get_run
from cidery.press.access import Actor
from tests.api.conftest import Account, Fruit
from tests.web.conftest import new_page
from tests.web.pages import check_page, sign_in
from tests.web.test_pressing import add_load, start_run

SMALL_PHONE = {"width": 360, "height": 740}
MAX_SCRIPT_BYTES = 100 * 1024


def _fits(page: Page, name: str, shots: Path | None) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SMALL_PHONE["width"], f"{page.url} scrolls sideways: {width} px"
    check_page(page)
    if shots is not None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def test_every_page_fits_a_small_phone_with_little_javascript(
    browser: Browser, base_url: str, account: dict[UserRole, Account], fruit: Fruit
) -> None:
    target = os.environ.get("CIDERY_SCREENSHOTS")
    shots = Path(target) if target else None
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    page = new_page(browser, base_url, viewport=SMALL_PHONE)
    scripts: dict[str, int] = {}

    def count(response: Response) -> None:
        if response.request.resource_type == "script":
            scripts[response.url] = len(response.body())

    page.on("response", count)
    try:
        page.goto("/sign-in")
        _fits(page, "sign-in", shots)
        sign_in(page, account[UserRole.OPERATOR].email)
        start_run(page, fruit)
        _fits(page, "run-empty", shots)
        add_load(page, "850")
        expect(page.get_by_text("Load 1 saved.")).to_be_visible()
        add_load(page, "120.5", "kg")
        expect(page.get_by_text("Load 2 saved.")).to_be_visible()
        page.get_by_label("Weight").fill("385")
        _fits(page, "run", shots)
        # With no connection: loads queued on the phone, counted in the header.
        expect(page.locator("html")).to_have_attribute("data-offline-ready", "")
        page.context.set_offline(True)
        add_load(page, "410")
        expect(page.locator("#queued-loads > li")).to_have_count(1)
        add_load(page, "395")
        expect(page.locator("#queued-loads > li")).to_have_count(2)
        expect(page.locator("#connection")).to_contain_text("Offline · 2 loads waiting")
        _fits(page, "run-offline", shots)
        page.context.set_offline(False)
        expect(page.locator("#total-loads")).to_have_text("4")
        run_url = page.url
        page.goto("/pressing")
        _fits(page, "pressing", shots)
        page.goto("/pressing/start")
        _fits(page, "start", shots)
        page.goto(run_url)
        page.get_by_role("link", name="Edit load 2").click()
        expect(page.get_by_role("heading", name="Edit load 2")).to_be_visible()
        _fits(page, "edit-load", shots)
        page.goto(run_url)
        page.get_by_role("link", name="Void load 2").click()
        expect(page.get_by_role("heading", name="Void load 2")).to_be_visible()
        _fits(page, "void-load", shots)
        page.goto(run_url)
        page.get_by_role("link", name="Cancel run").click()
        expect(page.get_by_role("heading", name="Cancel run")).to_be_visible()
        _fits(page, "cancel", shots)
        page.goto(run_url)
        page.get_by_role("link", name="Complete run").click()
        page.get_by_label("Juice volume").fill("300")
        page.get_by_label("Vessel").select_option(str(fruit.vessel_id))
        _fits(page, "complete", shots)
        page.get_by_role("button", name="Complete run").click()
        expect(page.get_by_role("heading", name="Check and confirm")).to_be_visible()
        _fits(page, "confirm", shots)
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_role("heading", name="Run completed")).to_be_visible()
        _fits(page, "completed", shots)
    finally:
        page.context.close()
    assert scripts, "the pages load their scripts"
    assert all("/static/js/" in url for url in scripts), sorted(scripts)
    assert sum(scripts.values()) < MAX_SCRIPT_BYTES, scripts
    # All of it, the service worker included, whether a page loads it or not.
    web = Path(cidery.web.__file__).parent
    every = [*web.glob("static/js/*.js"), web / "sw.js"]
    assert sum(path.stat().st_size for path in every) < MAX_SCRIPT_BYTES


def test_without_javascript_a_load_is_saved_through_the_plain_form(
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
        add_load(page, "300")
        expect(page).to_have_url(re.compile(r"\?saved=1#add-load$"))
        expect(page.get_by_text("Load 1 saved.")).to_be_visible()
        expect(page.get_by_label("Weight")).to_have_attribute("autofocus", "")
        add_load(page, "999", "kg")  # more than the 863.922 kg left
        expect(page.get_by_role("alert")).to_have_text("Only 863.922 kg left on this line")
        check_page(page, axe=False)  # the same HTML was checked with scripts on
    finally:
        page.context.close()
    with transaction(api_engine) as session:
        run = get_run(session, Actor.system(), run_id)
    assert [(load.weight, load.weight_unit.value) for load in run.loads] == [(300, "lb")]
