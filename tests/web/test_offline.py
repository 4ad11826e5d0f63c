"""The pressing page with the network off: loads are queued on the phone and each is
saved exactly once when the connection returns, across reloads and browser restarts.

Every wait is on a page condition (Playwright's ``expect``), never a sleep: the page
marks ``<html data-offline-ready>`` once the service worker keeps it, and the queue
shows its count in the header (``#waiting``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Playwright, Route, expect
from sqlalchemy import Engine, text

from cidery import press
from cidery.db.engine import transaction
from cidery.models.enums import UserRole
from cidery.press.access import Actor
from cidery.web import routes
from cidery.web.routes import STATIC, shell_files
from tests.api.conftest import Account, Fruit, api_app, client  # noqa: F401  (fixtures)
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, new_page
from tests.web.pages import check_page, sign_in
from tests.web.test_pressing import add_load, start_run

QUEUED = "queued — will be sent when online"


def loads_of(engine: Engine, run_id: str) -> list[tuple[int, Decimal, str]]:
    """The run's live loads as the database has them: (sequence, weight, unit)."""
    with transaction(engine) as session:
        rows = session.execute(
            text(
                "SELECT load_sequence, weight, weight_unit::text FROM press_run_loads "
                "WHERE press_run_id = :run AND deleted_at IS NULL ORDER BY load_sequence"
            ),
            {"run": uuid.UUID(run_id)},
        ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def offline_ready(page: Page) -> None:
    """Wait until the service worker controls the page and keeps a copy of it."""
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "")


def waiting(page: Page, count: int) -> None:
    expect(page.locator("#waiting")).to_have_attribute("data-count", str(count))


def go_offline(page: Page) -> None:
    page.context.set_offline(True)
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline")


