"""Operations that revisions share beyond what ``alembic.op`` offers.

Everything here emits plain SQL through ``op.execute``, so the same statements
run online and appear in the offline SQL files a DBA reviews.
"""

from __future__ import annotations

import importlib.util
import re
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import context, op
from alembic.ddl.impl import DefaultImpl

from cidery.config import DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT
from cidery.migrations.authoring.rules import IGNORE_PREFIX, RULES

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


def create_enum(name: str, values: tuple[str, ...]) -> None:
    """Create an enum type explicitly, once, even when several tables use it."""
    labels = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    op.execute(f"CREATE TYPE {name} AS ENUM ({labels})")


def drop_enum(name: str) -> None:
    op.execute(f"DROP TYPE {name}")


def earlier(revision: str, name: str) -> object:
    """The value ``name`` in an earlier revision's module: what a downgrade puts back (a
    function's body as that revision created it) is read from there, never copied."""
    versions = Path(__file__).resolve().parent.parent / "versions"
    paths = sorted(versions.glob(f"{revision}_*.py"))
    if len(paths) != 1:
        raise LookupError(f"expected one revision file {revision}_*.py, found {len(paths)}")
    spec = importlib.util.spec_from_file_location(f"cidery_revision_{revision}", paths[0])
    if spec is None or spec.loader is None:
        raise LookupError(f"cannot load revision {revision} from {paths[0]}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def earlier_text(revision: str, name: str) -> str:
    """:func:`earlier` for a SQL text."""
    value = earlier(revision, name)
    if not isinstance(value, str):
        raise TypeError(f"{name} of revision {revision} is not a SQL text")
    return value


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
        try:
            yield
        finally:
            # Session-level, so it must not outlive the block on a pooled connection.
            op.execute("RESET lock_timeout")
    set_timeouts()


def create_index_concurrently(
    name: str,
    table: str,
    columns: Sequence[str],
    *,
    unique: bool = False,
    where: str | None = None,
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
    predicate = f" WHERE {where}" if where else ""
    op.execute(
        f"CREATE {kind} CONCURRENTLY IF NOT EXISTS {name} ON {table} ({', '.join(columns)})"
        f"{predicate}"
    )


# --- exceptions to the migration linters ------------------------------------------------

_RULE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class _LintException:
    rule: str
    reason: str
    column: str | None


# Exceptions waiting for the next statement, per offline migration (its DDL impl).
_PENDING: weakref.WeakKeyDictionary[DefaultImpl, list[_LintException]] = weakref.WeakKeyDictionary()


def lint_exception(rule: str, reason: str, *, column: str | None = None) -> None:
    """Write down, beside the next statement, that it breaks ``rule`` on purpose and why.

    Call it just before the operation concerned. In offline mode (the
    committed SQL files, ``cidery db sql``) it puts an ignore comment with the
    reason directly above that statement, or, with ``column``, directly above
    that column's line inside the statement (squawk applies an ignore comment
    to the next line only, and a CREATE TABLE spans many). A rule of the
    project's own linter (:data:`cidery.migrations.authoring.rules.RULES`) gets
    ``-- cidery-ignore RULE -- REASON``, any other rule is squawk's and gets
    ``-- squawk-ignore RULE -- REASON``. Online it does nothing: comments are
    for the reviewed SQL, the statements run the same.
    """
    if not _RULE_NAME.fullmatch(rule):
        raise ValueError(f"lint rule names are lowercase words joined by '-', got {rule!r}")
    reason = " ".join(reason.split())
    if not reason:
        raise ValueError(f"an exception to {rule} needs its reason: why the statement is safe")
    migration = op.get_context()
    if not migration.as_sql:
        return
    impl = migration.impl
    pending = _PENDING.get(impl)
    if pending is None:
        pending = _PENDING[impl] = []
        _annotate_next_statement(impl)
    pending.append(_LintException(rule, reason, column))


def _annotate_next_statement(impl: DefaultImpl) -> None:
    """Have the next statement ``impl`` writes carry the pending exceptions' comments."""
    write = impl.static_output

    def annotated(text: str) -> None:
        del impl.static_output  # back to the class's method: only this statement
        write(_with_comments(text, _PENDING.pop(impl)))

    setattr(impl, "static_output", annotated)  # noqa: B010 (mypy: no assigning to a method)


def _with_comments(statement: str, exceptions: list[_LintException]) -> str:
    lines = statement.split("\n")
    targets: dict[int, list[_LintException]] = {}
    for exception in exceptions:
        at = 0 if exception.column is None else _column_line(lines, exception.column, statement)
        targets.setdefault(at, []).append(exception)
    for at in sorted(targets, reverse=True):
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        lines[at:at] = [indent + comment for comment in _comments(targets[at])]
    return "\n".join(lines)


def _column_line(lines: list[str], column: str, statement: str) -> int:
    for i, line in enumerate(lines[1:], start=1):
        words = line.split(None, 1)
        if words and words[0] in (column, f'"{column}"'):
            return i
    first = statement.split("\n", 1)[0]
    raise ValueError(
        f"lint_exception: no line defines column {column!r} in the next statement ({first})"
    )


def _comments(exceptions: list[_LintException]) -> list[str]:
    """Ours one a line; squawk's merged into the one line right above the target."""
    ours = [e for e in exceptions if e.rule in RULES]
    squawks = [e for e in exceptions if e.rule not in RULES]
    comments = [f"-- {IGNORE_PREFIX} {e.rule} -- {e.reason}" for e in ours]
    if len(squawks) == 1:
        comments.append(f"-- squawk-ignore {squawks[0].rule} -- {squawks[0].reason}")
    elif squawks:
        rules = ", ".join(e.rule for e in squawks)
        reasons = "; ".join(f"{e.rule}: {e.reason}" for e in squawks)
        comments.append(f"-- squawk-ignore {rules} -- {reasons}")
    return comments
