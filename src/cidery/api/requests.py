"""Every request: an id (``X-Request-ID``), one structured log line, no leaked error.

A pure ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``, which costs
a task and a queue per request. It is the outermost layer the app adds, so it also
turns an exception that escaped everything else into a problem answer that carries
the request id, and logs it with its traceback (which never reaches the client).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cidery.api.problems import problem

access_log = logging.getLogger("cidery.api.access")
log = logging.getLogger("cidery.api")

HEADER = "X-Request-ID"
# No request of this API needs more than a few kilobytes; a bigger body is refused
# before it is read into memory.
MAX_BODY_BYTES = 64 * 1024
# A client's own id is kept if it is short and plain (it is logged and echoed).
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyTooLarge(Exception):
    pass


async def _buffered(receive: Receive) -> Receive:
    """The whole body read first (chunked too), refused once over the limit, then
    handed to the app as one message; later calls (a disconnect) go to the server."""
    chunks: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            first = message
            break
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            first = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            break
    pending: list[Message] = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _CLIENT_ID.fullmatch(text) else None
    return None


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        declared = _declared_length(scope)
        try:
            if declared is not None and declared > MAX_BODY_BYTES:
                raise BodyTooLarge
            await self.app(scope, await _buffered(receive), send_with_id)
        except Exception as exc:
            too_large = isinstance(exc, BodyTooLarge)
            if not too_large:
                log.error("unexpected error (request %s)", request_id, exc_info=exc)
            if response_started:
                raise
            if too_large:
                code = "payload_too_large"
                detail = f"the request body is larger than {MAX_BODY_BYTES // 1024} kB"
            else:
                code = "internal_error"
                detail = f"something went wrong on the server; quote request id {request_id}"
            await problem(Request(scope), code, detail)(scope, receive, send_with_id)
        finally:
            _log(scope, status, time.perf_counter() - started, request_id)


def route_template(scope: Scope) -> str:
    """The matched route with its parameters named (``/api/v1/press-runs/{run_id}``).

    Logged instead of the path, so ids do not multiply log keys; rebuilt from the path
    because a route of an included router knows only its own part of the template.
    """
    if scope.get("route") is None:
        return "(no route)"
    names = {str(value): name for name, value in scope.get("path_params", {}).items()}
    return "/".join(
        f"{{{names[part]}}}" if part in names else part for part in scope["path"].split("/")
    )


def _log(scope: Scope, status: int, seconds: float, request_id: str) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    state: dict[str, Any] = scope.get("state", {})
    line = {
        "method": scope.get("method"),
        "route": route_template(scope),
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "user_id": state.get("user_id"),
        "request_id": request_id,
    }
    access_log.info(json.dumps(line, separators=(",", ":")))
