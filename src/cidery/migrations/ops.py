"""Operations that revisions share beyond what ``alembic.op`` offers.

Everything here emits plain SQL through ``op.execute``, so the same statements
run online and appear in the offline SQL files a DBA reviews.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alembic import context, op

from cidery.settings import DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT

UPDATED_AT_FUNCTION = "set_updated_at"


def set_timeouts() -> None:
    """Bound how long this revision's transaction may wait for locks and run.

    ``SET LOCAL`` ends with the revision's transaction, so the session that
    runs the migration keeps its own settings afterwards.
    """
    attributes = context.config.attributes
    lock_timeout = attributes.get("lock_timeout", DEFAULT_LOCK_TIMEOUT)
    statement_timeout = attributes.get("statement_timeout", DEFAULT_STATEMENT_TIMEOUT)
    op.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
    op.execute(f"SET LOCAL statement_timeout = '{statement_timeout}'")


def create_updated_at_function() -> None:
    op.execute(
        f"CREATE FUNCTION {UPDATED_AT_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    NEW.updated_at := now();\n"
        "    RETURN NEW;\n"
        "END;\n"
        "$$"
    )


def drop_updated_at_function() -> None:
    op.execute(f"DROP FUNCTION {UPDATED_AT_FUNCTION}()")


def updated_at_trigger_name(table: str) -> str:
    return f"{table}_set_updated_at"


def create_updated_at_trigger(table: str) -> None:
    op.execute(
        f"CREATE TRIGGER {updated_at_trigger_name(table)} BEFORE UPDATE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {UPDATED_AT_FUNCTION}()"
    )


def drop_updated_at_trigger(table: str) -> None:
    op.execute(f"DROP TRIGGER {updated_at_trigger_name(table)} ON {table}")


def create_enum(name: str, values: tuple[str, ...]) -> None:
    """Create an enum type explicitly, once, even when several tables use it."""
    labels = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    op.execute(f"CREATE TYPE {name} AS ENUM ({labels})")


def drop_enum(name: str) -> None:
    op.execute(f"DROP TYPE {name}")


# --- rollback that keeps data ----------------------------------------------------------
#
# A downgrade that drops tables copies any rows they hold into a schema named
# after the revision; the revision's next upgrade copies them back and drops
# the copy. The decision "are there rows?" is taken by PL/pgSQL at run time,
# so the offline SQL a DBA applies behaves exactly as the online migration.


def archive_schema(revision: str) -> str:
    return f"cidery_archive_{revision}"


def _allow_data_loss() -> bool:
    return bool(context.config.attributes.get("allow_data_loss", False))


def archive_tables(revision: str, tables: tuple[str, ...]) -> None:
    """Copy each table that holds rows into the revision's archive schema.

    Enum columns are stored as text, so the enum types can be dropped with the
    tables; generated columns are left out and recomputed on restore.
    """
    if _allow_data_loss():
        return
    schema = archive_schema(revision)
    for table in tables:
        op.execute(
            "DO $$\n"
            "DECLARE\n"
            "    select_list text;\n"
            "    copied bigint;\n"
            "BEGIN\n"
            f"    IF EXISTS (SELECT 1 FROM {table}) THEN\n"
            f"        CREATE SCHEMA IF NOT EXISTS {schema};\n"
            "        SELECT string_agg(CASE WHEN t.typtype = 'e'\n"
            "                               THEN format('%1$I::text AS %1$I', a.attname)\n"
            "                               ELSE format('%I', a.attname) END,\n"
            "                          ', ' ORDER BY a.attnum)\n"
            "          INTO select_list\n"
            "          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid\n"
            f"         WHERE a.attrelid = '{table}'::regclass AND a.attnum > 0\n"
            "           AND NOT a.attisdropped AND a.attgenerated = '';\n"
            f"        EXECUTE format('CREATE TABLE {schema}.{table} AS SELECT %s FROM {table}',\n"
            "                       select_list);\n"
            "        GET DIAGNOSTICS copied = ROW_COUNT;\n"
            f"        EXECUTE format('COMMENT ON TABLE {schema}.{table} IS %L',\n"
            f"            format('%s rows of {table}, archived by the downgrade of revision "
            f"{revision} at %s; the next upgrade restores them', copied, now()));\n"
            f"        RAISE NOTICE 'archived % rows of {table} into {schema}.{table}', copied;\n"
            "    END IF;\n"
            "END\n"
            "$$"
        )


def restore_archived(revision: str, tables: tuple[str, ...]) -> None:
    """Put rows archived by this revision's downgrade back, parents first, then drop the copy."""
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


# --- steps that cannot run in a transaction ---------------------------------------------


@contextmanager
def outside_transaction() -> Iterator[None]:
    """Run the block in autocommit, for ``CREATE INDEX CONCURRENTLY`` and the like.

    Put it first in a revision: Alembic commits what the revision did so far
    before the block, so a failure after it re-runs the whole revision, and
    everything inside must be safe to run twice. The session's timeouts are
    set for the block (``SET LOCAL`` needs a transaction) and the revision's
    own ``SET LOCAL`` timeouts are restored for the transaction that follows.
    """
    with op.get_context().autocommit_block():
        attributes = context.config.attributes
        op.execute(f"SET lock_timeout = '{attributes.get('lock_timeout', DEFAULT_LOCK_TIMEOUT)}'")
        yield
        op.execute("RESET lock_timeout")
    set_timeouts()


def create_index_concurrently(
    name: str, table: str, columns: Sequence[str], *, unique: bool = False
) -> None:
    """Build an index without blocking writers; safe to re-run after a failure.

    A failed concurrent build leaves an INVALID index behind, which
    ``IF NOT EXISTS`` would keep; it is dropped first.
    """
    op.execute(
        "DO $$\n"
        "BEGIN\n"
        "    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid\n"
        f"               WHERE c.oid = to_regclass('{name}') AND NOT i.indisvalid) THEN\n"
        f"        DROP INDEX {name};\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )
    kind = "UNIQUE INDEX" if unique else "INDEX"
    op.execute(f"CREATE {kind} CONCURRENTLY IF NOT EXISTS {name} ON {table} ({', '.join(columns)})")
