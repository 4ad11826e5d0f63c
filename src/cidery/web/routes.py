"""The pages: sign-in, the list of runs, starting, loading, completing and cancelling a run.

Each handler calls the services in the request's one transaction and answers with a
page, or with a redirect after a successful form (so a reload never posts twice). A
refused form is shown again with what was entered and the rule in words.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from cidery import accounts, catalog, press
from cidery.accounts.errors import SignInThrottled
from cidery.api.problems import STATUSES, ApiError
from cidery.api.security import (
    SESSION_COOKIE,
    SessionDep,
    check_origin,
    clear_session_cookie,
    set_session_cookie,
    sign_in_browser,
)
from cidery.errors import CideryError
from cidery.models.enums import PressRunStatus
from cidery.press.access import Action
from cidery.press.completion import checked_destinations, mass_balance_warning
from cidery.press.errors import InvalidInput, NotFound, PressError
from cidery.press.inputs import parse
from cidery.press.rules import YIELD_HIGH, YIELD_LOW, YIELD_WARNING
from cidery.press.schemas import PressRunComplete, PressRunDetail
from cidery.web.completion import CompleteForm
from cidery.web.guard import (
    PUBLIC_PAGE,
    FormFields,
    PageRefused,
    SignInFirst,
    Visit,
    signed_in,
    visitor,
)
from cidery.web.messages import explain, field_errors, plain, sentence
from cidery.web.render import render

STATIC = Path(__file__).parent / "static"
WORKER = Path(__file__).parent / "sw.js"
HOME = "/pressing"
SIGN_IN = "/sign-in"
RECENT_COMPLETED = 10

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Add the pages and their static files to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(SignInFirst, _sign_in_first)
    app.add_exception_handler(PageRefused, _refused_page)


def _sign_in_first(request: Request, exc: Exception) -> Response:
    return RedirectResponse(SIGN_IN, status_code=303)


def _refused_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageRefused)
    return render(request, "refused.html", status=exc.status, title="Not possible", message=exc)


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _status(error: CideryError) -> int:
    return STATUSES.get(getattr(error, "code", ""), (409, ""))[0]


def _run_url(run_id: uuid.UUID, rest: str = "") -> str:
    return f"{HOME}/runs/{run_id}{rest}"


# --- the service worker --------------------------------------------------------------------


def shell_files() -> list[Path]:
    """The app shell the service worker keeps: the stylesheet and every ES module."""
    return sorted([*STATIC.glob("*.css"), *STATIC.glob("js/*.js")])


def service_worker_source() -> str:
    """``sw.js`` with its version (a digest of itself and the shell: a deploy that changes
    either replaces the installed worker and its caches) and the shell's URLs."""
    digest = hashlib.sha256(WORKER.read_bytes())
    urls = []
    for path in shell_files():
        digest.update(path.read_bytes())
        urls.append("/static/" + path.relative_to(STATIC).as_posix())
    source = WORKER.read_text(encoding="utf-8")
    return source.replace("__VERSION__", digest.hexdigest()[:16]).replace(
        "__SHELL__", json.dumps(urls)
    )


_WORKER_SOURCE = service_worker_source()


