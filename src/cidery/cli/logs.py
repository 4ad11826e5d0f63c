"""Log lines on stderr: cidery's own loggers at the level asked for, others' warnings.

``cidery -v`` (or ``CIDERY_LOG=info``) shows what the library is doing;
``-vv`` (or ``CIDERY_LOG=debug``) more. By default only warnings appear.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from cidery.urls import mask_secrets

FORMAT = "%(levelname)s %(name)s: %(message)s"


class MaskingFormatter(logging.Formatter):
    """Formats a record, then hides every connection-string secret in it, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


class _CideryHandler(logging.StreamHandler[TextIO]):
    """Marks the handler this module installed, so configuring twice replaces it."""


def configure(level: int) -> None:
    """Send log records to stderr: ``cidery.*`` from ``level``, everything else from WARNING."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _CideryHandler)]:
        root.removeHandler(handler)
    handler = _CideryHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("cidery").setLevel(level)


def verbosity_level(verbose: int, configured: int) -> int:
    """The level for ``-v`` given ``verbose`` times, never quieter than ``configured``."""
    asked = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    return min(asked, configured)
