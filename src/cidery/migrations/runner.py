"""Alembic driven from Python: the engine behind every ``cidery db`` migration command.

Revision ids are four-digit sequence numbers (``0001``, ``0002`` …) and files
are named ``<rev>_<slug>.py``, so the history reads in order on disk. Beside
each revision lives its reviewed SQL (``sql/<rev>_<slug>.upgrade.sql`` and
``.downgrade.sql``), produced by Alembic's offline mode.
"""

from __future__ import annotations

import io
import re
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util.exc import CommandError
from psycopg.errors import LockNotAvailable
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from cidery.config import DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT
from cidery.errors import CideryError, RevisionError
from cidery.migrations import bookkeeping
from cidery.migrations.authoring.archive import ARCHIVE_PREFIX
from cidery.models import Base

MIGRATIONS_DIR = Path(__file__).parent
SQL_DIR = MIGRATIONS_DIR / "sql"
_REV_ID = re.compile(r"^\d{4}$")


class MigrationLocked(CideryError):
    code = "migration_locked"


@dataclass(frozen=True)
class Timeouts:
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT


def make_config(
    *,
    connection: Connection | None = None,
    url: str | None = None,
    timeouts: Timeouts | None = None,
    output: io.StringIO | None = None,
    script_location: Path = MIGRATIONS_DIR,
    allow_data_loss: bool = False,
) -> Config:
    cfg = Config(output_buffer=output)
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("truncate_slug_length", "40")
    timeouts = timeouts or Timeouts()
    cfg.attributes["lock_timeout"] = timeouts.lock_timeout
    cfg.attributes["statement_timeout"] = timeouts.statement_timeout
    # Read by cidery.migrations.authoring.archive: drop rows instead of archiving them.
    cfg.attributes["allow_data_loss"] = allow_data_loss
    if connection is not None:
        cfg.attributes["connection"] = connection
    if url is not None:
        cfg.attributes["url"] = url
    return cfg


def script_directory(script_location: Path = MIGRATIONS_DIR) -> ScriptDirectory:
    return ScriptDirectory.from_config(make_config(script_location=script_location))


def revisions_in_order(scripts: ScriptDirectory | None = None) -> list[Script]:
    """Every revision from the first to the head."""
    scripts = scripts or script_directory()
    return list(reversed(list(scripts.walk_revisions("base", "heads"))))


def head() -> str:
    heads = script_directory().get_heads()
    if len(heads) != 1:
        raise RevisionError(f"expected one head revision, found {len(heads)}: {', '.join(heads)}")
    return heads[0]


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def resolve(target: str, script_location: Path = MIGRATIONS_DIR) -> str:
    """Validate a revision argument (an id, ``head``, ``base`` or a relative ``-1``)."""
    if target in ("head", "heads", "base") or re.fullmatch(r"[+-]\d+", target):
        return target
    try:
        script = script_directory(script_location).get_revision(target)
    except CommandError as exc:
        raise RevisionError(f"unknown revision {target!r}") from exc
    if script is None:
        raise RevisionError(f"unknown revision {target!r}")
    return script.revision


@contextmanager
def _alembic_errors() -> Iterator[None]:
    try:
        yield
    except CommandError as exc:
        raise RevisionError(str(exc).strip().splitlines()[0]) from exc


# One runner at a time: every migrate and rollback holds this session-level
# advisory lock from before it reads the current revision until it is done.
MIGRATION_LOCK_KEY = 0x63696465  # "cide"
DEFAULT_LOCK_WAIT = 120.0
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
    while True:
        acquired = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
        ).scalar_one()
        connection.commit()
        if acquired:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            holder = connection.execute(
                text(
                    "SELECT a.pid, a.application_name FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.granted AND l.objid = :key"
                ),
                {"key": MIGRATION_LOCK_KEY},
            ).first()
            connection.commit()
            who = f" (pid {holder.pid}, {holder.application_name or 'no name'})" if holder else ""
            raise MigrationLocked(
                f"another migration is running{who}; waited {wait:g}s — retry later or raise --wait"
            )
        time.sleep(min(LOCK_POLL_SECONDS, remaining))
    try:
        yield
    finally:
        connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()