@router.get("/sw.js")
def service_worker(_: None = PUBLIC_PAGE) -> Response:
    # Served from the root so its scope covers every page; never from the HTTP cache, so
    # the browser sees a new version at the next page it opens.
    return Response(
        _WORKER_SOURCE,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


# --- signing in and out --------------------------------------------------------------------


@router.get("/")
def home(_: None = PUBLIC_PAGE) -> RedirectResponse:
    return _see(HOME)


@router.get(SIGN_IN)
def sign_in_page(request: Request, session: SessionDep, _: None = PUBLIC_PAGE) -> Response:
    if signed_in(request, session) is not None:
        return _see(HOME)
    return render(request, "sign_in.html", title="Sign in", email="", message=None)


@router.post(SIGN_IN)
def sign_in(
    request: Request, session: SessionDep, form: FormFields, _: None = PUBLIC_PAGE
) -> Response:
    # Signing in from another site's page would sign the browser in as someone else.
    try:
        check_origin(request)
    except ApiError as refused:
        raise PageRefused(403, explain(refused)) from None
    email = form.get("email", "").strip()
    try:
        result = sign_in_browser(
            request, session, {"email": email, "password": form.get("password", "")}
        )
    except InvalidInput:
        result = accounts.SignInResult(refusal=InvalidInput.of("email", "enter an email address"))
    if result.refusal is not None:
        # The failure is kept (it counts towards the back-off): the transaction commits.
        status = 429 if isinstance(result.refusal, SignInThrottled) else 401
        message = explain(result.refusal)
        return render(
            request, "sign_in.html", status=status, title="Sign in", email=email, message=message
        )
    assert result.token is not None
    response = _see(HOME)
    set_session_cookie(request, response, result.token)
    return response


@router.post("/sign-out")
def sign_out(request: Request, visit: Visit = visitor(Action.READ)) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.sign_out(visit.session, cookie)
    response = _see(SIGN_IN)
    clear_session_cookie(response)
    return response


# --- the list of runs, and starting one ----------------------------------------------------


def is_outlier(rate: Decimal | None) -> bool:
    """Outside the usual yield band, as :func:`cidery.press.yield_outliers` judges it."""
    return rate is not None and not YIELD_LOW <= rate <= YIELD_HIGH


@router.get(HOME)
def pressing(visit: Visit = visitor(Action.READ)) -> HTMLResponse:
    runs = press.list_runs(visit.session, visit.actor, {"status": "in_progress", "limit": 200})
    done = press.list_runs(
        visit.session, visit.actor, {"status": "completed", "limit": RECENT_COMPLETED}
    )
    return render(
        visit.request,
        "pressing.html",
        title="Pressing",
        in_progress=runs.items,
        completed=done.items,
        is_outlier=is_outlier,
        cancelled=visit.request.query_params.get("cancelled") is not None,
        **visit.context,
    )


def _start_page(visit: Visit, status: int = 200, message: str | None = None) -> HTMLResponse:
    growers = catalog.list_vendors(visit.session, visit.actor)
    return render(
        visit.request,
        "start.html",
        status=status,
        title="Start press run",
        growers=growers,
        chosen=visit.value("vendor_id"),
        message=message,
        **visit.context,
    )


@router.get(f"{HOME}/start")
def start_page(visit: Visit = visitor(Action.START)) -> HTMLResponse:
    return _start_page(visit)


@router.post(f"{HOME}/start")
def start(visit: Visit = visitor(Action.START)) -> Response:
    if not visit.value("vendor_id"):
        return _start_page(visit, 422, "Choose a grower")
    try:
        run = press.start_run(visit.session, visit.actor, visit.given("vendor_id"))
    except PressError as refused:
        return _start_page(visit, _status(refused), explain(refused))
    return _see(_run_url(run.id))


# --- one run -------------------------------------------------------------------------------


def _detail(visit: Visit, run_id: uuid.UUID) -> PressRunDetail:
    try:
        return press.get_run(visit.session, visit.actor, run_id)
    except NotFound:
        raise PageRefused(404, "There is no such press run") from None


def _run_page(
    visit: Visit,
    run_id: uuid.UUID,
    *,
    status: int = 200,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    detail = _detail(visit, run_id)
    run = detail.run
    in_progress = run.status == PressRunStatus.IN_PROGRESS
    lines = []
    if in_progress and (visit.may(Action.ADD_LOAD) or visit.may(Action.WRITE_OFF)):
        lines = press.available_fruit(visit.session, visit.actor, {"vendor_id": run.vendor_id})
    vessel = None
    if run.vessel_id is not None:
        vessels = catalog.list_vessels(visit.session, visit.actor)
        vessel = next((v for v in vessels if v.id == run.vessel_id), None)
    completed = run.status == PressRunStatus.COMPLETED
    lots = press.run_lots(visit.session, visit.actor, run.id) if completed else []
    warnings = (
        [sentence(YIELD_WARNING.format(rate=run.extraction_rate))]
        if is_outlier(run.extraction_rate)
        else []
    )
    if completed and run.pomace_kg is not None and run.total_juice_volume_l is not None:
        balance = mass_balance_warning(
            run.total_apple_weight_kg, run.total_juice_volume_l, run.pomace_kg
        )
        warnings += [sentence(balance)] if balance else []
    query = visit.request.query_params
    return render(
        visit.request,
        "run.html",
        status=status,
        title=f"Press run: {detail.vendor_name}",
        detail=detail,
        run=run,
        grower=detail.vendor_name,
        varieties={v.apple_variety_id: v.variety_name for v in detail.varieties},
        lines=lines,
        vessel=vessel,
        in_progress=in_progress,
        saved=query.get("saved"),
        written_off=query.get("written_off") is not None,
        just_completed=query.get("completed") is not None,
        lots=lots,
        warnings=warnings,
        message=message,
        errors=errors or {},
        values=values or {"weight_unit": "lb"},
        **visit.context,
    )


@router.get(HOME + "/runs/{run_id}")
def run_page(run_id: uuid.UUID, visit: Visit = visitor(Action.READ)) -> HTMLResponse:
    return _run_page(visit, run_id)


# A load's weight is its net weight, or a weigh tag (gross and tare) instead.
WEIGHT_FIELDS = ("weight", "weight_unit", "gross_weight", "tare_weight")
LOAD_FIELDS = ("purchase_item_id", *WEIGHT_FIELDS, "brix", "ph", "notes")


@router.post(HOME + "/runs/{run_id}/loads")
def add_load(run_id: uuid.UUID, visit: Visit = visitor(Action.ADD_LOAD)) -> Response:
    try:
        load = press.add_load(visit.session, visit.actor, run_id, visit.given(*LOAD_FIELDS))
    except NotFound as missing:
        if missing.details.get("entity") == "press run":
            raise PageRefused(404, "There is no such press run") from None
        return _run_page(visit, run_id, status=404, message=explain(missing), values=visit.form)
    except PressError as refused:
        return _run_page(
            visit,
            run_id,
            status=_status(refused),
            message=explain(refused),
            errors=field_errors(refused),
            values=visit.form,
        )
    return _see(_run_url(run_id, f"?saved={load.load_sequence}#add-load"))


def _load_of(detail: PressRunDetail, load_id: uuid.UUID) -> Any:
    load = next((item for item in detail.loads if item.id == load_id), None)
    if load is None:
        raise PageRefused(404, "There is no such load on this run (voided already?)")
    return load


def _load_page(
    visit: Visit,
    run_id: uuid.UUID,
    load_id: uuid.UUID,
    template: str,
    *,
    status: int = 200,
    message: str | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    detail = _detail(visit, run_id)
    load = _load_of(detail, load_id)
    lines = press.available_fruit(visit.session, visit.actor, {"vendor_id": detail.run.vendor_id})
    # A load weighed with a tag is shown by its tag: correcting it keeps or changes the
    # tag; a weight entered instead (the tag's fields emptied) drops it.
    tagged = load.gross_weight is not None
    values = visit.form or {
        "purchase_item_id": str(load.purchase_item_id),
        "weight": "" if tagged else plain(load.weight),
        "gross_weight": plain(load.gross_weight) if tagged else "",
        "tare_weight": plain(load.tare_weight) if tagged else "",
        "weight_unit": load.weight_unit.value,
        "brix": "" if load.brix is None else str(load.brix),
        "ph": "" if load.ph is None else str(load.ph),
        "notes": load.notes or "",
    }
    return render(
        visit.request,
        template,
        status=status,
        title=f"Load {load.load_sequence}",
        run=detail.run,
        load=load,
        variety=next(
            (
                v.variety_name
                for v in detail.varieties
                if v.apple_variety_id == load.apple_variety_id
            ),
            "",
        ),
        lines=lines,
        values=values,
        message=message,
        errors=errors or {},
        **visit.context,
    )


@router.get(HOME + "/runs/{run_id}/loads/{load_id}/void")
def void_page(
    run_id: uuid.UUID, load_id: uuid.UUID, visit: Visit = visitor(Action.VOID_LOAD)
) -> HTMLResponse:
    return _load_page(visit, run_id, load_id, "void.html")


@router.post(HOME + "/runs/{run_id}/loads/{load_id}/void")
def void_load(
    run_id: uuid.UUID, load_id: uuid.UUID, visit: Visit = visitor(Action.VOID_LOAD)
) -> Response:
    try:
        press.void_load(
            visit.session, visit.actor, load_id, {"reason": visit.value("reason")}, run_id=run_id
        )
    except PressError as refused:
        errors = field_errors(refused)
        message = "Give the reason" if "reason" in errors else explain(refused)
        return _load_page(
            visit, run_id, load_id, "void.html", status=_status(refused), message=message
        )
    return _see(_run_url(run_id, "#loads"))


@router.get(HOME + "/runs/{run_id}/loads/{load_id}/edit")
def edit_page(
    run_id: uuid.UUID, load_id: uuid.UUID, visit: Visit = visitor(Action.CORRECT_LOAD)
) -> HTMLResponse:
    return _load_page(visit, run_id, load_id, "edit.html")


@router.post(HOME + "/runs/{run_id}/loads/{load_id}/edit")
def correct_load(
    run_id: uuid.UUID, load_id: uuid.UUID, visit: Visit = visitor(Action.CORRECT_LOAD)
) -> Response:
    # Every field is sent: an emptied Brix, pH or note is cleared; what did not change
    # is not written (the service compares).
    correction: dict[str, Any] = {
        name: visit.value(name) or None for name in ("brix", "ph", "notes")
    }
    correction.update(visit.given("purchase_item_id", *WEIGHT_FIELDS, "reason"))
    try:
        press.correct_load(visit.session, visit.actor, load_id, correction, run_id=run_id)
    except PressError as refused:
        return _load_page(
            visit,
            run_id,
            load_id,
            "edit.html",
            status=_status(refused),
            message=explain(refused),
            errors=field_errors(refused),
        )
    return _see(_run_url(run_id, "#loads"))


# --- writing off the rest of a line --------------------------------------------------------


def _write_off_page(
    visit: Visit,
    run_id: uuid.UUID,
    item_id: uuid.UUID,
    *,
    status: int = 200,
    message: str | None = None,
) -> HTMLResponse:
    detail = _detail(visit, run_id)
    lines = press.available_fruit(visit.session, visit.actor, {"vendor_id": detail.run.vendor_id})
    line = next((line for line in lines if line.purchase_item_id == item_id), None)
    if line is None:
        raise PageRefused(404, "This purchase line has no fruit left")
    return render(
        visit.request,
        "write_off.html",
        status=status,
        title="Write off the rest",
        run=detail.run,
        line=line,
        message=message,
        **visit.context,
    )


@router.get(HOME + "/runs/{run_id}/lines/{item_id}/write-off")
def write_off_page(
    run_id: uuid.UUID, item_id: uuid.UUID, visit: Visit = visitor(Action.WRITE_OFF)
) -> HTMLResponse:
    return _write_off_page(visit, run_id, item_id)


@router.post(HOME + "/runs/{run_id}/lines/{item_id}/write-off")
def write_off(
    run_id: uuid.UUID, item_id: uuid.UUID, visit: Visit = visitor(Action.WRITE_OFF)
) -> Response:
    try:
        press.write_off_line(visit.session, visit.actor, item_id, {"reason": visit.value("reason")})
    except PressError as refused:
        message = "Give the reason" if "reason" in field_errors(refused) else explain(refused)
        return _write_off_page(visit, run_id, item_id, status=_status(refused), message=message)
    return _see(_run_url(run_id, "?written_off=1#fruit-left"))


# --- completing and cancelling -------------------------------------------------------------


def _complete_page(
    visit: Visit,
    run_id: uuid.UUID,
    form: CompleteForm,
    *,
    status: int = 200,
    review: bool = False,
    message: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    detail = _detail(visit, run_id)
    if detail.run.status != PressRunStatus.IN_PROGRESS:
        return _see(_run_url(detail.run.id))
    vessels = catalog.list_vessels(visit.session, visit.actor, {"available": True})
    names = {str(vessel.id): vessel.name for vessel in vessels}
    litres: Decimal | None = None
    shares: list[tuple[str, Decimal]] = []
    if review:
        wanted = parse(PressRunComplete, form.data())
        litres = wanted.juice_volume_l
        shares = [(names.get(str(v), ""), share) for v, share in checked_destinations(wanted)]
    rate = None
    if litres is not None and detail.total_weight_kg > 0:
        rate = (litres / detail.total_weight_kg).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return render(
        visit.request,
        "complete.html",
        status=status,
        title="Complete run",
        detail=detail,
        run=detail.run,
        grower=detail.vendor_name,
        vessels=vessels,
        form=form,
        values=form.values,
        shares=shares,
        review=review,
        litres=litres,
        rate=rate,
        warning=sentence(YIELD_WARNING.format(rate=rate)) if is_outlier(rate) else None,
        message=message,
        errors=errors or {},
        **visit.context,
    )


@router.get(HOME + "/runs/{run_id}/complete")
def complete_page(run_id: uuid.UUID, visit: Visit = visitor(Action.COMPLETE)) -> Response:
    return _complete_page(visit, run_id, CompleteForm.read({}))


def _removed_row(visit: Visit) -> int | None:
    try:
        return int(visit.value("remove"))
    except ValueError:
        return None


@router.post(HOME + "/runs/{run_id}/complete")
def complete(run_id: uuid.UUID, visit: Visit = visitor(Action.COMPLETE)) -> Response:
    """The form, then a confirmation step (``step=confirm`` completes; ``change`` goes back;
    ``add`` and ``remove`` give the form a vessel more or fewer)."""
    step = visit.value("step")
    form = CompleteForm.read(visit.form, add=step == "add", remove=_removed_row(visit))
    if step in ("change", "add") or visit.value("remove"):
        return _complete_page(visit, run_id, form)
    try:
        if step != "confirm":
            # Checked before the confirmation step, the litres adding up included.
            return _complete_page(visit, run_id, form, review=True)
        rate = visit.request.app.state.settings.labor_rate  # CIDERY_LABOR_RATE, as the API's
        press.complete_run(visit.session, visit.actor, run_id, form.data(), labor_rate=rate)
    except PressError as refused:
        return _complete_page(
            visit,
            run_id,
            form,
            status=_status(refused),
            message=explain(refused),
            errors=field_errors(refused),
        )
    return _see(_run_url(run_id, "?completed=1"))


@router.get(HOME + "/runs/{run_id}/cancel")
def cancel_page(run_id: uuid.UUID, visit: Visit = visitor(Action.CANCEL)) -> Response:
    detail = _detail(visit, run_id)
    return render(
        visit.request,
        "cancel.html",
        title="Cancel run",
        run=detail.run,
        message=None,
        **visit.context,
    )


@router.post(HOME + "/runs/{run_id}/cancel")
def cancel(run_id: uuid.UUID, visit: Visit = visitor(Action.CANCEL)) -> Response:
    try:
        press.cancel_run(visit.session, visit.actor, run_id, {"reason": visit.value("reason")})
    except PressError as refused:
        detail = _detail(visit, run_id)
        message = "Give the reason" if "reason" in field_errors(refused) else explain(refused)
        return render(
            visit.request,
            "cancel.html",
            status=_status(refused),
            title="Cancel run",
            run=detail.run,
            message=message,
            **visit.context,
        )
    return _see(f"{HOME}?cancelled=1")
