"""Purchase lines: where their fruit went (bought, pressed, written off, left), and
writing off what is left as waste."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from cidery import catalog, press
from cidery.api import idempotency
from cidery.api.idempotency import IdempotencyKey
from cidery.api.security import Call, allow
from cidery.press.access import Action
from cidery.press.schemas import FruitWriteOffCreate, FruitWriteOffRead

router = APIRouter(prefix="/purchase-lines", tags=["purchase lines"])


@router.get("", response_model=list[catalog.LineReconciliation])
async def fruit_reconciliation(
    query: Annotated[catalog.ReconciliationQuery, Query()], call: Call = allow(Action.READ)
) -> list[catalog.LineReconciliation]:
    """Purchase lines bought by weight with their kg bought, pressed, written off and left,
    and their write-offs with the reasons; ``vendor_id`` and ``season`` narrow them."""
    return await call.run(
        lambda call: catalog.fruit_reconciliation(call.session, call.actor, query)
    )


@router.post("/{item_id}/write-offs", status_code=201, response_model=FruitWriteOffRead)
async def write_off_line(
    item_id: uuid.UUID,
    body: FruitWriteOffCreate,
    key: IdempotencyKey = None,
    call: Call = allow(Action.WRITE_OFF),
) -> object:
    """Write off the fruit left on the line as waste (all of it, or ``weight_kg``), with
    the reason; it is no longer offered for pressing."""
    return await idempotency.save(
        call,
        key,
        body,
        lambda call: press.write_off_line(call.session, call.actor, item_id, body),
        status=201,
    )
