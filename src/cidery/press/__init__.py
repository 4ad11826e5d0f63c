"""Pressing: the press-run workflow service.

``from cidery import press`` then, inside the caller's transaction,
``press.start_run(session, actor, press.PressRunCreate(vendor_id=...))``. Every
function takes the session, an :class:`Actor` (user id and role; permissions in
:mod:`cidery.press.access`) and a typed input from :mod:`cidery.press.schemas`
(or a mapping validated into it). Errors are in :mod:`cidery.press.errors`;
the statements the service runs, in :mod:`cidery.press.queries`.

The names below are loaded on first use (PEP 562): importing one module of the package
(``cidery db status`` prints the press summary of :mod:`cidery.press.report`) then does
not import the whole service and its Pydantic types.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cidery.press.access import Action, Actor
    from cidery.press.commands import (
        add_load,
        cancel_run,
        correct_load,
        start_run,
        void_load,
    )
    from cidery.press.completion import complete_run
    from cidery.press.lots import get_lot, list_lots, recompute_costs, run_lots
    from cidery.press.reads import available_fruit, get_run, list_runs, yield_outliers
    from cidery.press.schemas import (
        CostRecompute,
        FruitFilter,
        FruitWriteOffCreate,
        LoadCorrection,
        LoadVoid,
        LotFilter,
        PressRunCancel,
        PressRunComplete,
        PressRunCreate,
        PressRunLoadCreate,
        RunFilter,
        VesselAssignment,
        VolumeUnit,
        WeightUnit,
        YieldBand,
    )
    from cidery.press.writeoffs import write_off_line

__all__ = [
    "Action",
    "Actor",
    "CostRecompute",
    "FruitFilter",
    "FruitWriteOffCreate",
    "LoadCorrection",
    "LoadVoid",
    "LotFilter",
    "PressRunCancel",
    "PressRunComplete",
    "PressRunCreate",
    "PressRunLoadCreate",
    "RunFilter",
    "VesselAssignment",
    "VolumeUnit",
    "WeightUnit",
    "YieldBand",
    "add_load",
    "available_fruit",
    "cancel_run",
    "complete_run",
    "correct_load",
    "get_lot",
    "get_run",
    "list_lots",
    "list_runs",
    "recompute_costs",
    "run_lots",
    "start_run",
    "void_load",
    "write_off_line",
    "yield_outliers",
]


# The modules that define the names of __all__, searched in this order on first use.
_MODULES = ("access", "schemas", "reads", "commands", "completion", "lots", "writeoffs")


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for module in _MODULES:
        found = getattr(importlib.import_module(f"{__name__}.{module}"), name, None)
        if found is not None:
            globals()[name] = found
            return found
    raise AttributeError(f"module {__name__!r} found no module defining {name!r}")
