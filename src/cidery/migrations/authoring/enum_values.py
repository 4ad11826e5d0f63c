"""Autogenerate for enum labels, which Alembic itself does not compare.

``cidery db generate`` compares each enum type the models declare with the
type of that name in the database. New labels become

    op.execute("ALTER TYPE press_run_status ADD VALUE 'paused' AFTER 'cancelled'")

in the upgrade (plain SQL, unqualified, like ``ops.create_enum``). PostgreSQL
cannot drop or reorder a label, so a removal, a reordering — and the downgrade
of an addition — is rendered as a comment explaining what to write by hand,
followed by ``raise NotImplementedError``: the revision cannot run until its
author has written that step.

Creating and dropping whole enum types stays a manual step of the revision
(``ops.create_enum`` / ``ops.drop_enum``), as the README describes.

The comparator is an Alembic plugin (:data:`PLUGIN`), opted into by
``env.py``'s ``autogenerate_plugins``; an Alembic comparison that does not name
it (``cidery.migrations.comparison.differences``) is unaffected.

Why not the ``alembic-postgresql-enum`` package: it registers itself in
Alembic's global comparator registry on import, so every comparison in the
process — ``cidery db check`` included — changes once ``env.py`` has been
loaded; it renders ``op.add_enum_value(enum_schema='public', ...)`` (a
schema-qualified call into the package, where our revisions are plain SQL);
and it turns a removal into an automatic type swap that rewrites every
column under an ACCESS EXCLUSIVE lock, a step that deserves a human.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import renderers
from alembic.operations.ops import MigrateOperation, UpgradeOps
from alembic.runtime.plugins import Plugin
from alembic.util import PriorityDispatchResult
from sqlalchemy import Connection, MetaData, text

PLUGIN = "cidery.enum_values"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def labels(values: Iterable[str]) -> str:
    """``('a','b')``, as the messages show an enum's labels."""
    return "(" + ",".join(_literal(v) for v in values) + ")"


class EnumValuesOp(MigrateOperation):
    """Bring the labels of enum type ``name`` from ``database`` to ``models``."""

    def __init__(
        self,
        name: str,
        database: tuple[str, ...],
        models: tuple[str, ...],
        columns: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.database = database
        self.models = models
        self.columns = columns

    def reverse(self) -> EnumValuesOp:
        return EnumValuesOp(self.name, self.models, self.database, self.columns)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("enum_values", self.name, self.database, self.models)

    def additions(self) -> list[str] | None:
        """``ALTER TYPE ... ADD VALUE`` statements, or None when labels are removed or
        reordered (PostgreSQL cannot do that in place)."""
        current = list(self.database)
        kept = [value for value in self.models if value in current]
        if kept != current:
            return None
        statements = []
        for index, value in enumerate(self.models):
            if value in current:
                continue
            if index > 0:
                where = f" AFTER {_literal(self.models[index - 1])}"
            elif current:
                where = f" BEFORE {_literal(current[0])}"
            else:
                where = ""
            statements.append(f"ALTER TYPE {self.name} ADD VALUE {_literal(value)}{where}")
            current.insert(index, value)
        return statements


@renderers.dispatch_for(EnumValuesOp)
def _render(autogen_context: AutogenContext, op: EnumValuesOp) -> list[str]:
    prefix = autogen_context.opts.get("alembic_module_prefix", "op.")
    statements = op.additions()
    if statements is not None:
        return [f"{prefix}execute({statement!r})" for statement in statements]
    used_by = ", ".join(op.columns) or "no column of the models"
    return [
        f"# enum {op.name}: the database has {labels(op.database)}, "
        f"this revision wants {labels(op.models)}.",
        "# PostgreSQL cannot drop or reorder enum labels: write this step by hand, e.g.",
        f"# update rows holding a dropped label; CREATE TYPE {op.name}_new AS ENUM (...);",
        f"# for each column ({used_by}): drop its default, ALTER COLUMN ... TYPE",
        f"# {op.name}_new USING col::text::{op.name}_new, set the default again (CHECK",
        "# constraints and partial indexes naming the labels may need recreating too);",
        f"# DROP TYPE {op.name}; ALTER TYPE {op.name}_new RENAME TO {op.name}.",
        f"raise NotImplementedError({f'enum {op.name}: write the label change by hand'!r})",
    ]


def declared_enums(
    metadata: MetaData, schema: str | None
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Enum type name -> (labels, ``table.column`` using it) for the native enums of
    ``schema``'s tables (``None``: the default schema)."""
    found: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            kind = column.type
            kind = getattr(kind, "item_type", kind)  # ARRAY of an enum
            if not isinstance(kind, sa.Enum) or not kind.native_enum or not kind.name:
                continue
            if (kind.schema or table.schema) != schema:
                continue
            values, columns = found.get(kind.name, (tuple(kind.enums), ()))
            found[kind.name] = (values, (*columns, f"{table.name}.{column.name}"))
    return found


def defined_enums(connection: Connection, schema: str) -> dict[str, tuple[str, ...]]:
    """Enum type name -> labels in order, as the database has them in ``schema``."""
    rows = connection.execute(
        text(
            "SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) "
            "AS labels FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "JOIN pg_enum e ON e.enumtypid = t.oid WHERE n.nspname = :schema GROUP BY t.typname"
        ),
        {"schema": schema},
    )
    return {row.name: tuple(row.labels) for row in rows}


def compare_enum_values(
    autogen_context: AutogenContext, upgrade_ops: UpgradeOps, schemas: set[str | None]
) -> PriorityDispatchResult:
    connection = autogen_context.connection
    metadata = autogen_context.metadata
    if connection is None or metadata is None or connection.dialect.name != "postgresql":
        return PriorityDispatchResult.CONTINUE
    metadatas = [metadata] if isinstance(metadata, MetaData) else list(metadata)
    default_schema = connection.dialect.default_schema_name or "public"
    for schema in sorted(schemas, key=lambda s: s or ""):
        defined = defined_enums(connection, schema or default_schema)
        for md in metadatas:
            for name, (models, columns) in sorted(declared_enums(md, schema).items()):
                database = defined.get(name)
                if database is not None and database != models:
                    upgrade_ops.ops.append(EnumValuesOp(name, database, models, columns))
    return PriorityDispatchResult.CONTINUE


def setup(plugin: Plugin) -> None:
    plugin.add_autogenerate_comparator(compare_enum_values, "schema")


# Registered once per process, on first import (env.py imports this module).
Plugin.setup_plugin_from_module(sys.modules[__name__], PLUGIN)