class LockTimeout(CideryError):
    """A revision could not take its locks within ``lock_timeout``; nothing was changed."""

    code = "lock_timeout"


RetryNotice = Callable[[int, float, str], None]


@dataclass(frozen=True)
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
    with engine.connect() as conn, migration_lock(conn, options.wait), _alembic_errors():
        starts.append(current_revision(conn))
        conn.commit()
        if action == "downgrade" and current_revision(conn) is None:
            raise RevisionError("the database has no revision applied: nothing to roll back")
        _check_direction(action, starts[-1], target, options.script_location)
        own_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        conn.commit()
        cfg = make_config(
            connection=conn,
            timeouts=options.timeouts,
            allow_data_loss=options.allow_data_loss,
            script_location=options.script_location,
        )
        try:
            if action == "upgrade":
                command.upgrade(cfg, target)
            else:
                command.downgrade(cfg, target)
        except OperationalError as exc:
            if not isinstance(exc.orig, LockNotAvailable):
                raise
            conn.rollback()
            at = current_revision(conn) or "base"
            timeout = (options.timeouts or Timeouts()).lock_timeout
            raise LockTimeout(
                f"{action} stopped at revision {at}: the next revision could not take its "
                f"locks within lock_timeout={timeout} and was rolled back; "
                f"{_blockers(engine, own_pid)}"
            ) from exc
        conn.commit()
        return current_revision(conn)


def _check_direction(action: str, current: str | None, target: str, script_location: Path) -> None:
    """Refuse an upgrade to an older revision and a rollback to a newer one, by name."""
    if target in ("head", "heads", "base") or target[0] in "+-":
        return
    order = [None, *(s.revision for s in revisions_in_order(script_directory(script_location)))]
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
    order: list[str | None] = [None]
    order += [s.revision for s in revisions_in_order(script_directory(script_location))]
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
            if options.on_retry is not None:
                options.on_retry(attempt + 1, delay, str(exc))
            time.sleep(delay)
    raise AssertionError("unreachable")


def upgrade(
    engine: Engine,
    target: str = "head",
    timeouts: Timeouts | None = None,
    wait: float = DEFAULT_LOCK_WAIT,
    *,
    retries: int = 0,
    on_retry: RetryNotice | None = None,
    script_location: Path = MIGRATIONS_DIR,
) -> list[str]:
    """Apply revisions up to ``target``; returns those this call applied, oldest first."""
    options = RunOptions(timeouts, False, wait, retries, on_retry, script_location)
    return _run(engine, "upgrade", resolve(target, script_location), options)


def downgrade(
    engine: Engine,
    target: str = "-1",
    timeouts: Timeouts | None = None,
    allow_data_loss: bool = False,
    wait: float = DEFAULT_LOCK_WAIT,
    *,
    retries: int = 0,
    on_retry: RetryNotice | None = None,
    script_location: Path = MIGRATIONS_DIR,
) -> list[str]:
    """Undo revisions; tables a downgrade drops keep their rows in an archive schema
    unless ``allow_data_loss`` is set."""
    options = RunOptions(timeouts, allow_data_loss, wait, retries, on_retry, script_location)
    return _run(engine, "downgrade", resolve(target, script_location), options)


def rebuild(engine: Engine, timeouts: Timeouts | None = None) -> None:
    """Drop every cidery object, archived rows included, and migrate from empty."""
    with engine.connect() as conn:
        at_base = current_revision(conn) is None
    if not at_base:
        downgrade(engine, "base", timeouts, allow_data_loss=True)
    with engine.begin() as conn:
        for schema in archive_schemas(conn):
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    upgrade(engine, "head", timeouts)


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


