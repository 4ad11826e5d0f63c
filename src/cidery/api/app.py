"""The application factory: ``create_app(settings)``, served by uvicorn (``cidery serve``).

Nothing connects at import: the engine and the session factory are made in the
lifespan, when the server starts, from the settings given. Handlers are sync
functions (the services are synchronous), run by FastAPI in its thread pool;
each request is one transaction (:func:`cidery.api.security.database_session`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session, sessionmaker

from cidery.accounts import housekeeping
from cidery.api import openapi, problems
from cidery.api.requests import RequestContext
from cidery.api.routes import (
    auth,
    forms,
    health,
    lots,
    press_runs,
    purchase_lines,
    reports,
    users,
)
from cidery.api.settings import ApiSettings
from cidery.db.engine import make_engine, session_factory
from cidery.migrations.scripts import head
from cidery.web import install as install_pages

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
TITLE = "cidery"
VERSION = "1.0.0"


HOUSEKEEPING_EVERY_S = 3600.0


def _purge(sessions: sessionmaker[Session]) -> None:
    try:
        with sessions() as session, session.begin():
            purged = housekeeping.purge(session)
        log.info("expired rows purged: %s", purged)
    except Exception:  # the database away for a while: log it, try again next time
        log.exception("could not purge expired rows")


async def _housekeeping(sessions: sessionmaker[Session]) -> None:
    """Purge expired sessions and keys now and every hour, in a worker thread."""
    while True:
        await anyio.to_thread.run_sync(_purge, sessions)
        await asyncio.sleep(HOUSEKEEPING_EVERY_S)


def operation_id(route: APIRoute) -> str:
    """The OpenAPI operationId: the handler's name (``add_load``), unique across the app."""
    return route.name


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(
            settings.database_url,
            server_settings={
                "lock_timeout": settings.lock_timeout,
                "statement_timeout": settings.statement_timeout,
            },
            pool_size=settings.pool_size,
            max_overflow=settings.pool_size,
        )
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        cleaner = asyncio.create_task(_housekeeping(app.state.sessions))
        try:
            yield
        finally:
            cleaner.cancel()
            engine.dispose()

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        summary="The press-run workflow of a cidery: runs, loads, yields, users.",
        lifespan=lifespan,
        responses=problems.ERROR_RESPONSES,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.head_revision = head()
    api = APIRouter(prefix=PREFIX)
    for module in (auth, press_runs, lots, forms, purchase_lines, reports, users):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    install_pages(app)  # the pressing pages (cidery.web) and their /static files
    problems.install(app)
    openapi.install(app)
    app.add_middleware(RequestContext)
    return app


def openapi_text() -> str:
    """The app's OpenAPI document as committed (``openapi.json``), built without a database."""
    return openapi.render(create_app(ApiSettings(database_url=openapi.UNUSED_DATABASE_URL)))
