"""Applying revisions to a live database: the engine behind ``cidery db migrate|rollback|reset``.

One runner at a time (:func:`migration_lock`), each revision bounded by its
timeouts, a lock timeout retried with backoff, and the rows that rollbacks
archived listed. What the revisions are, in which order, and their SQL is
:mod:`cidery.migrations.scripts`.

It logs (``cidery.migrations.runner``, INFO) each revision applied or undone, a
wait for another runner's lock and each retry, naming the database by
:func:`cidery.db.engine.describe_url`, which hides the password.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.migration import MigrationContext, MigrationInfo
from alembic.script import Script
from psycopg.errors import LockNotAvailable
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from cidery.config import DEFAULT_LOCK_WAIT
from cidery.errors import RevisionError
from cidery.migrations.authoring.archive import ARCHIVE_PREFIX
from cidery.migrations.errors import LockTimeout, MigrationLocked
from cidery.migrations.files import MIGRATION_LOCK_KEY
from cidery.migrations.scripts import (
    MIGRATIONS_DIR,
    Timeouts,
    alembic_errors,
    current_revision,
    make_config,
    resolve,
    revision_files,
)
from cidery.urls import describe_url

log = logging.getLogger(__name__)

LOCK_POLL_SECONDS = 0.1


@contextmanager
def migration_lock(connection: Connection, wait: float = DEFAULT_LOCK_WAIT) -> Iterator[None]:
    """Hold the migration lock, waiting up to ``wait`` seconds for another runner.

    The wait polls ``pg_try_advisory_lock`` between transactions instead of
    blocking in ``pg_advisory_lock``: a session blocked inside a statement
    holds a snapshot, and the runner it waits for may be building an index
    ``CONCURRENTLY``, which waits for every older snapshot — a deadlock.
    """
    deadline = time.monotonic() + wait
    waiting = False
    while True:
        acquired = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
        ).scalar_one()
        connection.commit()
        if acquired:
            break
        if not waiting:
            waiting = True
            log.info(
                "waiting up to %gs for the migration lock on %s: another migration is running%s",
                wait,
                _database(connection),
                _lock_holder(connection),
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise MigrationLocked(
                f"another migration is running{_lock_holder(connection)}; waited {wait:g}s"
                " — retry later or raise --wait"
            )
        time.sleep(min(LOCK_POLL_SECONDS, remaining))
    try:
        yield
    finally:
        connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()


def _lock_holder(connection: Connection) -> str:
    """`` (pid 123, cidery)``: the session holding the migration lock, or nothing if it is gone."""
    holder = connection.execute(
        text(
            "SELECT a.pid, a.application_name FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.objid = :key"
        ),
        {"key": MIGRATION_LOCK_KEY},
    ).first()
    connection.commit()
    return f" (pid {holder.pid}, {holder.application_name or 'no name'})" if holder else ""


def _database(connection: Connection) -> str:
    return describe_url(connection.engine.url.render_as_string(hide_password=True))


class _StepWatcher:
    """Alembic ``on_version_apply`` callback: logs each revision applied or undone, and
    notes the schema's indexes as it leaves them, for what a failed next one left."""

    def __init__(self, database: str, indexes: set[str]) -> None:
        self.database = database
        self.indexes = indexes

    def __call__(
        self, ctx: MigrationContext, step: MigrationInfo, heads: set[str], run_args: dict[str, Any]
    ) -> None:
        if step.is_stamp:
            return
        script = step.up_revision
        title = script.doc if isinstance(script, Script) and script.doc else ""
        log.info(
            "%s revision %s%s on %s",
            "applied" if step.is_upgrade else "undid",
            step.up_revision_id,
            f" ({title})" if title else "",
            self.database,
        )
        # Inside the revision's transaction, which commits right after this call.
        if ctx.connection is not None:
            self.indexes = _index_names(ctx.connection)


# --- what a failed revision leaves behind ------------------------------------------------
#
# A revision's transaction rolls back as a whole, but an autocommit step before it
# (ops.outside_transaction) has committed: an index it built stays, valid, and the
# next run keeps it (IF NOT EXISTS). A CREATE INDEX CONCURRENTLY that is itself
# interrupted (a lock timeout, a duplicate key, a cancelled or killed session)
# leaves its index INVALID: never used by queries, yet updated by every write, and
# kept for good by IF NOT EXISTS. Those are dropped after a failed run and, for a
# run that could not clean up (killed, or still blocked), before the next one.