def test_loads_saved_offline_are_queued_survive_a_reload_and_are_sent_once_in_order(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = start_run(page, fruit)
    offline_ready(page)
    waiting(page, 0)
    go_offline(page)
    expect(page.locator("#connection")).to_have_text(re.compile(r"^Offline · 0 loads waiting"))

    add_load(page, "850")
    expect(page.get_by_role("status").filter(has_text="Load queued")).to_be_visible()
    expect(page.get_by_label("Weight")).to_be_focused()
    expect(page.get_by_label("Weight")).to_have_value("")
    add_load(page, "120.5", "kg")
    cards = page.locator("#queued-loads > li")
    expect(cards).to_have_count(2)
    waiting(page, 2)
    expect(page.locator("#connection")).to_contain_text("2 loads waiting")
    expect(cards.nth(0)).to_contain_text("850 lb")
    expect(cards.nth(0)).to_contain_text(QUEUED)
    expect(cards.nth(1)).to_contain_text("120.5 kg")
    expect(page.locator("#total-loads")).to_have_text("0")
    check_page(page)

    # A reload with no connection: the service worker's copy of the page, with the queue.
    reloaded = page.reload()
    assert reloaded is not None
    assert reloaded.from_service_worker
    expect(page.get_by_role("heading", name="Press run")).to_be_visible()
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_contain_text("850 lb")
    expect(cards.nth(1)).to_contain_text("120.5 kg")
    waiting(page, 2)
    expect(page.get_by_label("Weight")).to_be_visible()
    assert loads_of(api_engine, run_id) == []

    page.context.set_offline(False)
    expect(page.locator("#total-loads")).to_have_text("2")
    waiting(page, 0)
    expect(cards).to_have_count(0)
    expect(page.locator("#connection")).to_have_text(re.compile(r"^Online · 0 loads waiting"))
    expect(page.get_by_role("heading", name=re.compile(r"^Load 2 "))).to_be_visible()
    assert loads_of(api_engine, run_id) == [
        (1, Decimal("850.000"), "lb"),
        (2, Decimal("120.500"), "kg"),
    ]

    # Another page load sends nothing again.
    page.reload()
    waiting(page, 0)
    expect(page.locator("#total-loads")).to_have_text("2")
    assert len(loads_of(api_engine, run_id)) == 2


def pressed_times(engine: Engine, run_id: str) -> list[datetime]:
    with transaction(engine) as session:
        return list(
            session.execute(
                text(
                    "SELECT pressed_at FROM press_run_loads WHERE press_run_id = :run "
                    "ORDER BY load_sequence"
                ),
                {"run": uuid.UUID(run_id)},
            ).scalars()
        )


def started_at(engine: Engine, run_id: str) -> datetime:
    with transaction(engine) as session:
        started: datetime = session.execute(
            text("SELECT start_time FROM press_runs WHERE id = :run"), {"run": uuid.UUID(run_id)}
        ).scalar_one()
        return started.replace(microsecond=0)


def test_a_load_saved_offline_is_recorded_as_pressed_when_it_was_entered(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = start_run(page, fruit)
    offline_ready(page)
    # The phone's clock only (its timers keep running): a minute after the run's start,
    # then eight minutes later (the server takes a time up to ten minutes ahead of its own).
    entered = started_at(api_engine, run_id) + timedelta(minutes=1)
    page.clock.set_fixed_time(entered)
    go_offline(page)
    add_load(page, "850")
    waiting(page, 1)
    sent = entered + timedelta(minutes=8)
    page.clock.set_fixed_time(sent)
    page.context.set_offline(False)
    waiting(page, 0)
    expect(page.locator("#total-loads")).to_have_text("1")
    # Online, a load is recorded at the moment it was saved too: the same body either way.
    add_load(page, "120.5", "kg")
    expect(page.locator("#total-loads")).to_have_text("2")
    assert pressed_times(api_engine, run_id) == [entered, sent]


def test_the_runs_list_shows_queued_loads_once_they_are_sent(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = start_run(page, fruit)
    offline_ready(page)
    page.goto("/pressing")  # kept by the service worker from now on
    card = page.locator("#runs-in-progress .card").filter(has=page.get_by_role("link"))
    expect(card.get_by_role("definition").nth(1)).to_have_text("0")
    page.goto(f"/pressing/runs/{run_id}")
    offline_ready(page)
    go_offline(page)
    add_load(page, "120.5", "kg")
    waiting(page, 1)
    page.goto("/pressing")  # the kept copy, from before the load
    expect(card.get_by_role("definition").nth(1)).to_have_text("0")
    waiting(page, 1)
    page.context.set_offline(False)
    waiting(page, 0)
    # Sent from this page, and its card says so without a reload.
    expect(card.get_by_role("definition").nth(1)).to_have_text("1")
    expect(card.get_by_role("definition").nth(2)).to_have_text("120.5")
    assert len(loads_of(api_engine, run_id)) == 1


def test_a_queued_load_refused_on_replay_shows_why_and_can_be_discarded(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    operator = account[UserRole.OPERATOR]
    sign_in(page, operator.email)
    run_id = start_run(page, fruit)
    offline_ready(page)
    go_offline(page)
    add_load(page, "300", "kg")
    expect(page.locator("#queued-loads > li")).to_have_count(1)
    add_load(page, "100", "kg")
    expect(page.locator("#queued-loads > li")).to_have_count(2)

    # Meanwhile another run takes 650 of the line's 1000 kg: the first queued load (300 kg)
    # still fits, the second (100 kg) no longer does.
    actor = Actor(user_id=operator.id, role=UserRole.OPERATOR)
    with transaction(api_engine) as session:
        other = press.start_run(session, actor, {"vendor_id": str(fruit.vendor_id)})
        press.add_load(
            session,
            actor,
            other.id,
            {"purchase_item_id": str(fruit.item_id), "weight": "650", "weight_unit": "kg"},
        )

    page.context.set_offline(False)
    refused = page.locator("#queued-loads > li")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("Refused when sent: Only 50 kg left on this line")
    expect(refused).to_contain_text("100 kg")
    expect(page.locator("#total-loads")).to_have_text("1")
    waiting(page, 0)
    expect(page.locator("#connection")).to_contain_text("1 refused")
    check_page(page)
    assert loads_of(api_engine, run_id) == [(1, Decimal("300.000"), "kg")]

    # It stays through a reload (it is not sent again), until it is discarded.
    page.reload()
    expect(refused).to_contain_text("Only 50 kg left on this line")
    refused.get_by_role("button", name="Discard").click()
    expect(refused).to_have_count(0)
    expect(page.locator("#connection")).not_to_contain_text("refused")
    expect(page.get_by_role("status").filter(has_text="Queued load discarded.")).to_be_visible()
    assert loads_of(api_engine, run_id) == [(1, Decimal("300.000"), "kg")]


def test_a_load_queued_on_a_phone_whose_clock_was_reset_is_refused_saying_so(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = start_run(page, fruit)
    offline_ready(page)
    # A flat battery took the phone's clock back to 2000: the load would be dated then.
    page.clock.set_fixed_time(datetime(2000, 1, 1, 8, tzinfo=UTC))
    go_offline(page)
    add_load(page, "120.5", "kg")
    waiting(page, 1)
    page.context.set_offline(False)
    refused = page.locator("#queued-loads > li")
    expect(refused).to_contain_text("Refused when sent:")
    expect(refused).to_contain_text("Time pressed: 2000-01-01 08:00 UTC is before the run started")
    expect(refused).to_contain_text("check the clock of the device")
    expect(page.locator("#connection")).to_contain_text("1 refused")
    assert loads_of(api_engine, run_id) == []


def test_a_refused_load_does_not_hold_back_the_loads_queued_behind_it(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    operator = account[UserRole.OPERATOR]
    sign_in(page, operator.email)
    run_id = start_run(page, fruit)
    offline_ready(page)
    go_offline(page)
    add_load(page, "900", "kg")
    expect(page.locator("#queued-loads > li")).to_have_count(1)
    add_load(page, "50", "kg")
    expect(page.locator("#queued-loads > li")).to_have_count(2)
    actor = Actor(user_id=operator.id, role=UserRole.OPERATOR)
    with transaction(api_engine) as session:
        other = press.start_run(session, actor, {"vendor_id": str(fruit.vendor_id)})
        press.add_load(
            session,
            actor,
            other.id,
            {"purchase_item_id": str(fruit.item_id), "weight": "800", "weight_unit": "kg"},
        )
    page.context.set_offline(False)
    expect(page.locator("#total-loads")).to_have_text("1")
    refused = page.locator("#queued-loads > li")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("Only 200 kg left on this line")
    assert loads_of(api_engine, run_id) == [(1, Decimal("50.000"), "kg")]


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return tmp_path / "chromium-profile"


def _persistent(playwright: Playwright, profile: Path, base_url: str) -> Page:
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        base_url=base_url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    return context.pages[0] if context.pages else context.new_page()


def test_queued_loads_survive_a_browser_restart(
    playwright: Playwright,
    base_url: str,
    profile: Path,
    account: dict[UserRole, Account],
    fruit: Fruit,
    api_engine: Engine,
) -> None:
    page = _persistent(playwright, profile, base_url)
    try:
        sign_in(page, account[UserRole.OPERATOR].email)
        run_id = start_run(page, fruit)
        offline_ready(page)
        go_offline(page)
        add_load(page, "640")
        expect(page.locator("#queued-loads > li")).to_have_count(1)
        waiting(page, 1)
    finally:
        page.context.close()
    assert loads_of(api_engine, run_id) == []

    page = _persistent(playwright, profile, base_url)
    try:
        page.goto(f"/pressing/runs/{run_id}")
        expect(page.locator("#total-loads")).to_have_text("1")
        waiting(page, 0)
        expect(page.locator("#queued-loads > li")).to_have_count(0)
        page.reload()
        expect(page.locator("#total-loads")).to_have_text("1")
    finally:
        page.context.close()
    assert loads_of(api_engine, run_id) == [(1, Decimal("640.000"), "lb")]


@pytest.fixture
def unserved(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page without the service worker: Playwright's routes do not see the requests of
    a page a service worker controls (the queue and its keys are the page's own)."""
    tab = new_page(browser, base_url, service_workers="block")
    yield tab
    tab.context.close()


@pytest.fixture
def cut_answers(unserved: Page) -> Iterator[list[int]]:
    """Loads sent while this is on reach the server, but their answers are lost on the way
    back (the phone drops off the Wi-Fi just then); the statuses the server gave."""
    page = unserved
    given: list[int] = []

    def lose_the_answer(route: Route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        answer = route.fetch()
        given.append(answer.status)
        route.abort("internetdisconnected")

    page.route("**/api/v1/press-runs/*/loads", lose_the_answer)
    yield given
    page.unroute_all(behavior="ignoreErrors")


def test_a_load_whose_answer_was_lost_is_saved_once(
    unserved: Page,
    cut_answers: list[int],
    account: dict[UserRole, Account],
    fruit: Fruit,
    api_engine: Engine,
) -> None:
    page = unserved
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = start_run(page, fruit)
    waiting(page, 0)  # the page's scripts run: the form saves through the API
    add_load(page, "700")
    # The server saved it, the page never heard: it keeps the load, with its key.
    cards = page.locator("#queued-loads > li")
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text(QUEUED)
    assert cut_answers == [201]
    assert loads_of(api_engine, run_id) == [(1, Decimal("700.000"), "lb")]

    page.unroute_all(behavior="wait")
    replies: list[tuple[int, str | None]] = []
    page.on(
        "response",
        lambda r: (
            replies.append((r.status, r.headers.get("idempotent-replayed")))
            if r.request.method == "POST"
            else None
        ),
    )
    page.reload()  # every page load sends what waits
    waiting(page, 0)
    expect(cards).to_have_count(0)
    expect(page.locator("#total-loads")).to_have_text("1")
    assert replies == [(201, "true")]
    assert loads_of(api_engine, run_id) == [(1, Decimal("700.000"), "lb")]


def kept_pages(page: Page) -> list[str]:
    """The paths of the pages the service worker keeps (not the app shell)."""
    found: list[str] = page.evaluate(
        """async () => {
            const paths = [];
            for (const name of await caches.keys()) {
                if (!name.startsWith("cidery-pages-")) continue;
                const cache = await caches.open(name);
                for (const request of await cache.keys()) paths.push(new URL(request.url).pathname);
            }
            return paths;
        }"""
    )
    return found


def test_signing_out_forgets_the_pages_kept_for_offline(
    page: Page, account: dict[UserRole, Account], fruit: Fruit
) -> None:
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = start_run(page, fruit)
    offline_ready(page)
    assert f"/pressing/runs/{run_id}" in kept_pages(page)
    shell: list[str] = page.evaluate(
        """async () => {
            const name = (await caches.keys()).find((n) => n.startsWith("cidery-shell-"));
            const cache = await caches.open(name);
            return (await cache.keys()).map((r) => new URL(r.url).pathname);
        }"""
    )
    assert {"/static/site.css", "/static/js/main.js", "/static/js/outbox.js"} <= set(shell)
    assert not [path for path in shell if path.startswith("/api/")]

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    assert not [path for path in kept_pages(page) if path.startswith("/pressing")]

    # With no connection, the run's page is no longer there to show.
    go_offline(page)
    page.goto(f"/pressing/runs/{run_id}")
    expect(page.get_by_role("heading", name="Offline")).to_be_visible()
    expect(page.get_by_role("heading", name="Press run")).to_have_count(0)
    expect(page.get_by_label("Weight")).to_have_count(0)


def test_the_service_worker_is_served_from_the_root_with_its_version(
    client: TestClient,  # noqa: F811
) -> None:
    answer = client.get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["cache-control"] == "no-cache"
    source = answer.text
    assert "__VERSION__" not in source
    assert "__SHELL__" not in source
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', source)
    assert version is not None
    shell = {f"/static/{p.relative_to(STATIC).as_posix()}" for p in shell_files()}
    assert {"/static/site.css", "/static/js/main.js", "/static/js/queue.js"} <= shell
    for url in shell:
        assert f'"{url}"' in source
        assert client.get(url).status_code == 200


def test_a_changed_shell_file_gives_the_worker_a_new_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "site.css").write_text("body {}")
    (static / "js" / "main.js").write_text("export {};")
    monkeypatch.setattr(routes, "STATIC", static)

    def version() -> str:
        found = re.search(r'const VERSION = "(\w+)";', routes.service_worker_source())
        assert found is not None
        return found.group(1)

    first = version()
    assert version() == first
    (static / "js" / "main.js").write_text("export const changed = true;")
    assert version() != first
