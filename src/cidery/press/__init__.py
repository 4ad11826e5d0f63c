"""Pressing: the press-run workflow service.

``from cidery import press`` then, inside the caller's transaction,
``press.start_run(session, actor, press.PressRunCreate(vendor_id=...))``. Every
function takes the session, an :class:`Actor` (user id and role; permissions in
:mod:`cidery.press.access`) and a typed input from :mod:`cidery.press.schemas`
(or a mapping validated into it). Errors are in :mod:`cidery.press.errors`;
the statements the service runs, in :mod:`cidery.press.queries`.
"""

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
