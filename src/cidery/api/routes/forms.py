"""What the pressing forms offer: growers, fruit left, vessels, varieties."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cidery import catalog, press
from cidery.api.security import Call, allow
from cidery.press.access import Action
from cidery.press.schemas import AvailableFruit, FruitFilter

router = APIRouter(tags=["forms"])


@router.get("/vendors", response_model=list[catalog.VendorRead])
async def list_vendors(
    query: Annotated[catalog.VendorFilter, Query()], call: Call = allow(Action.READ)
) -> list[catalog.VendorRead]:
    """Growers (active by default), those with fruit left first; ``q`` searches names."""
    return await call.run(lambda call: catalog.list_vendors(call.session, call.actor, query))


@router.get("/available-fruit", response_model=list[AvailableFruit])
async def available_fruit(
    query: Annotated[FruitFilter, Query()], call: Call = allow(Action.READ)
) -> list[AvailableFruit]:
    """Purchase lines with fruit left to press, with the kg remaining."""
    return await call.run(lambda call: press.available_fruit(call.session, call.actor, query))


@router.get("/vessels", response_model=list[catalog.VesselRead])
async def list_vessels(
    query: Annotated[catalog.VesselFilter, Query()], call: Call = allow(Action.READ)
) -> list[catalog.VesselRead]:
    """Vessels, each saying whether it can receive juice (``available=true`` for those)."""
    return await call.run(lambda call: catalog.list_vessels(call.session, call.actor, query))


@router.get("/apple-varieties", response_model=list[catalog.VarietyRead])
async def list_varieties(call: Call = allow(Action.READ)) -> list[catalog.VarietyRead]:
    return await call.run(lambda call: catalog.list_varieties(call.session, call.actor))
