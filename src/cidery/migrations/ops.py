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
