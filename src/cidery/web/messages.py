"""What the pages say when a save is refused, in words a person at the press reads.

A refusal with figures has a template here, filled from the error's ``details``; the
pages' scripts get the same templates (:func:`cidery.web.render.client_config`), so a
load refused through the JSON API reads exactly as one refused through a plain form.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from cidery.errors import CideryError

# code -> template over the error's details.
TEMPLATES: MappingProxyType[str, str] = MappingProxyType(
    {
        "insufficient_fruit": "Only {remaining_kg} kg left on this line",
        "vessel_too_small": "{vessel_name} holds {capacity_l} L; it would receive {juice_l} L",
        "vessel_unavailable": "{vessel_name} is {status_in_words}: choose an available vessel",
        "volumes_do_not_add_up": (
            "The vessels would receive {assigned_l} L but the run gave {juice_l} L: "
            "the volumes must add up to the juice"
        ),
        "csrf_failed": "This form is out of date or came from another site: reload the page",
        "not_authenticated": "Your session has ended: sign in again",
    }
)


def plain(value: object) -> str:
    """A stored amount without trailing zeros: ``120.500`` → ``120.5``, ``100`` → ``100``."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    text = format(number.normalize(), "f")
    return "0" if text == "-0" else text


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


# The service names fields as the API spells them; a page says what its form's labels say.
LABELS: MappingProxyType[str, str] = MappingProxyType(
    {
        "gross_weight": "gross",
        "tare_weight": "tare",
        "weight_unit": "weight unit",
        "purchase_item_id": "purchase line",
        "juice_volume_unit": "volume unit",
        "juice_volume": "juice volume",
        "vessel_id": "vessel",
        "pomace_weight": "pomace",
        "labor_hours": "labor hours",
        "worker_count": "workers",
        "weight_kg": "weight",
        "pressed_at": "time pressed",
    }
)
_FIELD_NAMES = re.compile(r"\b(" + "|".join(map(re.escape, LABELS)) + r")\b")


def in_labels(text: str) -> str:
    """``text`` with the API's field names written as the form's labels."""
    return _FIELD_NAMES.sub(lambda found: LABELS[found.group(1)], text)


def explain(error: CideryError) -> str:
    """The error as one sentence for the page."""
    code = getattr(error, "code", "")
    details: dict[str, Any] = getattr(error, "details", {}) or {}
    template = TEMPLATES.get(code)
    if template is not None:
        try:
            return template.format(**{key: plain(value) for key, value in details.items()})
        except (KeyError, IndexError):
            pass
    return sentence(in_labels(str(error)))


def field_errors(error: CideryError) -> dict[str, str]:
    """Invalid input's messages by field (the first per field)."""
    found: dict[str, str] = {}
    for item in getattr(error, "details", {}).get("errors") or []:
        found.setdefault(item["field"].split(".")[0], sentence(in_labels(item["message"])))
    return found
