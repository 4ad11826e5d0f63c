"""What Alembic compares between the models and a database, set in one place.

``cidery db generate`` (autogenerate, through ``env.py``) and ``cidery db check``
(:func:`differences`, part of the drift check) compare with the same options, so a
change ``generate`` would write is a difference ``check`` reports, and the other
way round. The tests that drive autogenerate themselves use them too.

Only autogenerate adds the enum label comparator (:func:`autogenerate_options`):
it renders the labels to add, while the drift check compares enum types on its
own, from the catalogs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, Final

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData

from cidery.migrations import bookkeeping
from cidery.migrations.authoring import enum_values

COMPARE_OPTIONS: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "compare_type": True,
        "compare_server_default": True,
        # The checksum table is bookkeeping, not a model: never "a table to drop".
        "include_name": bookkeeping.include_name,
    }
)


def autogenerate_options(metadata: MetaData) -> dict[str, Any]:
    """:data:`COMPARE_OPTIONS` against ``metadata``, with enum labels compared too
    (Alembic's own comparators do not)."""
    return {
        **COMPARE_OPTIONS,
        "target_metadata": metadata,
        "autogenerate_plugins": ["alembic.autogenerate.*", enum_values.PLUGIN],
    }


@contextmanager
def computed_columns_unwarned() -> Iterator[None]:
    """Alembic cannot compare generated-column expressions (PostgreSQL rewrites them)
    and warns on every comparison; that is not a difference, so it is not shown."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Computed default on")
        yield


def differences(connection: Connection) -> list[str]:
    """Every difference Alembic sees between the live schema and the models, one line each."""
    # env.py imports this module for every migration; only comparing needs the models.
    from cidery.models import Base

    context = MigrationContext.configure(connection, opts=dict(COMPARE_OPTIONS))
    with computed_columns_unwarned():
        found = compare_metadata(context, Base.metadata)
    return [_describe(diff) for diff in found]


def _describe(diff: Any) -> str:
    if isinstance(diff, list):  # column modifications come grouped
        return "; ".join(_describe(d) for d in diff)
    kind, *rest = diff
    if kind.startswith("modify_"):
        _schema, table, column, _info, old, new = rest
        return (
            f"{kind.removeprefix('modify_')} of {table}.{column}: database {old!r}, models {new!r}"
        )
    obj = rest[-1] if kind.endswith("column") else rest[0]
    where = f"{rest[1]}." if kind.endswith("column") else ""
    name = getattr(obj, "name", obj)
    return f"{kind.replace('_', ' ')}: {where}{name}"
