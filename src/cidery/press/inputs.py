"""What callers hand the service, checked before anything reaches PostgreSQL.

Each problem becomes one entry of :class:`~cidery.press.errors.InvalidInput`'s
``errors`` (field and message), and all of them are reported at once, so a form
can mark every wrong field in one round trip.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cidery.press.errors import InvalidInput

Model = TypeVar("Model", bound=BaseModel)
Id = uuid.UUID | str


def _field(location: tuple[int | str, ...], model: type[BaseModel]) -> str:
    return ".".join(str(part) for part in location) or model.__name__


def parse(model: type[Model], data: object) -> Model:
    """``data`` as ``model``: an instance as it is, a mapping validated field by field."""
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        raise InvalidInput.of(
            model.__name__, f"expected {model.__name__} or a mapping, got {type(data).__name__}"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            [{"field": _field(e["loc"], model), "message": e["msg"]} for e in exc.errors()]
        ) from None
    except RecursionError:
        raise InvalidInput.of(model.__name__, "nested too deeply") from None


def identifier(value: object, field: str) -> uuid.UUID:
    """An id from a UUID or its text form."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str) and len(value) <= 64:
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise InvalidInput.of(field, f"{str(value)[:64]!r} is not a valid id")


def optional_identifier(value: object, field: str) -> uuid.UUID | None:
    return None if value is None else identifier(value, field)


# --- the list cursor ----------------------------------------------------------------------


def encode_cursor(moment: datetime, id_: uuid.UUID) -> str:
    """The cursor after a row of a list in (time, id) order: a run's start time, an audit
    row's change time."""
    raw = json.dumps([moment.isoformat(), str(id_)]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(
    cursor: str, field: str = "after", returned_by: str = "list_runs"
) -> tuple[datetime, uuid.UUID]:
    """The (time, id) a cursor of :func:`encode_cursor` holds; anything else is refused,
    as ``field`` holding no cursor ``returned_by`` returns.

    A cursor comes back from a client: it may be any text at all.
    """
    refused = InvalidInput.of(field, f"not a cursor returned by {returned_by}")
    try:
        decoded: Any = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, binascii.Error, RecursionError):
        raise refused from None
    if not (
        isinstance(decoded, list)
        and len(decoded) == 2
        and all(isinstance(part, str) for part in decoded)
    ):
        raise refused
    try:
        moment, run_id = datetime.fromisoformat(decoded[0]), uuid.UUID(decoded[1])
    except ValueError:
        raise refused from None
    if moment.tzinfo is None:
        raise refused
    return moment, run_id
