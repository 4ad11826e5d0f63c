"""Templates (Jinja2, autoescaped) and the figures the pages' scripts share with Python."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from cidery.enums import Unit, in_words
from cidery.press.rules import YIELD_HIGH, YIELD_LOW, YIELD_WARNING
from cidery.units import KG_PER_LB, L_PER_GALLON, from_canonical
from cidery.web.messages import LABELS, TEMPLATES, plain, sentence

_env = Environment(
    loader=PackageLoader("cidery.web", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(moment: datetime | None) -> str:
    """A time in the server's own time zone, as a person at the press reads it."""
    if moment is None:
        return ""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def day(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone().strftime("%Y-%m-%d")


def pounds(kg: Decimal) -> str:
    return plain(from_canonical(kg, Unit.LB, 1))


_env.filters.update(
    plain=plain, when=when, day=day, pounds=pounds, sentence=sentence, in_words=in_words
)


def client_config() -> dict[str, Any]:
    """What the scripts need, stated once in Python: the conversion factors of
    :mod:`cidery.units`, the yield guardrail and the refusal messages."""
    return {
        "units": {"kg_per_lb": str(KG_PER_LB), "l_per_gal": str(L_PER_GALLON)},
        "yield": {
            "low": str(YIELD_LOW),
            "high": str(YIELD_HIGH),
            "warning": sentence(YIELD_WARNING),
        },
        "messages": dict(TEMPLATES),
        "labels": dict(LABELS),
    }


_CONFIG = client_config()


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user", None)
    context.setdefault("csrf", None)
    context.setdefault("title", "cidery")
    html = _env.get_template(template).render(request=request, config=_CONFIG, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
