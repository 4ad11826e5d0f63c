"""The pressing pages in a real browser, as an operator at the press uses them."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, text

from cidery.db.engine import transaction
from cidery.models.enums import UserRole
from cidery.press import get_run
from cidery.press.access import Actor
from tests.api.conftest import Account, Fruit, make_fruit
from tests.web.conftest import new_page
from tests.web.pages import check_page, sign_in


def start_run(page: Page, fruit: Fruit, *, axe: bool = True) -> str:
    page.get_by_role("link", name="Start press run").click()
    expect(page.get_by_role("heading", name="Start press run")).to_be_visible()
    check_page(page, axe=axe)
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


def test_a_load_more_than_the_line_has_is_refused_inline_and_saves_nothing(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = start_run(page, fruit)
    add_load(page, "1200.5", "kg")
    expect(page.get_by_role("alert")).to_have_text("Only 1000 kg left on this line")
    expect(page.get_by_label("Weight")).to_have_value("1200.5")
    expect(page.locator("#total-loads")).to_have_text("0")
    check_page(page)
    with transaction(api_engine) as session:
        assert get_run(session, Actor.system(), run_id).load_count == 0


def test_an_operator_voids_and_edits_loads_then_completes_with_confirmation(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = start_run(page, fruit)
    add_load(page, "400")
    expect(page.get_by_text("Load 1 saved.")).to_be_visible()
    add_load(page, "150", "kg")
    expect(page.get_by_text("Load 2 saved.")).to_be_visible()
    add_load(page, "100", "kg")
    expect(page.get_by_text("Load 3 saved.")).to_be_visible()

    page.get_by_role("link", name="Void load 3").click()
    expect(page.get_by_role("heading", name="Void load 3")).to_be_visible()
    check_page(page)
    page.get_by_label("Reason").fill("weighed twice")
    page.get_by_role("button", name="Void load").click()
    expect(page.locator("#total-loads")).to_have_text("2")

    page.get_by_role("link", name="Edit load 2").click()
    expect(page.get_by_role("heading", name="Edit load 2")).to_be_visible()
    check_page(page)
    page.get_by_label("Weight").fill("160")
    page.get_by_label("Brix").fill("12.5")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#total-kg")).to_have_text("341.437")  # 400 lb + 160 kg

    page.get_by_role("link", name="Complete run").click()
    expect(page.get_by_role("heading", name="Complete run")).to_be_visible()
    check_page(page)
    page.get_by_label("Juice volume").fill("60")
    page.get_by_role("radio", name="gal").check()
    expect(page.locator("#juice-converted")).to_have_text("= 227.12 L")
    expect(page.locator("#yield-preview")).to_have_text("Yield: 0.6652 L/kg")
    expect(page.locator("#yield-warning")).to_be_hidden()
    page.get_by_label("Vessel").select_option(str(fruit.vessel_id))
    page.get_by_label("Labor hours").fill("2.5")
    page.get_by_label("Workers").fill("3")
    page.get_by_role("button", name="Complete run").click()
    expect(page.get_by_role("heading", name="Check and confirm")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Run completed")).to_be_visible()
    expect(page.get_by_role("link", name="Start another run")).to_be_visible()
    check_page(page)
    with transaction(api_engine) as session:
        done = get_run(session, Actor.system(), run_id)
    assert done.run.status.value == "completed"
    assert (
        page.locator("#total-kg").inner_text() == f"{done.run.total_apple_weight_kg.normalize():f}"
    )
    assert page.locator("#total-loads").inner_text() == str(done.load_count)
    assert (
        page.locator("#total-litres")
        .inner_text()
        .startswith(f"{done.run.total_juice_volume_l.normalize():f} L")
    )
    assert done.run.worker_count == 3
    assert [load.brix for load in done.loads] == [None, Decimal("12.50")]

    page.get_by_role("link", name="All runs").click()
    completed = page.get_by_role("region", name="Recently completed")
    expect(completed.get_by_text("341.437").first).to_be_visible()


def test_a_low_yield_shows_the_guardrail_warning(
    page: Page, account: dict[UserRole, Account], fruit: Fruit
) -> None:
    sign_in(page, account[UserRole.OPERATOR].email)
    start_run(page, fruit)
    add_load(page, "100", "kg")
    expect(page.get_by_text("Load 1 saved.")).to_be_visible()
    page.get_by_role("link", name="Complete run").click()
    page.get_by_label("Juice volume").fill("20")
    expect(page.locator("#yield-warning")).to_have_text(
        "Yield 0.2 L/kg is outside the usual 0.40-0.85 L/kg: "
        "check the weights' units and the juice volume"
    )


def test_an_operator_cancels_a_run_with_a_reason(
    page: Page, account: dict[UserRole, Account], fruit: Fruit, api_engine: Engine
) -> None:
    sign_in(page, account[UserRole.OPERATOR].email)
    run_id = start_run(page, fruit)
    page.get_by_role("link", name="Cancel run").click()
    expect(page.get_by_role("heading", name="Cancel run")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Cancel run").click()  # no reason: the browser asks
    page.get_by_label("Reason").fill("press jammed")
    page.get_by_role("button", name="Cancel run").click()
    expect(page.get_by_text("Run cancelled.")).to_be_visible()
    with transaction(api_engine) as session:
        run = get_run(session, Actor.system(), run_id).run
    assert run.status.value == "cancelled"
    assert run.notes is not None
    assert "press jammed" in run.notes


def test_wrong_credentials_show_the_message(page: Page, account: dict[UserRole, Account]) -> None:
    page.goto("/pressing")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.get_by_label("Email").fill(account[UserRole.OPERATOR].email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("The email or the password is wrong")
    check_page(page)


def test_a_viewer_sees_every_run_read_only(
    page: Page, browser: Browser, base_url: str, account: dict[UserRole, Account], fruit: Fruit
) -> None:
    operator = new_page(browser, base_url)
    try:
        sign_in(operator, account[UserRole.OPERATOR].email)
        start_run(operator, fruit)
        add_load(operator, "500")
        expect(operator.get_by_text("Load 1 saved.")).to_be_visible()
        run_url = operator.url
    finally:
        operator.context.close()

    sign_in(page, account[UserRole.VIEWER].email)
    writable = "form:not(.sign-out), button:not(.sign-out button)"
    expect(page.locator(writable)).to_have_count(0)
    expect(page.get_by_role("link", name="Start press run")).to_have_count(0)
    check_page(page)
    page.goto(run_url)
    expect(page.locator(writable)).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("^(Void|Edit|Complete|Cancel)"))).to_have_count(
        0
    )
    check_page(page)
    page.goto("/pressing/start")
    expect(page.get_by_role("alert")).to_contain_text("A viewer may not start a press run")


def test_the_grower_list_narrows_as_the_operator_types(
    page: Page, account: dict[UserRole, Account], api_engine: Engine
) -> None:
    first, second = make_fruit(api_engine), make_fruit(api_engine)
    with transaction(api_engine) as session:
        names = dict(
            session.execute(
                text("SELECT id, name FROM vendors WHERE id IN (:a, :b)"),
                {"a": first.vendor_id, "b": second.vendor_id},
            ).all()
        )
    sign_in(page, account[UserRole.OPERATOR].email)
    page.get_by_role("link", name="Start press run").click()
    search = page.get_by_label("Search by name")
    expect(search).to_be_visible()
    check_page(page)

    search.fill(names[second.vendor_id])

    shown = page.locator("#vendor_id option:not([hidden])").evaluate_all(
        "options => options.map(o => o.value).filter(v => v)"
    )
    assert shown == [str(second.vendor_id)]
    expect(page.get_by_label("Grower")).to_have_value(str(second.vendor_id))
    search.fill("")
    shown = page.locator("#vendor_id option:not([hidden])").evaluate_all(
        "options => options.map(o => o.value)"
    )
    assert str(first.vendor_id) in shown
    assert str(second.vendor_id) in shown
