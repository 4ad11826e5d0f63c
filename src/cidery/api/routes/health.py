"""Probes for a process manager or load balancer."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from cidery.api.security import PUBLIC, Call, allow
from cidery.migrations.scripts import current_revision

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    revision: str | None = None
    expected_revision: str | None = None


@router.get("/healthz", response_model=Health)
async def healthz(call: Call = allow(PUBLIC)) -> Health:
    """The process is alive (says nothing of the database)."""
    return await call.run(lambda call: Health(status="ok"))


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(call: Call = allow(PUBLIC)) -> object:
    """The database answers and is at the revision this code expects; 503 otherwise."""
    head: str = call.request.app.state.head_revision

    def work(call: Call) -> object:
        try:
            revision = current_revision(call.session.connection())
        except DBAPIError:
            return JSONResponse(
                Health(status="database unreachable", expected_revision=head).model_dump(),
                status_code=503,
                headers={"Retry-After": "5"},
            )
        if revision != head:
            body = Health(status="database not migrated", revision=revision, expected_revision=head)
            return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "5"})
        return Health(status="ready", revision=revision, expected_revision=head)

    return await call.run(work)
