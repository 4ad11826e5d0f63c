"""Everything about changing the schema, shipped inside the package so an installed cidery
can migrate: the revisions and their SQL as files (:mod:`.scripts`), applying them to a
database (:mod:`.runner`), the checksum table (:mod:`.bookkeeping`), the checks behind
``cidery db check|lint|smoke`` (:mod:`.checks`), the helpers revisions use
(:mod:`.authoring`), the errors (:mod:`.errors`), Alembic's environment (``env.py``) and
the revisions with their reviewed SQL (``versions/``, ``sql/``).

Imports point one way: the CLI uses the runner, the scripts and the checks; the runner
and the checks use the scripts; everything may use :mod:`.authoring`, which uses nothing
of cidery but :mod:`cidery.config`.

Revisions 0001 and 0002 were written when the authoring helpers lived here as
``cidery.migrations.archive`` and ``cidery.migrations.ops``; a revision's file is
checksummed and never edited, so those names stay importable from this package.

Those two names are loaded on first use (PEP 562): importing Alembic for them would make
every ``cidery.migrations`` import, the command line's included, pay for it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cidery.migrations.authoring import archive, ops

__all__ = ["archive", "ops"]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        module = importlib.import_module(f"cidery.migrations.authoring.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
