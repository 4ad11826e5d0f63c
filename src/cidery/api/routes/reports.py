"""Yields and juice lots' costs for the owner, and the audit log for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cidery import catalog, press
from cidery.api.security import Call, allow
from cidery.press.access import Action
from cidery.press.schemas import PressRunSummary, YieldBand

router = APIRouter(tags=["reports"])


@router.get("/reports/yield", response_model=list[catalog.YieldRow])
async def yield_report(
    query: Annotated[catalog.YieldQuery, Query()], call: Call = allow(Action.READ)
) -> list[catalog.YieldRow]:
    """Kg pressed, litres and L/kg of completed runs, by variety or by grower, over a
    season (the calendar year, UTC, the runs ended in) or a range."""
    return await call.run(lambda call: catalog.yield_report(call.session, call.actor, query))


@router.get("/reports/lots", response_model=list[catalog.LotCostRow])
async def lot_costs(
    query: Annotated[catalog.LotQuery, Query()], call: Call = allow(Action.READ)
) -> list[catalog.LotCostRow]:
    """Juice lots, oldest first, with their run, grower, litres and cost per litre; a lot
    whose cost is not fully known has ``complete`` false and the unknown amounts null."""
    return await call.run(lambda call: catalog.lot_costs(call.session, call.actor, query))


@router.get("/reports/yield-outliers", response_model=list[PressRunSummary])
async def yield_outliers(
    query: Annotated[YieldBand | None, Query()] = None, call: Call = allow(Action.READ)
) -> list[PressRunSummary]:
    """Completed runs whose yield is outside the usual band (or ``low``..``high``)."""
    return await call.run(lambda call: press.yield_outliers(call.session, call.actor, query))


@router.get("/audit-logs", response_model=catalog.AuditPage)
async def audit_logs(
    query: Annotated[catalog.AuditQuery, Query()], call: Call = allow(Action.READ_AUDIT)
) -> catalog.AuditPage:
    """Changes, newest first; ``table`` and ``record_id`` narrow them to one record."""
    return await call.run(lambda call: catalog.list_audit_logs(call.session, call.actor, query))
