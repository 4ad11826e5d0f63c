"""The two apps the API benchmark serves, as uvicorn builds them in each worker.

``uvicorn --factory benchmarks.api_server:full`` serves :func:`cidery.api.app.create_app`
as ``cidery serve`` does (its access log on: one structured line per request);
``benchmarks.api_server:minimal`` serves :class:`MinimalApp`, a raw ASGI callable
that answers the pressing screen's three calls by calling the same service
functions over an engine made the same way, with nothing around them: no
framework, no authentication, no idempotency, no request log. The difference
between the two is what the framework, the authentication and the idempotency
keys cost.

Both read their settings from the environment the benchmark starts them with
(:data:`ENV_URL`, :data:`ENV_POOL`, and :data:`ENV_ACTOR` for the minimal app,
which acts for that one user whatever the request says).
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Receive, Scope, Send

from cidery import press
from cidery.api.app import PREFIX, create_app
from cidery.api.settings import ApiSettings
from cidery.db.engine import make_engine, session_factory
from cidery.errors import CideryError
from cidery.models.enums import UserRole
from cidery.press.schemas import AvailableFruit, PressRunLoadRead

ENV_URL = "CIDERY_BENCH_API_DATABASE_URL"
ENV_POOL = "CIDERY_BENCH_API_POOL_SIZE"
ENV_ACTOR = "CIDERY_BENCH_API_ACTOR"
DEFAULT_POOL = 10

log = logging.getLogger(__name__)


def _pool_size() -> int:
    return int(os.environ.get(ENV_POOL, DEFAULT_POOL))


def full() -> FastAPI:
    """The app as ``cidery serve`` serves it, with its request log."""
    from cidery.cli import logs

    logs.configure(logging.INFO)
    return create_app(ApiSettings(database_url=os.environ[ENV_URL], pool_size=_pool_size()))


def minimal() -> MinimalApp:
    return MinimalApp(os.environ[ENV_URL], uuid.UUID(os.environ[ENV_ACTOR]), _pool_size())


_UUID = "[0-9a-fA-F-]{36}"
_RUN = re.compile(rf"^{PREFIX}/press-runs/({_UUID})$")
_LOADS = re.compile(rf"^{PREFIX}/press-runs/({_UUID})/loads$")
_FRUIT = f"{PREFIX}/available-fruit"
_FRUIT_LIST: TypeAdapter[list[AvailableFruit]] = TypeAdapter(list[AvailableFruit])
_LOAD: TypeAdapter[PressRunLoadRead] = TypeAdapter(PressRunLoadRead)
_JSON = [(b"content-type", b"application/json")]

Answer = tuple[int, bytes]


class MinimalApp:
    """``GET /api/v1/press-runs/{id}``, ``GET /api/v1/available-fruit?vendor_id=`` and
    ``POST /api/v1/press-runs/{id}/loads`` (and ``GET /healthz``) as bare ASGI.

    Each call runs in a worker thread (anyio's, as FastAPI runs its sync handlers),
    in a session of its own committed before the answer is sent, as the full app's
    requests are; the answer is the service's model as JSON. A refusal of the
    service is a 422, anything else a 500: the benchmark counts both as errors.
    """

    def __init__(self, url: str, actor: uuid.UUID, pool_size: int = DEFAULT_POOL) -> None:
        self.url = url
        self.pool_size = pool_size
        self.actor = press.Actor(user_id=actor, role=UserRole.OPERATOR)
        self.engine: Engine | None = None
        self.sessions: sessionmaker[Session] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status, payload = await anyio.to_thread.run_sync(
            self.answer, scope["method"], scope["path"], scope["query_string"], body
        )
        headers = [*_JSON, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start(self) -> None:
        # The pool as create_app makes it: pool_size, and as many again of overflow.
        self.engine = make_engine(self.url, pool_size=self.pool_size, max_overflow=self.pool_size)
        self.sessions = session_factory(self.engine)
        # Connect once: the dialect learns the server's defaults on its first connection,
        # and press.get_run reads one of them (default_isolation_level) before it ever
        # connects, which fails on an engine that never has. In the full app the token
        # check always connects first.
        with self.engine.connect():
            pass

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def answer(self, method: str, path: str, query: bytes, body: bytes) -> Answer:
        """The status and JSON body of one request (run in a worker thread)."""
        try:
            if method == "GET" and path == "/healthz":
                return 200, b'{"status":"ok"}'
            if method == "GET" and path == _FRUIT:
                wanted = dict(parse_qsl(query.decode()))
                fruit = self._call(lambda s: press.available_fruit(s, self.actor, wanted))
                return 200, _FRUIT_LIST.dump_json(fruit)
            found = _RUN.match(path)
            if method == "GET" and found:
                run_id = found.group(1)
                return 200, self._call(
                    lambda s: press.get_run(s, self.actor, run_id)
                ).model_dump_json().encode()
            found = _LOADS.match(path)
            if method == "POST" and found:
                run_id, load = found.group(1), json.loads(body)
                return 201, _LOAD.dump_json(
                    self._call(lambda s: press.add_load(s, self.actor, run_id, load))
                )
            return 404, b'{"detail":"not found"}'
        except CideryError as exc:
            return 422, json.dumps({"detail": str(exc)}).encode()
        except Exception as exc:
            log.exception("unexpected error")
            return 500, json.dumps({"detail": f"{type(exc).__name__}: {exc}"}).encode()

    def _call(self, service: Callable[[Session], Any]) -> Any:
        """One service call in a session of its own, committed (as a request of the full
        app is) before its answer is sent."""
        assert self.sessions is not None, "the app is not started"
        with self.sessions() as session:
            result = service(session)
            session.commit()
        return result
