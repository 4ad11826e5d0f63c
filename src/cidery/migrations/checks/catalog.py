"""What a schema contains, read from the PostgreSQL catalogs.

:func:`schema_snapshot` turns one schema into plain, sorted data (dicts, lists,
strings, booleans) so two databases can be compared with ``==`` and their
differences listed with :func:`snapshot_differences`: a database built by the
migrations against one built another way, a schema before and after a
downgrade/upgrade round trip, or a live database against what it should be.

Definitions come from PostgreSQL's own deparsers (``format_type``,
``pg_get_constraintdef``, ``pg_get_indexdef``, ``pg_get_triggerdef``,
``pg_get_functiondef``), so two schemas compare equal exactly when the server
would print them the same way. Like ``\\d``, those functions qualify a name
only when it is not visible on the session's ``search_path``: compare
snapshots taken with the same ``search_path``.

Left out on purpose: the bookkeeping tables ``alembic_version`` and
``alembic_version_checksums`` (:mod:`cidery.migrations.bookkeeping`); objects that
belong to an extension (they come and go with ``CREATE EXTENSION``); internal
triggers (those that implement foreign keys); and the ``NOT NULL`` constraints
PostgreSQL 18 records in ``pg_constraint`` (nullability is a column property
here, so snapshots from PostgreSQL 14 to 18 have the same shape).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text

from cidery.migrations.applied import IGNORED_TABLES

CONSTRAINT_TYPES = {
    "c": "CHECK",
    "f": "FOREIGN KEY",
    "p": "PRIMARY KEY",
    "u": "UNIQUE",
    "x": "EXCLUDE",
    "t": "CONSTRAINT TRIGGER",
}

# An object created by an extension has a dependency of type 'e' on it.
_NOT_FROM_EXTENSION = """
    NOT EXISTS (
        SELECT 1 FROM pg_depend d
        WHERE d.classid = {catalog}::regclass AND d.objid = {oid} AND d.deptype = 'e'
    )
