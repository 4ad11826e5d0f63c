"""Press runs: start, list, read, add/void loads, complete (into juice lots), cancel."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from cidery import press
from cidery.api import idempotency
from cidery.api.idempotency import IdempotencyKey
from cidery.api.security import Call, allow
from cidery.press.access import Action
from cidery.press.schemas import (
    CompletedRun,
    LoadCorrection,
    LoadVoid,
    PressRunCancel,
    PressRunComplete,
    PressRunCreate,
    PressRunDetail,
    PressRunLoadCreate,
    PressRunLoadRead,
    PressRunRead,
    RunFilter,
)

router = APIRouter(prefix="/press-runs", tags=["press runs"])


@router.post("", status_code=201, response_model=PressRunRead)
async def start_run(
    body: PressRunCreate, key: IdempotencyKey = None, call: Call = allow(Action.START)
) -> object:
    """Start a press run for one grower's fruit."""
    return await idempotency.save(
        call, key, body, lambda call: press.start_run(call.session, call.actor, body), status=201
    )


@router.get("", response_model=press.schemas.RunPage)
async def list_runs(
    query: Annotated[RunFilter, Query()], call: Call = allow(Action.READ)
) -> press.schemas.RunPage:
    """Runs newest first, a page at a time (``next_cursor`` → ``after``)."""
    return await call.run(lambda call: press.list_runs(call.session, call.actor, query))


@router.get("/{run_id}", response_model=PressRunDetail)
async def get_run(run_id: uuid.UUID, call: Call = allow(Action.READ)) -> PressRunDetail:
    """A run with its live loads in order and its running totals."""
    return await call.run(lambda call: press.get_run(call.session, call.actor, run_id))


@router.post(
    "/{run_id}/loads",
    status_code=201,
    response_model=PressRunLoadRead,
    **idempotency.KEY_REQUIRED,
)
async def add_load(
    run_id: uuid.UUID,
    body: PressRunLoadCreate,
    key: IdempotencyKey = None,
    call: Call = allow(Action.ADD_LOAD),
) -> object:
    """Add a load (requires ``Idempotency-Key``: a retried save is saved once)."""
    return await idempotency.save(
        call,
        key,
        body,
        lambda call: press.add_load(call.session, call.actor, run_id, body),
        status=201,
        required=True,
    )


@router.patch("/{run_id}/loads/{load_id}", response_model=PressRunDetail)
async def correct_load(
    run_id: uuid.UUID,
    load_id: uuid.UUID,
    body: LoadCorrection,
    key: IdempotencyKey = None,
    call: Call = allow(Action.CORRECT_LOAD),
) -> object:
    """Correct a load while the run is in progress (only the fields sent change)."""
    return await idempotency.save(
        call,
        key,
        body,
        lambda call: press.correct_load(call.session, call.actor, load_id, body, run_id=run_id),
    )


@router.post("/{run_id}/loads/{load_id}/void", response_model=PressRunDetail)
async def void_load(
    run_id: uuid.UUID,
    load_id: uuid.UUID,
    body: LoadVoid,
    key: IdempotencyKey = None,
    call: Call = allow(Action.VOID_LOAD),
) -> object:
    """Void a load of an in-progress run, with the reason; returns the run."""
    return await idempotency.save(
        call,
        key,
        body,
        lambda call: press.void_load(call.session, call.actor, load_id, body, run_id=run_id),
    )


@router.post("/{run_id}/complete", response_model=CompletedRun, **idempotency.KEY_REQUIRED)
async def complete_run(
    run_id: uuid.UUID,
    body: PressRunComplete,
    key: IdempotencyKey = None,
    call: Call = allow(Action.COMPLETE),
) -> object:
    """Complete the run into one vessel (``vessel_id``) or several (``assignments``, each
    a juice lot; their litres add up to the juice), with its lots' composition and cost
    in the answer (requires ``Idempotency-Key``). Labor is costed at the body's
    ``labor_rate``, else the app's setting (``CIDERY_LABOR_RATE``)."""
    rate = call.request.app.state.settings.labor_rate
    return await idempotency.save(
        call,
        key,
        body,
        lambda call: press.complete_run(call.session, call.actor, run_id, body, labor_rate=rate),
        required=True,
    )


@router.post("/{run_id}/cancel", response_model=PressRunRead)
async def cancel_run(
    run_id: uuid.UUID,
    body: PressRunCancel,
    key: IdempotencyKey = None,
    call: Call = allow(Action.CANCEL),
) -> object:
    """Cancel the run, with the reason; its fruit becomes available again."""
    return await idempotency.save(
        call, key, body, lambda call: press.cancel_run(call.session, call.actor, run_id, body)
    )
