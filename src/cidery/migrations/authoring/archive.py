"""Rollback that keeps data: what a downgrade drops, it archives first.

A downgrade that drops tables copies whatever rows they hold into the schema
``cidery_archive_<revision>``; the same revision's upgrade puts the rows back
and drops the copy. Whether there are rows is decided by PL/pgSQL at run time,
so the offline SQL a DBA applies behaves exactly like the online migration.
``cidery db rollback --allow-data-loss`` drops without archiving.

Every revision that drops a table in its downgrade uses :func:`archive_tables`
before the drop and :func:`restore_archived` at the end of its upgrade; the
revision harness in the tests holds every revision to it (seed, roll back,
upgrade: every row is back).
"""

from __future__ import annotations

from alembic import context, op

ARCHIVE_PREFIX = "cidery_archive_"


def archive_schema(revision: str) -> str:
    return f"{ARCHIVE_PREFIX}{revision}"


def _allow_data_loss() -> bool:
    return bool(context.config.attributes.get("allow_data_loss", False))


def _copy_rows(revision: str, table: str, copy: str, columns: str, where: str) -> None:
    """Copy ``columns`` of the rows of ``table`` matching ``where`` into the archive as ``copy``.

    ``columns`` is a SQL expression yielding the select list; enum columns are
    stored as text so their types can be dropped, generated columns are left
    out and recomputed on restore.
    """
    schema = archive_schema(revision)
    op.execute(
        "DO $$\n"
        "DECLARE\n"
        "    select_list text;\n"
        "    copied bigint;\n"
        "BEGIN\n"
        f"    IF EXISTS (SELECT 1 FROM {table} WHERE {where}) THEN\n"
        f"        IF to_regclass('{schema}.{copy}') IS NOT NULL THEN\n"
        f"            RAISE EXCEPTION '{schema}.{copy} already exists: an earlier rollback''s "
        "archive was never restored; migrate up to restore it, or drop it by hand';\n"
        "        END IF;\n"
        f"        CREATE SCHEMA IF NOT EXISTS {schema};\n"
        "        SELECT string_agg(CASE WHEN t.typtype = 'e'\n"
        "                               THEN format('%1$I::text AS %1$I', a.attname)\n"
        "                               ELSE format('%I', a.attname) END,\n"
        "                          ', ' ORDER BY a.attnum)\n"
        "          INTO select_list\n"
        "          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid\n"
        f"         WHERE a.attrelid = '{table}'::regclass AND a.attnum > 0\n"
        f"           AND NOT a.attisdropped AND a.attgenerated = '' AND {columns};\n"
        f"        EXECUTE format('CREATE TABLE {schema}.{copy} AS SELECT %s FROM {table} "
        f"WHERE {where.replace(chr(39), chr(39) * 2)}', select_list);\n"
        "        GET DIAGNOSTICS copied = ROW_COUNT;\n"
        f"        EXECUTE format('COMMENT ON TABLE {schema}.{copy} IS %L',\n"
        f"            format('%s rows of {table}, archived by the downgrade of revision "
        f"{revision} at %s; the next upgrade restores them', copied, now()));\n"
        f"        RAISE NOTICE 'archived % rows of {table} into {schema}.{copy}', copied;\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )


def archive_tables(revision: str, tables: tuple[str, ...]) -> None:
    """Before dropping ``tables``: copy each one that holds rows into the archive."""
    if _allow_data_loss():
        return
    for table in tables:
        _copy_rows(revision, table, table, "true", "true")


def restore_archived(revision: str, tables: tuple[str, ...]) -> None:
    """Put archived rows back, parents first (``tables`` in that order), then drop the copies."""
    schema = archive_schema(revision)
    for table in tables:
        op.execute(
            "DO $$\n"
            "DECLARE\n"
            "    column_list text;\n"
            "    select_list text;\n"
            "    restored bigint;\n"
            "BEGIN\n"
            f"    IF to_regclass('{schema}.{table}') IS NOT NULL THEN\n"
            "        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),\n"
            "               string_agg(format('%I::%s', live.attname,\n"
            "                                 format_type(live.atttypid, live.atttypmod)),\n"
            "                          ', ' ORDER BY live.attnum)\n"
            "          INTO column_list, select_list\n"
            "          FROM pg_attribute live\n"
            "          JOIN pg_attribute kept\n"
            f"            ON kept.attrelid = '{schema}.{table}'::regclass\n"
            "           AND kept.attname = live.attname AND NOT kept.attisdropped\n"
            f"         WHERE live.attrelid = '{table}'::regclass AND live.attnum > 0\n"
            "           AND NOT live.attisdropped AND live.attgenerated = '';\n"
            f"        EXECUTE format('INSERT INTO {table} (%s) SELECT %s FROM {schema}.{table}',\n"
            "                       column_list, select_list);\n"
            "        GET DIAGNOSTICS restored = ROW_COUNT;\n"
            f"        DROP TABLE {schema}.{table};\n"
            f"        RAISE NOTICE 'restored % rows of {table} from {schema}', restored;\n"
            "    END IF;\n"
            "END\n"
            "$$"
        )
    _drop_empty_schema(schema)


def _column_copy(table: str) -> str:
    return f"{table}__columns"


def _listed(columns: tuple[str, ...]) -> str:
    return ", ".join("'" + column + "'" for column in columns)


def archive_columns(revision: str, table: str, columns: tuple[str, ...]) -> None:
    """Before dropping ``columns`` of ``table``: copy them, with each row's ``id``, from
    the rows where one of them holds a value."""
    if _allow_data_loss():
        return
    where = " OR ".join(f"{column} IS NOT NULL" for column in columns)
    _copy_rows(
        revision, table, _column_copy(table), f"a.attname IN ('id', {_listed(columns)})", where
    )


def restore_columns(revision: str, table: str, columns: tuple[str, ...]) -> None:
    """Put archived ``columns`` back into their rows (by ``id``), then drop the copy.

    The table's ``updated_at`` trigger is held off meanwhile: putting a value back
    is not an edit of the row, and ``updated_at`` must come back as it was.
    """
    schema = archive_schema(revision)
    copy = _column_copy(table)
    assignments = ", ".join(f"{column} = kept.{column}" for column in columns)
    trigger = f"{table}_set_updated_at"
    op.execute(
        "DO $$\n"
        "DECLARE\n"
        "    restored bigint;\n"
        "BEGIN\n"
        f"    IF to_regclass('{schema}.{copy}') IS NOT NULL THEN\n"
        f"        ALTER TABLE {table} DISABLE TRIGGER {trigger};\n"
        f"        UPDATE {table} SET {assignments} FROM {schema}.{copy} kept\n"
        f"         WHERE {table}.id = kept.id;\n"
        "        GET DIAGNOSTICS restored = ROW_COUNT;\n"
        f"        ALTER TABLE {table} ENABLE TRIGGER {trigger};\n"
        f"        DROP TABLE {schema}.{copy};\n"
        f"        RAISE NOTICE 'restored {', '.join(columns)} of % rows of {table}', restored;\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )


def archive_rows(revision: str, table: str, where: str) -> None:
    """Move the rows of ``table`` matching ``where`` into the archive: for rows the
    schema being rolled back to cannot hold (a NULL its NOT NULL would refuse). The
    same revision's :func:`restore_archived` puts them back."""
    if not _allow_data_loss():
        _copy_rows(revision, table, table, "true", where)
    op.execute(f"DELETE FROM {table} WHERE {where}")


def _drop_empty_schema(schema: str) -> None:
    op.execute(
        "DO $$\n"
        "BEGIN\n"
        f"    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '{schema}')\n"
        "       AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n\n"
        f"                       ON n.oid = c.relnamespace WHERE n.nspname = '{schema}') THEN\n"
        f"        DROP SCHEMA {schema};\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )
