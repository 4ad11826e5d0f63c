"""The OpenAPI 3.1 document, as client generators read it (``openapi.json``, ``/docs``).

FastAPI derives the document from the routes; :func:`refine` adds what it cannot
say by itself:

* a problem answer is ``application/problem+json`` with the :class:`Problem`
  schema (FastAPI files a response's model under the route's own media type);
* the ``Idempotency-Key`` header has the format the app accepts, and is required
  where the route declares :data:`cidery.api.idempotency.KEY_REQUIRED`.

The document is committed as ``openapi.json`` at the repository root, written by
``cidery types openapi`` (``make openapi``); a test fails when it is out of date.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from cidery.api import idempotency, problems

JSON = "application/json"
# Not used: building the document connects to nothing (the lifespan never runs).
UNUSED_DATABASE_URL = "postgresql+psycopg://openapi@localhost/unused"


def install(app: FastAPI) -> None:
    """Serve the refined document (``/openapi.json``, ``/docs``) instead of FastAPI's own."""
    build = app.openapi

    def document() -> dict[str, Any]:
        # FastAPI's own builds once and keeps its answer in ``openapi_schema``, as this does.
        if app.openapi_schema is None:
            app.openapi_schema = refine(build())
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


def refine(document: dict[str, Any]) -> dict[str, Any]:
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            _problem_media_type(operation)
            _idempotency_key(operation)
    return document


def _problem_media_type(operation: dict[str, Any]) -> None:
    for response in operation.get("responses", {}).values():
        content = response.get("content", {})
        if problems.MEDIA_TYPE in content:
            schema = content.get(JSON) or content[problems.MEDIA_TYPE]
            response["content"] = {problems.MEDIA_TYPE: schema}


def _idempotency_key(operation: dict[str, Any]) -> None:
    required = bool(operation.pop(idempotency.REQUIRED_EXTENSION, False))
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"] == idempotency.HEADER:
            parameter["schema"] = dict(idempotency.KEY_SCHEMA)
            parameter["required"] = required
            if required:
                parameter["description"] = (
                    "Required: a new UUID per save; a retry with the same key and body is "
                    "answered from memory (Idempotent-Replayed: true)."
                )


def render(app: FastAPI) -> str:
    """The document as committed: pretty-printed, keys sorted, a final newline."""
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