def pending(connection: Connection) -> list[Script]:
    """Revisions the database has not applied yet, oldest first."""
    current = current_revision(connection)
    scripts = revisions_in_order()
    if current is None:
        return scripts
    ids = [s.revision for s in scripts]
    if current not in ids:
        raise RevisionError(f"the database is at revision {current!r}, which this code lacks")
    return scripts[ids.index(current) + 1 :]


def offline_sql(range_: str, timeouts: Timeouts | None = None) -> str:
    """The SQL for ``FROM:TO`` (either may be ``base`` or ``head``), as a DBA would apply it."""
    if ":" not in range_:
        raise RevisionError(f"expected FROM:TO, e.g. 0001:0002 or 0002:0001, got {range_!r}")
    start, end = (part.strip() or "base" for part in range_.split(":", 1))
    start, end = resolve(start), resolve(end)
    order = ["base", *(s.revision for s in revisions_in_order())]
    position = {rev: i for i, rev in enumerate(order)}
    position["head"] = position["heads"] = len(order) - 1
    if start not in position or end not in position:
        raise RevisionError("relative revisions are not allowed in an SQL range")
    buffer = io.StringIO()
    cfg = make_config(output=buffer, timeouts=timeouts, url="postgresql+psycopg://")
    with _alembic_errors():
        if position[end] > position[start]:
            command.upgrade(cfg, f"{start}:{end}" if start != "base" else end, sql=True)
        elif position[end] < position[start]:
            command.downgrade(cfg, f"{start}:{end}", sql=True)
        else:
            raise RevisionError(f"{range_!r} is an empty range")
    return buffer.getvalue()


def sql_file_paths(script: Script) -> tuple[Path, Path]:
    stem = Path(script.path).stem
    return SQL_DIR / f"{stem}.upgrade.sql", SQL_DIR / f"{stem}.downgrade.sql"


def expected_sql(script: Script) -> tuple[str, str]:
    """The committed SQL a revision should have, generated with the default timeouts."""
    parent = script.down_revision
    if isinstance(parent, tuple):
        raise RevisionError(f"revision {script.revision} has several parents")
    start = parent or "base"
    return (
        offline_sql(f"{start}:{script.revision}"),
        offline_sql(f"{script.revision}:{start}"),
    )


def write_sql_files(script: Script) -> tuple[Path, Path]:
    up_path, down_path = sql_file_paths(script)
    up, down = expected_sql(script)
    SQL_DIR.mkdir(exist_ok=True)
    up_path.write_text(up)
    down_path.write_text(down)
    return up_path, down_path


def next_revision_id() -> str:
    ids = [int(s.revision) for s in revisions_in_order() if _REV_ID.match(s.revision)]
    return f"{max(ids, default=0) + 1:04d}"


def generate(engine: Engine, message: str) -> Script:
    """Autogenerate the next revision from the models and write its SQL files."""
    if not message.strip():
        raise RevisionError("a revision needs a message, e.g. -m 'add press runs'")
    with engine.connect() as conn:
        behind = pending(conn)
        if behind:
            raise RevisionError(
                f"the database is not at head ({len(behind)} pending); run `cidery db migrate`"
            )
        cfg = make_config(connection=conn)
        with _alembic_errors():
            result = command.revision(
                cfg, message=message, autogenerate=True, rev_id=next_revision_id()
            )
    if not isinstance(result, Script):
        raise RevisionError("autogenerate produced no single revision")
    write_sql_files(result)
    return result


def differences(connection: Connection) -> list[str]:
    """Every difference between the live schema and the models, one line each."""
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_name": bookkeeping.include_name,
        },
    )
    with warnings.catch_warnings():
        # Alembic cannot compare generated-column expressions (PostgreSQL
        # rewrites them) and says so on every run; it is not a difference.
        warnings.filterwarnings("ignore", message="Computed default on")
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
