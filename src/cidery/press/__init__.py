"""Pressing: the press-run workflow service and the mobile app's named queries.

``from cidery import press`` then ``press.start_run(session, user_id, vendor_id)``;
errors are in :mod:`cidery.press.errors`.
"""

from cidery.press.service import (
    add_load,
    available_fruit,
    cancel_run,
    complete_run,
    get_run,
    list_runs,
    start_run,
    void_load,
    yield_outliers,
)

__all__ = [
    "add_load",
    "available_fruit",
    "cancel_run",
    "complete_run",
    "get_run",
    "list_runs",
    "start_run",
    "void_load",
    "yield_outliers",
]
