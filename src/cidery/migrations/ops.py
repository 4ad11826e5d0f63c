"""Operations that revisions share beyond what ``alembic.op`` offers.

Everything here emits plain SQL through ``op.execute``, so the same statements
run online and appear in the offline SQL files a DBA reviews.
"""

from __future__ import annotations

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
