"""Juice lots: a lot with what is in it and its cost, the list of lots, and an admin's
recompute of a completed run's costs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from cidery import press
from cidery.api import idempotency
from cidery.api.idempotency import IdempotencyKey
from cidery.api.security import Call, allow
from cidery.press.access import Action
from cidery.press.schemas import CostRecompute, LotDetail, LotFilter, LotPage, RecomputedCosts

router = APIRouter(tags=["juice lots"])


@router.get("/batches/{batch_id}", response_model=LotDetail)
async def get_lot(batch_id: uuid.UUID, call: Call = allow(Action.READ)) -> LotDetail:
    """A juice lot: its varieties and growers in kg and litres (from the run's loads),
    its cost (null parts when unknown), its run and its cost items. 404 for a batch that
    is not a juice lot."""
    return await call.run(lambda call: press.get_lot(call.session, call.actor, batch_id))


@router.get("/lots", response_model=LotPage)
async def list_lots(
    query: Annotated[LotFilter, Query()], call: Call = allow(Action.READ)
) -> LotPage:
    """Juice lots newest first, a page at a time (``next_cursor`` → ``after``);
    ``incomplete=true`` for those whose cost is incomplete, ``season`` for one year."""
    return await call.run(lambda call: press.list_lots(call.session, call.actor, query))


@router.post("/press-runs/{run_id}/recompute-costs", response_model=RecomputedCosts)
async def recompute_costs(
    run_id: uuid.UUID,
    body: CostRecompute,
    key: IdempotencyKey = None,
    call: Call = allow(Action.RECOMPUTE_COSTS),
) -> object:
    """Cost a completed run's lots again from its lines' prices now (admins), with a
    reason, optionally at a new labor rate or hours; audited."""
    return await idempotency.save(
        call,
        key,
        body,
        lambda call: press.recompute_costs(call.session, call.actor, run_id, body),
    )
