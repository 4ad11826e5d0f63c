"""What the browser tests do and check on every page: sign in, axe-core, phone quality."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.conftest import AXE, PASSWORD

# Elements a thumb must hit: at least 44 by 44 CSS pixels (WCAG 2.5.5).
TOUCH_TARGETS = "button, a.button, select, textarea, input:not([type=hidden]), .bar a"
MIN_TARGET_PX = 44


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/pressing$"))


def axe_violations(page: Page) -> list[dict[str, object]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run 'npm ci' (make installs it)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def small_targets(page: Page) -> list[str]:
    """Visible controls smaller than a fingertip."""
    found: list[str] = page.evaluate(
        """([selector, least]) => Array.from(document.querySelectorAll(selector))
            .filter((e) => e.offsetParent !== null || e.getClientRects().length)
            .map((e) => [e, e.getBoundingClientRect()])
            .filter(([, r]) => r.width > 0 && (r.width < least || r.height < least))
            .map(([e, r]) => `${e.outerHTML.slice(0, 80)} ${r.width}x${r.height}`)""",
        [TOUCH_TARGETS, MIN_TARGET_PX],
    )
    return found


def unlabelled_inputs(page: Page) -> list[str]:
    found: list[str] = page.evaluate(
        """() => Array.from(document.querySelectorAll(
              'input:not([type=hidden]), select, textarea'))
            .filter((e) => !(e.labels && e.labels.length))
            .map((e) => e.outerHTML.slice(0, 80))"""
    )
    return found


def check_page(page: Page, *, axe: bool = True) -> None:
    """The phone-quality rules every page keeps (axe-core needs the page's JavaScript on)."""
    if axe:
        assert axe_violations(page) == [], page.url
    assert small_targets(page) == [], page.url
    assert unlabelled_inputs(page) == [], page.url