# Invalid plain indexes of the migrated schema that no CREATE INDEX or REINDEX is
# building right now (their tables' builds show in pg_stat_progress_create_index).
# A partitioned index (relkind 'I') is invalid until every partition's index is
# attached, on purpose: it is left alone.
_INVALID_INDEXES = text(
    "SELECT c.relname AS name, format('%I.%I', n.nspname, c.relname) AS qualified "
    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE NOT i.indisvalid AND c.relkind = 'i' AND n.nspname = current_schema() "
    "AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.relid = i.indrelid) "
    "ORDER BY c.relname"
)


def _index_names(connection: Connection) -> set[str]:
    """The valid indexes of the migrated schema."""
    return set(
        connection.execute(
            text(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indisvalid AND c.relnamespace = current_schema()::regnamespace"
            )
        ).scalars()
    )


@dataclass(frozen=True)
class _Cleanup:
    """Invalid indexes dropped, and those that could not be (name, why)."""

    dropped: list[str]
    stuck: list[tuple[str, str]]


def _drop_invalid_indexes(engine: Engine, lock_timeout: str, held: Connection) -> _Cleanup:
    """Drop the invalid indexes of the migrated schema, each waiting at most ``lock_timeout``.

    ``DROP INDEX CONCURRENTLY`` cannot run in a transaction and takes no lock that
    stops readers or writers; it waits for the transactions using the table, and
    one that holds it past ``lock_timeout`` leaves the index for the next run.
    They are looked for on ``held``, the connection holding the migration lock (its
    transaction is committed); one of their own is opened only to drop some, as there
    rarely are any.
    """
    dropped: list[str] = []
    stuck: list[tuple[str, str]] = []
    invalid = held.execute(_INVALID_INDEXES).all()
    held.commit()
    if not invalid:
        return _Cleanup(dropped, stuck)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        # Session-level on a pooled connection: reset below, before it goes back.
        conn.execute(
            text("SELECT set_config('lock_timeout', :value, false)"), {"value": lock_timeout}
        )
        try:
            for index in invalid:
                try:
                    conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {index.qualified}"))
                except DBAPIError as exc:
                    reason = str(exc.orig or exc).strip().splitlines()
                    stuck.append((index.name, reason[0] if reason else type(exc).__name__))
                else:
                    dropped.append(index.name)
        finally:
            conn.execute(text("RESET lock_timeout"))
    return _Cleanup(dropped, stuck)


def _after_failure(
    engine: Engine, conn: Connection, watcher: _StepWatcher, lock_timeout: str
) -> tuple[str, list[str]] | None:
    """After a revision failed: the revision the database is at, and what the failed one
    left (its invalid indexes dropped). None when the database cannot tell (the
    connection is gone, say): the original error is what the user needs then."""
    try:
        conn.rollback()
        at = current_revision(conn) or "base"
        kept = sorted(_index_names(conn) - watcher.indexes)
        conn.commit()
        return at, _leftovers(kept, _drop_invalid_indexes(engine, lock_timeout, conn))
    except SQLAlchemyError as exc:
        log.warning("could not look for what the failed revision left: %s", exc)
        return None


def _leftovers(kept: list[str], cleanup: _Cleanup) -> list[str]:
    """What a failed revision's autocommit steps left, one phrase each."""
    return [
        *(f"index {name} remains (valid: the next run keeps it)" for name in kept),
        *(
            f"the invalid index {name} an interrupted CREATE INDEX CONCURRENTLY left was dropped"
            for name in cleanup.dropped
        ),
        *(
            f"the invalid index {name} an interrupted CREATE INDEX CONCURRENTLY left could not "
            f"be dropped ({why}), the next run drops it"
            for name, why in cleanup.stuck
        ),
    ]


def _failed_revision(action: str, at: str, script_location: Path) -> str:
    """The revision that failed, the database being at ``at`` afterwards."""
    if action == "downgrade":
        return f"revision {at}"
    order = ["base", *(f.revision for f in revision_files(script_location))]
    if at in order and order.index(at) + 1 < len(order):
        return f"revision {order[order.index(at) + 1]}"
    return "the next revision"