"""

_COLUMNS = text(
    """
    SELECT c.relname AS table_name,
           a.attname AS name,
           format_type(a.atttypid, a.atttypmod) AS type,
           NOT a.attnotnull AS nullable,
           pg_get_expr(ad.adbin, ad.adrelid) AS default,
           a.attidentity::text AS identity,
           a.attgenerated::text AS generated,
           co.collname AS collation
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
    LEFT JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_collation co
           ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
    WHERE n.nspname = :schema
      AND c.relkind IN ('r', 'p')
      AND NOT (c.relname = ANY(:ignored))
      AND """
    + _NOT_FROM_EXTENSION.format(catalog="'pg_class'", oid="c.oid")
    + """
    ORDER BY c.relname, a.attnum
    """
)

_CONSTRAINTS = text(
    """
    SELECT c.relname AS table_name,
           k.conname AS name,
           k.contype::text AS kind,
           pg_get_constraintdef(k.oid) AS definition
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema
      AND k.contype <> 'n'
      AND NOT (c.relname = ANY(:ignored))
      AND """
    + _NOT_FROM_EXTENSION.format(catalog="'pg_class'", oid="c.oid")
    + """
    ORDER BY c.relname, k.conname
    """
)

_INDEXES = text(
    """
    SELECT t.relname AS table_name,
           i.relname AS name,
           pg_get_indexdef(x.indexrelid) AS definition
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = :schema
      AND NOT (t.relname = ANY(:ignored))
      AND """
    + _NOT_FROM_EXTENSION.format(catalog="'pg_class'", oid="t.oid")
    + """
    ORDER BY i.relname
    """
)

_ENUMS = text(
    """
    SELECT t.typname AS name,
           array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
    FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    JOIN pg_enum e ON e.enumtypid = t.oid
    WHERE n.nspname = :schema
      AND """
    + _NOT_FROM_EXTENSION.format(catalog="'pg_type'", oid="t.oid")
    + """
    GROUP BY t.typname
    ORDER BY t.typname
    """
)

_DOMAINS = text(
    """
    SELECT t.typname AS name,
           format_type(t.typbasetype, t.typtypmod) AS type,
           NOT t.typnotnull AS nullable,
           t.typdefault AS default,
           k.conname AS constraint_name,
           pg_get_constraintdef(k.oid) AS definition
    FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    LEFT JOIN pg_constraint k ON k.contypid = t.oid AND k.contype = 'c'
    WHERE n.nspname = :schema
      AND t.typtype = 'd'
      AND """
    + _NOT_FROM_EXTENSION.format(catalog="'pg_type'", oid="t.oid")
    + """
    ORDER BY t.typname, k.conname
    """
)

_TRIGGERS = text(
    """
    SELECT c.relname AS table_name,
           g.tgname AS name,
           pg_get_triggerdef(g.oid) AS definition,
           g.tgenabled::text AS enabled
    FROM pg_trigger g
    JOIN pg_class c ON c.oid = g.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema
      AND NOT g.tgisinternal
      AND NOT (c.relname = ANY(:ignored))
      AND """
    + _NOT_FROM_EXTENSION.format(catalog="'pg_class'", oid="c.oid")
    + """
    ORDER BY c.relname, g.tgname
    """
)

# Aggregates have no CREATE FUNCTION form: pg_get_functiondef rejects them.
_FUNCTIONS = text(
    """
    SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS signature,
           pg_get_functiondef(p.oid) AS definition
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = :schema
      AND p.prokind <> 'a'
      AND """
    + _NOT_FROM_EXTENSION.format(catalog="'pg_proc'", oid="p.oid")
    + """
    ORDER BY 1
    """
)

_VIEWS = text(
    """
    SELECT c.relname AS name,
           CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END AS kind,
           pg_get_viewdef(c.oid) AS definition
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema
      AND c.relkind IN ('v', 'm')
      AND """
    + _NOT_FROM_EXTENSION.format(catalog="'pg_class'", oid="c.oid")
    + """
    ORDER BY c.relname
    """
)

_SEQUENCES = text(
    """
    SELECT c.relname AS name,
           format_type(s.seqtypid, NULL) AS type,
           s.seqstart::text AS start,
           s.seqincrement::text AS increment,
           s.seqmin::text AS min,
           s.seqmax::text AS max,
           s.seqcycle AS cycle,
           owner.relname || '.' || a.attname AS owned_by
    FROM pg_sequence s
    JOIN pg_class c ON c.oid = s.seqrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_depend d
           ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    LEFT JOIN pg_class owner ON owner.oid = d.refobjid
    LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE n.nspname = :schema
      AND """
    + _NOT_FROM_EXTENSION.format(catalog="'pg_class'", oid="c.oid")
    + """
    ORDER BY c.relname
    """
)

_EXTENSIONS = text(
    """
    SELECT e.extname AS name
    FROM pg_extension e
    JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE n.nspname = :schema
    ORDER BY e.extname
    """
)


Params = dict[str, Any]


def _tables(connection: Connection, params: Params) -> dict[str, dict[str, dict[str, Any]]]:
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for row in connection.execute(_COLUMNS, params).mappings():
        columns = tables.setdefault(row["table_name"], {})
        columns[row["name"]] = {
            # 1, 2, 3 ... whatever columns were dropped on the way.
            "position": len(columns) + 1,
            "type": row["type"],
            "nullable": row["nullable"],
            "default": row["default"],
            "identity": row["identity"] or None,
            "generated": row["generated"] or None,
            "collation": row["collation"],
        }
    return tables


def _constraints(connection: Connection, params: Params) -> dict[str, Any]:
    return {
        f"{row['table_name']}.{row['name']}": {
            "table": row["table_name"],
            "name": row["name"],
            "type": CONSTRAINT_TYPES.get(row["kind"], row["kind"]),
            "definition": row["definition"],
        }
        for row in connection.execute(_CONSTRAINTS, params).mappings()
    }


def _indexes(connection: Connection, params: Params) -> dict[str, Any]:
    return {
        row["name"]: {"table": row["table_name"], "definition": row["definition"]}
        for row in connection.execute(_INDEXES, params).mappings()
    }


def _enums(connection: Connection, params: Params) -> dict[str, Any]:
    return {
        row["name"]: list(row["labels"]) for row in connection.execute(_ENUMS, params).mappings()
    }


def _domains(connection: Connection, params: Params) -> dict[str, Any]:
    domains: dict[str, dict[str, Any]] = {}
    for row in connection.execute(_DOMAINS, params).mappings():
        domain = domains.setdefault(
            row["name"],
            {
                "type": row["type"],
                "nullable": row["nullable"],
                "default": row["default"],
                "constraints": {},
            },
        )
        if row["constraint_name"] is not None:
            domain["constraints"][row["constraint_name"]] = row["definition"]
    return domains


def _triggers(connection: Connection, params: Params) -> dict[str, Any]:
    return {
        f"{row['table_name']}.{row['name']}": {
            "table": row["table_name"],
            "name": row["name"],
            "definition": row["definition"],
            "enabled": row["enabled"],
        }
        for row in connection.execute(_TRIGGERS, params).mappings()
    }


def _functions(connection: Connection, params: Params) -> dict[str, Any]:
    return {
        row["signature"]: row["definition"]
        for row in connection.execute(_FUNCTIONS, params).mappings()
    }


def _views(connection: Connection, params: Params) -> dict[str, Any]:
    return {
        row["name"]: {"kind": row["kind"], "definition": row["definition"]}
        for row in connection.execute(_VIEWS, params).mappings()
    }


def _sequences(connection: Connection, params: Params) -> dict[str, Any]:
    return {
        row["name"]: {key: value for key, value in row.items() if key != "name"}
        for row in connection.execute(_SEQUENCES, params).mappings()
    }


def _extensions(connection: Connection, params: Params) -> list[str]:
    return list(connection.execute(_EXTENSIONS, params).scalars())


# Each part of a snapshot and how it is read, in the order the snapshot lists them.
_PARTS: dict[str, Callable[[Connection, Params], Any]] = {
    "tables": _tables,
    "constraints": _constraints,
    "indexes": _indexes,
    "enums": _enums,
    "domains": _domains,
    "triggers": _triggers,
    "functions": _functions,
    "views": _views,
    "sequences": _sequences,
    "extensions": _extensions,
}


def schema_snapshot(connection: Connection, schema: str = "public") -> dict[str, Any]:
    """Every object of ``schema`` as sorted, JSON-friendly data; equal schemas give equal dicts.

    Keys:

    * ``tables``: table -> column -> position (1, 2, ...), formatted type,
      nullability, default expression, identity, generation, collation;
    * ``constraints`` and ``triggers``: ``"table.name"`` -> table, name and
      definition (and a constraint's type);
    * ``indexes``: index name -> table and ``CREATE INDEX`` text;
    * ``enums``: type -> labels in order; ``domains``: type -> base type,
      nullability, default and CHECKs;
    * ``functions``: ``name(argument types)`` -> ``CREATE FUNCTION`` text;
    * ``views``, ``sequences``, and the names of ``extensions`` installed here.
    """
    params = {"schema": schema, "ignored": list(IGNORED_TABLES)}
    return {part: read(connection, params) for part, read in _PARTS.items()}


def is_empty(snapshot: dict[str, Any]) -> bool:
    """True when the snapshot holds no object at all (the bookkeeping tables aside)."""
    return not any(snapshot.values())


def snapshot_differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Every difference between two snapshots, one readable line each (empty when equal).

    Lines name the path to what differs, e.g. ``tables.vendors.name.nullable:
    expected False, found True`` or ``unexpected: indexes.vendors_note_idx``.
    """
    return _differences(expected, actual, "")


def _differences(expected: Any, actual: Any, path: str) -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        lines: list[str] = []
        for key in sorted(expected.keys() | actual.keys(), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                lines.append(f"missing: {where}")
            elif key not in expected:
                lines.append(f"unexpected: {where}")
            else:
                lines.extend(_differences(expected[key], actual[key], where))
        return lines
    if expected != actual:
        return [f"{path or '<snapshot>'}: expected {expected!r}, found {actual!r}"]
    return []


def unindexed_foreign_keys(connection: Connection, schema: str = "public") -> list[str]:
    """Foreign keys of ``schema`` that no index can serve, as ``"table.constraint"``.

    A foreign key is served when some valid, non-partial index on its table has
    exactly the key's columns (in any order) as its leading key columns: that
    index makes the lookups done on every parent DELETE or key UPDATE cheap.
    ``INCLUDE`` columns do not count; a partial index does not serve the
    lookups in general, so it does not count either.
    """
    rows = connection.execute(
        text(
            """
            SELECT c.relname || '.' || k.conname
            FROM pg_constraint k
            JOIN pg_class c ON c.oid = k.conrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE k.contype = 'f'
              AND n.nspname = :schema
              AND NOT EXISTS (
                  SELECT 1
                  FROM pg_index x
                  WHERE x.indrelid = k.conrelid
                    AND x.indisvalid
                    AND x.indpred IS NULL
                    AND x.indnkeyatts >= cardinality(k.conkey)
                    AND (string_to_array(x.indkey::text, ' ')::int2[])
                        [1:cardinality(k.conkey)] @> k.conkey
              )
            ORDER BY 1
            """
        ),
        {"schema": schema},
    )
    return list(rows.scalars())


def declarable_constraints(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot's constraints the models can declare: all but constraint triggers,
    which are triggers that revisions create (compared no more than other triggers)."""
    return {
        key: constraint
        for key, constraint in snapshot["constraints"].items()
        if constraint["type"] != CONSTRAINT_TYPES["t"]
    }