RetryNotice = Callable[[int, float, str], None]


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    timeouts: Timeouts | None = None
    allow_data_loss: bool = False
    wait: float = DEFAULT_LOCK_WAIT
    retries: int = 0
    on_retry: RetryNotice | None = None
    script_location: Path = MIGRATIONS_DIR


def _blockers(engine: Engine, own_pid: int) -> str:
    """Who holds locks on this schema's tables in an open transaction, for the error message."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.pid, a.state, "
                "extract(epoch FROM now() - a.xact_start)::int AS seconds, "
                "string_agg(DISTINCT l.mode || ' on ' || c.relname, ', ') AS holds, "
                "left(regexp_replace(a.query, '\\s+', ' ', 'g'), 120) AS query "
                "FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.granted AND l.pid <> :own AND l.pid <> pg_backend_pid() "
                "AND c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
                "AND a.xact_start IS NOT NULL "
                "GROUP BY a.pid, a.state, a.xact_start, a.query "
                "ORDER BY a.xact_start LIMIT 3"
            ),
            {"own": own_pid},
        ).all()
    if not rows:
        return "the blocking transaction has ended since"
    return "; ".join(
        f"pid {r.pid} ({r.state}, transaction open {r.seconds}s) holds {r.holds}"
        f" — last query: {r.query}"
        for r in rows
    )


def _run_once(
    engine: Engine, action: str, target: str, options: RunOptions, starts: list[str | None]
) -> str | None:
    """One attempt; appends the revision found under the lock to ``starts``, returns the end."""
    lock_timeout = (options.timeouts or Timeouts()).lock_timeout
    with engine.connect() as conn, migration_lock(conn, options.wait), alembic_errors():
        earlier = _drop_invalid_indexes(engine, lock_timeout, conn)
        for name in earlier.dropped:
            log.warning(
                "dropped the invalid index %s an interrupted CREATE INDEX CONCURRENTLY left", name
            )
        for name, why in earlier.stuck:
            log.warning("the invalid index %s could not be dropped (%s)", name, why)
        starts.append(current_revision(conn))
        conn.commit()
        if action == "downgrade" and starts[-1] is None:
            raise RevisionError("the database has no revision applied: nothing to roll back")
        _check_direction(action, starts[-1], target, options.script_location)
        own_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        conn.commit()
        cfg = make_config(
            connection=conn,
            timeouts=options.timeouts,
            allow_data_loss=options.allow_data_loss,
            script_location=options.script_location,
            compare=False,
        )
        watcher = _StepWatcher(_database(conn), _index_names(conn))
        conn.commit()
        # Called by env.py after the checksum bookkeeping, inside each revision's transaction.
        cfg.attributes["on_version_apply"] = [watcher]
        try:
            if action == "upgrade":
                command.upgrade(cfg, target)
            else:
                command.downgrade(cfg, target)
        except Exception as exc:
            found = _after_failure(engine, conn, watcher, lock_timeout)
            if found is None:
                raise
            at, left = found
            failed = _failed_revision(action, at, options.script_location)
            if isinstance(exc, OperationalError) and isinstance(exc.orig, LockNotAvailable):
                # Say "rolled back" plainly only when nothing of the revision remains.
                rolled_back = (
                    f" and was rolled back, but not its autocommit step: {', '.join(left)}"
                    if left
                    else " and was rolled back"
                )
                raise LockTimeout(
                    f"{action} stopped at revision {at}: {failed} could not take its locks "
                    f"within lock_timeout={lock_timeout}{rolled_back}; "
                    f"{_blockers(engine, own_pid)}"
                ) from exc
            for phrase in left:
                log.warning("%s of %s failed; %s", action, failed, phrase)
            raise
        conn.commit()
        return current_revision(conn)


def _check_direction(action: str, current: str | None, target: str, script_location: Path) -> None:
    """Refuse an upgrade to an older revision and a rollback to a newer one, by name."""
    if target in ("head", "heads", "base") or target[0] in "+-":
        return
    order = [None, *(f.revision for f in revision_files(script_location))]
    if current not in order or target not in order:
        return
    if action == "upgrade" and order.index(target) < order.index(current):
        raise RevisionError(
            f"{target} is older than the current revision {current}: "
            f"use `cidery db rollback {target}`"
        )
    if action == "downgrade" and order.index(target) > order.index(current):
        raise RevisionError(
            f"{target} is newer than the current revision {current or 'base'}: "
            f"use `cidery db migrate {target}`"
        )


def _steps(start: str | None, end: str | None, script_location: Path) -> list[str]:
    """The revisions between ``start`` and ``end``, in the order they were applied or undone."""
    order: list[str | None] = [None, *(f.revision for f in revision_files(script_location))]
    i, j = order.index(start), order.index(end)
    if j >= i:
        return [r for r in order[i + 1 : j + 1] if r is not None]
    return [r for r in reversed(order[j + 1 : i + 1]) if r is not None]


def _run(engine: Engine, action: str, target: str, options: RunOptions) -> list[str]:
    """Run, retrying a lock timeout ``options.retries`` times with exponential backoff.

    Returns the revisions applied (or undone), as found under the migration lock.
    """
    starts: list[str | None] = []
    for attempt in range(options.retries + 1):
        try:
            end = _run_once(engine, action, target, options, starts)
            return _steps(starts[0], end, options.script_location)
        except LockTimeout as exc:
            if attempt == options.retries:
                raise
            delay = min(2.0**attempt, 30.0)
            log.info("retry %d of %d in %gs: %s", attempt + 1, options.retries, delay, exc)
            if options.on_retry is not None:
                options.on_retry(attempt + 1, delay, str(exc))
            time.sleep(delay)
    raise AssertionError("unreachable")


def upgrade(
    engine: Engine,
    target: str = "head",
    *,
    timeouts: Timeouts | None = None,
    wait: float = DEFAULT_LOCK_WAIT,
    retries: int = 0,
    on_retry: RetryNotice | None = None,
    script_location: Path = MIGRATIONS_DIR,
) -> list[str]:
    """Apply revisions up to ``target``; returns those this call applied, oldest first."""
    options = RunOptions(
        timeouts=timeouts,
        wait=wait,
        retries=retries,
        on_retry=on_retry,
        script_location=script_location,
    )
    return _run(engine, "upgrade", resolve(target, script_location), options)


def downgrade(
    engine: Engine,
    target: str = "-1",
    *,
    timeouts: Timeouts | None = None,
    allow_data_loss: bool = False,
    wait: float = DEFAULT_LOCK_WAIT,
    retries: int = 0,
    on_retry: RetryNotice | None = None,
    script_location: Path = MIGRATIONS_DIR,
) -> list[str]:
    """Undo revisions; tables a downgrade drops keep their rows in an archive schema
    unless ``allow_data_loss`` is set."""
    options = RunOptions(
        timeouts=timeouts,
        allow_data_loss=allow_data_loss,
        wait=wait,
        retries=retries,
        on_retry=on_retry,
        script_location=script_location,
    )
    return _run(engine, "downgrade", resolve(target, script_location), options)


def rebuild(engine: Engine, *, timeouts: Timeouts | None = None) -> None:
    """Drop every cidery object, archived rows included, and migrate from empty."""
    with engine.connect() as conn:
        at_base = current_revision(conn) is None
    if not at_base:
        downgrade(engine, "base", timeouts=timeouts, allow_data_loss=True)
    with engine.begin() as conn:
        for schema in archive_schemas(conn):
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    upgrade(engine, "head", timeouts=timeouts)


# LIKE pattern of the archive schemas (cidery.migrations.authoring.archive), "_" taken literally.
_ARCHIVE_LIKE = ARCHIVE_PREFIX.replace("_", "\\_") + "%"


def archive_schemas(connection: Connection) -> list[str]:
    """Schemas holding rows that rollbacks archived (``cidery_archive_<rev>``)."""
    return list(
        connection.execute(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :like ORDER BY 1"),
            {"like": _ARCHIVE_LIKE},
        ).scalars()
    )


def archived_rows(connection: Connection) -> list[tuple[str, int]]:
    """Tables held in archive schemas by earlier rollbacks, with their row counts."""
    names = connection.execute(
        text(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname LIKE :like AND c.relkind = 'r' ORDER BY 1"
        ),
        {"like": _ARCHIVE_LIKE},
    ).scalars()
    return [
        (name, connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())
        for name in names
    ]
