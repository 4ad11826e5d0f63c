"""Migrating a live database safely: one runner at a time, bounded lock waits, atomic revisions.

* Two ``cidery db migrate`` processes started together apply every revision
  exactly once; a runner that cannot get the migration lock in ``--wait``
  seconds gives up with one ``error:`` line naming the holder, and changes nothing.
* A revision that cannot take its locks within ``lock_timeout`` stops with
  :class:`~cidery.migrations.errors.LockTimeout` naming the blocking session, and leaves
  the database at the revision before: only a valid index its autocommit step
  built can remain, and the message says so (running again is safe); ``retries``
  gets through once the blocker is gone.
* No failed run leaves an INVALID index behind (an interrupted
  ``CREATE INDEX CONCURRENTLY``): the runner drops it after the failure, or at the
  start of the next run, and never one that is being built.
* A revision that fails half-way leaves nothing behind; one with a
  ``CREATE INDEX CONCURRENTLY`` step can be run again after a failure.
* The offline SQL carries the same timeouts and autocommit steps, in order.

Every wait here is on a condition (a lock held by the test itself, sessions
seen asking for the migration lock in ``pg_stat_activity``), never on the
clock; the only time assertions are generous upper bounds.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from cidery.db.engine import make_engine
from cidery.migrations import errors, runner, scripts
from cidery.migrations.checks.catalog import is_empty, schema_snapshot, snapshot_differences
from cidery.models import Base
from cidery.sample.seed import seed

CIDERY = Path(sys.executable).parent / "cidery"
REVISIONS = [script.revision for script in scripts.revisions_in_order()]
HEAD = REVISIONS[-1]
# 0002 builds this index CONCURRENTLY in an autocommit step before its transaction.
CONCURRENT_INDEX_0002 = "purchase_items_id_apple_variety_id_key"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def empty_engine(empty_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_url)
    yield engine
    engine.dispose()


@pytest.fixture
def holder(empty_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A second session on the test's database, for holding locks the migration must meet."""
    with psycopg.connect(_libpq(empty_url)) as conn:
        yield conn


@pytest.fixture
def holder_of() -> Iterator[Callable[[str], psycopg.Connection[Any]]]:
    """Sessions on any database, closed after the test."""
    opened: list[psycopg.Connection[Any]] = []

    def connect(url: str) -> psycopg.Connection[Any]:
        opened.append(psycopg.connect(_libpq(url)))
        return opened[-1]

    yield connect
    for conn in opened:
        conn.close()


def _snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return schema_snapshot(conn)


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return scripts.current_revision(conn)


def _assert_same(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    differences = snapshot_differences(expected, actual)
    assert not differences, "schemas differ:\n" + "\n".join(differences)


def _seed(engine: Engine) -> None:
    with Session(engine) as session:
        seed(session)
        session.commit()


def _cidery(*args: str, url: str) -> subprocess.Popen[str]:
    # The builder behind the cli_env fixture, which a plain helper cannot ask for.
    from tests.environment import cli_environment

    # With DATABASE_URL set no embedded server is used; /dev/null makes sure of it.
    env = cli_environment(url, Path(os.devnull), COLUMNS="500")
    return subprocess.Popen(
        [str(CIDERY), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _runners_at_the_lock(conn: psycopg.Connection[Any]) -> int:
    """Other sessions of this database that have asked for the migration lock (held here).

    Blocked in ``pg_advisory_lock``, a session is waiting on the advisory lock;
    polling ``pg_try_advisory_lock``, its last statement is that call or the
    COMMIT ending the attempt. Before the lock, a runner's sessions end their
    statements with the pool's ROLLBACK, so neither matches.
    """
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() "
        "AND (wait_event = 'advisory' OR query LIKE '%advisory_lock%' OR query = 'COMMIT')"
    ).fetchone()
    assert row is not None
    return int(row[0])


def _start_runners_behind_the_lock(
    holder: psycopg.Connection[Any], *args: str, url: str
) -> list[subprocess.Popen[str]]:
    """Two ``cidery db migrate`` runners, released together once both wait for the lock.

    The test holds the migration lock until both runners have asked for it, so
    they overlap whatever the machine's speed. Polling the catalog is bounded
    only to turn a hang into a failure; a runner that finishes before the lock is
    released did not wait for it, and fails the test at once.
    """
    holder.execute("SELECT pg_advisory_lock(%s)", (runner.MIGRATION_LOCK_KEY,))
    runners = [_cidery("db", "migrate", *args, url=url) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while _runners_at_the_lock(holder) < 2:
            for process in runners:
                if process.poll() is not None:
                    out, err = process.communicate()
                    pytest.fail(f"a runner did not wait for the lock the test holds: {out}{err}")
            assert time.monotonic() < deadline, "the runners never reached the lock"
            time.sleep(0.02)
    finally:
        holder.execute("SELECT pg_advisory_unlock(%s)", (runner.MIGRATION_LOCK_KEY,))
    return runners


# --- one runner at a time -------------------------------------------------------------

# Every DDL command, with the session that ran it: a revision applied twice would
# create its objects twice, or from two sessions.
_DDL_LOG = """
CREATE SCHEMA migration_probe;
CREATE TABLE migration_probe.ddl (pid int, command_tag text, object_identity text);
CREATE FUNCTION migration_probe.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO migration_probe.ddl
    SELECT pg_backend_pid(), command_tag, object_identity
    FROM pg_event_trigger_ddl_commands();
END
$$;
CREATE EVENT TRIGGER migration_probe_log_ddl ON ddl_command_end
    EXECUTE FUNCTION migration_probe.log_ddl();
"""


def _is_superuser(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


def test_two_migrate_processes_apply_each_revision_once(
    empty_url: str, empty_engine: Engine, holder: psycopg.Connection[Any]
) -> None:
    """Both runners queue on the lock (the test holds it until both are waiting), then
    one applies every revision and the other finds nothing left to do.

    The runner that waits must not hold a snapshot while it waits: 0002's
    ``CREATE INDEX CONCURRENTLY`` waits for every older snapshot to go, so a
    runner blocked in ``pg_advisory_lock`` and the one migrating deadlock, and
    PostgreSQL fails one of them ("deadlock detected").
    """
    holder.autocommit = True
    logging_ddl = _is_superuser(holder)  # event triggers need a superuser
    if logging_ddl:
        holder.execute(_DDL_LOG)
    runners = _start_runners_behind_the_lock(holder, url=empty_url)
    results = [(process, *process.communicate(timeout=300)) for process in runners]

    for process, out, err in results:
        assert process.returncode == 0, err
        assert "Traceback" not in out + err
    assert _revision(empty_engine) == HEAD
    assert set(_snapshot(empty_engine)["tables"]) == set(Base.metadata.tables)
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    if logging_ddl:
        with empty_engine.connect() as conn:
            log = conn.execute(
                text("SELECT pid, command_tag, object_identity FROM migration_probe.ddl")
            ).all()
        # A later revision may replace an object (0003 replaces a trigger of 0001); a
        # table, never: one created twice was created by both runners.
        created = Counter(row.object_identity for row in log if row.command_tag == "CREATE TABLE")
        assert {f"public.{table}" for table in Base.metadata.tables} <= set(created)
        assert [name for name, times in created.items() if times > 1] == [], "created twice"
        assert len({row.pid for row in log}) == 1, "one session ran every revision"
    for _runner, out, _err in results:
        assert f"database at revision {HEAD}" in out


def test_the_runner_that_waited_reports_nothing_applied(
    empty_url: str, holder: psycopg.Connection[Any]
) -> None:
    """What each runner says it did: one applied the revision, the other none.

    Both migrate to 0001 only (no concurrent index build), so this test checks the
    report alone.
    """
    holder.autocommit = True
    runners = _start_runners_behind_the_lock(holder, "0001", url=empty_url)
    results = [process.communicate(timeout=300) for process in runners]

    assert [process.returncode for process in runners] == [0, 0], results
    reports = sorted(
        line for out, _err in results for line in out.splitlines() if "applied" in line
    )
    assert reports == [
        "database at revision 0001 (0 revision(s) applied)",
        "database at revision 0001 (1 revision(s) applied)",
    ], "the runner that waited must not claim the other's work"


def test_a_runner_that_cannot_get_the_lock_gives_up_naming_the_holder(
    empty_url: str, empty_engine: Engine, holder: psycopg.Connection[Any]
) -> None:
    holder.autocommit = True
    holder.execute("SELECT pg_advisory_lock(%s)", (runner.MIGRATION_LOCK_KEY,))
    holder_pid = holder.info.backend_pid

    started = time.monotonic()
    process = _cidery("db", "migrate", "--wait", "0.5", url=empty_url)
    out, err = process.communicate(timeout=120)
    elapsed = time.monotonic() - started

    assert process.returncode == 1, (out, err)
    assert "Traceback" not in out + err
    error_lines = [line for line in (out + err).splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, (out, err)
    assert f"pid {holder_pid}" in error_lines[0]
    assert "another migration is running" in error_lines[0]
    assert elapsed < 60, "the runner gives up after --wait, not the default 120 s"
    # Nothing was applied: not even alembic's bookkeeping table.
    assert _revision(empty_engine) is None
    assert is_empty(_snapshot(empty_engine))
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None


def test_waiting_for_the_migration_lock_is_logged_once(
    empty_engine: Engine, holder: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    """One INFO line when the wait starts, naming the holder; not one per poll."""
    holder.autocommit = True
    holder.execute("SELECT pg_advisory_lock(%s)", (runner.MIGRATION_LOCK_KEY,))

    with (
        caplog.at_level(logging.INFO, logger=runner.__name__),
        pytest.raises(errors.MigrationLocked),
    ):
        runner.upgrade(empty_engine, "head", wait=0.3)

    waits = [r.getMessage() for r in caplog.records if "migration lock" in r.getMessage()]
    assert len(waits) == 1, waits
    assert waits[0].startswith("waiting up to 0.3s for the migration lock on "), waits
    assert f"pid {holder.info.backend_pid}" in waits[0]


def _index_is_valid(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
                {"name": name},
            ).scalar_one()
        )


def _index_exists(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None


def _invalid_indexes(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE NOT i.indisvalid AND c.relnamespace = current_schema()::regnamespace"
                )
            ).scalars()
        )


# --- lock timeouts ---------------------------------------------------------------------


def test_a_revision_blocked_by_a_writer_times_out_then_retries_through(
    empty_engine: Engine,
    holder: psycopg.Connection[Any],
    connection: Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """0002 needs a lock on ``vendors`` (its press_runs foreign key) that an open
    transaction's UPDATE conflicts with."""
    runner.upgrade(empty_engine, "0001")
    _seed(empty_engine)  # 0001's tables hold rows, as in production
    before = _snapshot(empty_engine)

    holder.execute("UPDATE vendors SET is_active = is_active WHERE name = 'Bramble Creek Farm'")
    holder_pid = holder.info.backend_pid  # its transaction stays open

    started = time.monotonic()
    with pytest.raises(errors.LockTimeout) as raised:
        runner.upgrade(
            empty_engine,
            "head",
            timeouts=scripts.Timeouts(lock_timeout="200ms", statement_timeout="1min"),
        )
    assert time.monotonic() - started < 30, "gave up at lock_timeout, well under 30 s"
    message = str(raised.value)
    assert f"pid {holder_pid}" in message
    assert "vendors" in message
    assert "upgrade stopped at revision 0001: revision 0002 could not take its locks" in message
    # The autocommit step ran before the transaction that timed out, and its index
    # stays: the message must not claim a clean rollback.
    assert (
        f"rolled back, but not its autocommit step: index {CONCURRENT_INDEX_0002} remains "
        "(valid: the next run keeps it)"
    ) in message

    assert _revision(empty_engine) == "0001"
    after = _snapshot(empty_engine)
    assert set(after["indexes"]) - set(before["indexes"]) == {CONCURRENT_INDEX_0002}
    assert _index_is_valid(empty_engine, CONCURRENT_INDEX_0002)
    after["indexes"].pop(CONCURRENT_INDEX_0002)
    _assert_same(before, after)

    notices: list[tuple[int, float, str]] = []

    def release_blocker(attempt: int, delay: float, reason: str) -> None:
        notices.append((attempt, delay, reason))
        if attempt == 1:
            holder.commit()

    with caplog.at_level(logging.INFO, logger=runner.__name__):
        runner.upgrade(
            empty_engine,
            "head",
            timeouts=scripts.Timeouts(lock_timeout="200ms", statement_timeout="1min"),
            retries=3,
            on_retry=release_blocker,
        )

    assert [(attempt, delay) for attempt, delay, _ in notices] == [(1, 1.0)]
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retry ")]
    assert len(retries) == 1, retries
    assert retries[0].startswith("retry 1 of 3 in 1s: upgrade stopped at revision 0001")
    assert f"pid {holder_pid}" in notices[0][2]
    assert _revision(empty_engine) == HEAD
    # Exactly the schema every other database at head has: the index built on the
    # first attempt was kept and attached, not duplicated.
    _assert_same(schema_snapshot(connection), _snapshot(empty_engine))
    assert _index_is_valid(empty_engine, CONCURRENT_INDEX_0002)


def test_a_concurrent_build_interrupted_by_a_lock_timeout_leaves_no_invalid_index(
    empty_engine: Engine,
    holder: psycopg.Connection[Any],
    connection: Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """0002's ``CREATE INDEX CONCURRENTLY`` registers its index, builds it, then waits
    for every transaction holding an older snapshot before it may mark it valid. A
    REPEATABLE READ transaction left open holds one: the build times out and leaves
    the index INVALID. The runner drops it (``DROP INDEX CONCURRENTLY`` does not wait
    for snapshots), says so instead of "rolled back", and the next migrate works."""
    timeouts = scripts.Timeouts(lock_timeout="200ms", statement_timeout="1min")
    runner.upgrade(empty_engine, "0001")
    _seed(empty_engine)
    before = _snapshot(empty_engine)

    holder.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    holder.execute("SELECT count(*) FROM vendors")  # takes the snapshot; stays open

    with caplog.at_level(logging.WARNING), pytest.raises(errors.LockTimeout) as raised:
        runner.upgrade(empty_engine, "head", timeouts=timeouts)

    message = str(raised.value)
    assert "upgrade stopped at revision 0001: revision 0002 could not take its locks" in message
    assert (
        f"rolled back, but not its autocommit step: the invalid index {CONCURRENT_INDEX_0002} "
        "an interrupted CREATE INDEX CONCURRENTLY left was dropped"
    ) in message
    assert f"pid {holder.info.backend_pid}" in message
    assert _revision(empty_engine) == "0001"
    assert _invalid_indexes(empty_engine) == []
    _assert_same(before, _snapshot(empty_engine))

    holder.commit()
    runner.upgrade(empty_engine, "head", timeouts=timeouts)

    assert _revision(empty_engine) == HEAD
    assert _invalid_indexes(empty_engine) == []
    _assert_same(schema_snapshot(connection), _snapshot(empty_engine))


def _leave_an_invalid_index(engine: Engine, name: str) -> None:
    """What an interrupted migration leaves: a concurrent unique build that failed."""
    with (
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        pytest.raises(IntegrityError),
    ):
        conn.execute(text(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON users (role)"))


def test_the_next_run_drops_an_invalid_index_left_before_it(
    clone_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A run killed during a concurrent build never cleaned up after itself: the next
    migrate (even with nothing to apply) drops the invalid index first, and says so."""
    engine = make_engine(clone_url)
    try:
        _seed(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (email, name, password_hash, role) "
                    "VALUES ('second.viewer@cidery.example', 'Second Viewer', 'x', 'viewer')"
                )
            )
        _leave_an_invalid_index(engine, "users_probe_role_key")
        assert _invalid_indexes(engine) == ["users_probe_role_key"]

        with caplog.at_level(logging.WARNING, logger=runner.__name__):
            assert runner.upgrade(engine, "head") == []

        assert _invalid_indexes(engine) == []
        assert not _index_exists(engine, "users_probe_role_key")
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings == [
            "dropped the invalid index users_probe_role_key an interrupted "
            "CREATE INDEX CONCURRENTLY left"
        ]
    finally:
        engine.dispose()


def test_an_index_being_built_concurrently_is_not_dropped(
    clone_url: str, holder_of: Callable[[str], psycopg.Connection[Any]]
) -> None:
    """An index under construction is invalid too; the runner leaves it to its builder."""
    engine = make_engine(clone_url)
    snapshot = holder_of(clone_url)
    builder = holder_of(clone_url)
    builder.autocommit = True
    snapshot.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    snapshot.execute("SELECT count(*) FROM vendors")  # the build waits for this snapshot
    with ThreadPoolExecutor(max_workers=1) as pool:
        build = pool.submit(
            builder.execute, "CREATE INDEX CONCURRENTLY vendors_probe_name_idx ON vendors (name)"
        )
        try:
            deadline = time.monotonic() + 60
            while "vendors_probe_name_idx" not in _invalid_indexes(engine):
                assert not build.done(), build.exception()
                assert time.monotonic() < deadline, "the build never registered its index"
                time.sleep(0.02)

            runner.upgrade(engine, "head")

            assert _index_exists(engine, "vendors_probe_name_idx")
        finally:
            snapshot.commit()
            build.result(timeout=60)
            engine.dispose()
    assert _index_is_valid(engine, "vendors_probe_name_idx")


# --- atomic revisions, and re-running after an autocommit step -----------------------------


def _scripts_copy(tmp_path: Path, revision_source: str) -> tuple[Path, str, str]:
    """The package's migrations directory copied, plus one revision after its head.

    ``revision_source`` is the body of the revision module after its header;
    returns the directory, the new revision id and its parent.
    """
    location = tmp_path / "migrations"
    shutil.copytree(scripts.MIGRATIONS_DIR, location, ignore=shutil.ignore_patterns("__pycache__"))
    parent, revision = scripts.head(), scripts.next_revision_id()
    header = (
        f'"""probe revision\n\nRevision ID: {revision}\nRevises: {parent}\n"""\n\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        "from cidery.migrations import ops\n\n"
        f"revision = {revision!r}\ndown_revision = {parent!r}\n"
        "branch_labels = None\ndepends_on = None\n\n"
    )
    (location / "versions" / f"{revision}_probe.py").write_text(header + revision_source)
    return location, revision, parent


FAILS_HALF_WAY = """
def upgrade() -> None:
    ops.set_timeouts()
    op.create_table("probe_notes", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("vendors", sa.Column("probe_rating", sa.Integer))
    op.execute("UPDATE vendors SET probe_rating = 3")
    op.execute("SELECT 1/0")


def downgrade() -> None:
    op.drop_column("vendors", "probe_rating")
    op.drop_table("probe_notes")
"""


# A table's row count and an md5 of every row as text.
FINGERPRINT = "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {} t"


def _fingerprint(engine: Engine, table: str) -> tuple[Any, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(text(FINGERPRINT.format(table))).one())


def test_a_revision_that_fails_half_way_leaves_nothing_behind(
    tmp_path: Path, clone_url: str
) -> None:
    location, _revision_id, parent = _scripts_copy(tmp_path, FAILS_HALF_WAY)
    engine = make_engine(clone_url)
    try:
        _seed(engine)
        before = _snapshot(engine)
        vendors = _fingerprint(engine, "vendors")

        with pytest.raises(DBAPIError, match="division by zero"):
            runner.upgrade(engine, "head", script_location=location)

        assert _revision(engine) == parent
        # No probe_notes table, no vendors.probe_rating column, no updated rows.
        _assert_same(before, _snapshot(engine))
        assert _fingerprint(engine, "vendors") == vendors
    finally:
        engine.dispose()


PROBE_INDEX = "vendors_probe_created_at_idx"
PROBE_CHECK = "vendors_probe_name_trimmed_check"

CONCURRENT_THEN_TRANSACTIONAL = f"""
def upgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        ops.create_index_concurrently({PROBE_INDEX!r}, "vendors", ["created_at"])
    # Validated against the rows: fails while a vendor's name has outer spaces.
    op.execute("ALTER TABLE vendors ADD CONSTRAINT {PROBE_CHECK} CHECK (name = btrim(name))")


def downgrade() -> None:
    ops.set_timeouts()
    op.execute("ALTER TABLE vendors DROP CONSTRAINT {PROBE_CHECK}")
    op.execute("DROP INDEX {PROBE_INDEX}")
"""


def _statements(sql: str) -> list[str]:
    """The statements of an offline script, comments left out."""
    return [s.strip() for s in re.findall(r"^(?!--)\S.*?;$", sql, re.MULTILINE | re.DOTALL)]


def _statement_positions(sql: str, patterns: list[str]) -> list[int]:
    """Where each pattern first matches a statement, each after the one before."""
    statements = _statements(sql)
    positions: list[int] = []
    start = 0
    for pattern in patterns:
        found = next(
            (i for i in range(start, len(statements)) if re.match(pattern, statements[i])), None
        )
        assert found is not None, f"no statement matching {pattern!r} after #{start}:\n{sql}"
        positions.append(found)
        start = found + 1
    return positions


def test_offline_sql_of_an_autocommit_step_commits_around_it(tmp_path: Path) -> None:
    location, revision, parent = _scripts_copy(tmp_path, CONCURRENT_THEN_TRANSACTIONAL)
    buffer = io.StringIO()
    config = scripts.make_config(
        script_location=location, output=buffer, url="postgresql+psycopg://"
    )
    command.upgrade(config, f"{parent}:{revision}", sql=True)
    sql = buffer.getvalue()
    section = sql.split(f"-- Running upgrade {parent} -> {revision}", 1)[1]

    commit, build, begin, timeout, check = _statement_positions(
        section,
        [
            r"COMMIT;",
            rf"CREATE INDEX CONCURRENTLY IF NOT EXISTS {PROBE_INDEX} ON vendors",
            r"BEGIN;",
            r"SET LOCAL lock_timeout = ",
            rf"ALTER TABLE vendors ADD CONSTRAINT {PROBE_CHECK}",
        ],
    )
    assert commit < build < begin < timeout < check
    assert "BEGIN;" not in _statements(section)[commit:build], (
        "the build runs outside a transaction"
    )
    assert begin + 1 == timeout, "the transaction after the step bounds its lock waits first"


def test_a_revision_with_a_concurrent_index_runs_again_after_a_failure(
    tmp_path: Path, clone_url: str
) -> None:
    location, revision, parent = _scripts_copy(tmp_path, CONCURRENT_THEN_TRANSACTIONAL)
    engine = make_engine(clone_url)
    try:
        _seed(engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO vendors (name) VALUES ('  Padded Name Orchard ')"))
        before = _snapshot(engine)

        with pytest.raises(IntegrityError, match=PROBE_CHECK):
            runner.upgrade(engine, "head", script_location=location)

        # The transactional part rolled back; the index the autocommit step built stays.
        assert _revision(engine) == parent
        after_failure = _snapshot(engine)
        assert set(after_failure["indexes"]) - set(before["indexes"]) == {PROBE_INDEX}
        after_failure["indexes"].pop(PROBE_INDEX)
        _assert_same(before, after_failure)

        with engine.begin() as conn:
            conn.execute(text("UPDATE vendors SET name = btrim(name) WHERE name <> btrim(name)"))
        runner.upgrade(engine, "head", script_location=location)

        assert _revision(engine) == revision
        with engine.connect() as conn:
            indexes = conn.execute(
                text(
                    "SELECT c.relname, i.indisvalid FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indrelid = 'vendors'::regclass AND c.relname LIKE 'vendors_probe%'"
                )
            ).all()
            assert [tuple(row) for row in indexes] == [(PROBE_INDEX, True)]
            assert schema_snapshot(conn)["constraints"][f"vendors.{PROBE_CHECK}"]
    finally:
        engine.dispose()


PROBE_UNIQUE_INDEX = "users_probe_role_key"

FAILING_CONCURRENT_BUILD = f"""
def upgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        ops.create_index_concurrently({PROBE_UNIQUE_INDEX!r}, "users", ["role"], unique=True)


def downgrade() -> None:
    ops.set_timeouts()
    op.execute("DROP INDEX {PROBE_UNIQUE_INDEX}")
"""


def test_a_failed_concurrent_build_is_rebuilt_on_the_next_run(
    tmp_path: Path, clone_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``CREATE UNIQUE INDEX CONCURRENTLY`` that fails leaves an INVALID index, which
    ``IF NOT EXISTS`` alone would keep for good: the runner drops it after the failure
    (and says so), and the next run builds it."""
    location, revision, parent = _scripts_copy(tmp_path, FAILING_CONCURRENT_BUILD)
    engine = make_engine(clone_url)
    try:
        _seed(engine)  # one user of each role
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (email, name, password_hash, role) "
                    "VALUES ('second.viewer@cidery.example', 'Second Viewer', 'x', 'viewer')"
                )
            )

        with (
            caplog.at_level(logging.WARNING, logger=runner.__name__),
            pytest.raises(IntegrityError, match=PROBE_UNIQUE_INDEX),
        ):
            runner.upgrade(engine, "head", script_location=location)

        assert _revision(engine) == parent
        assert _invalid_indexes(engine) == [], "the INVALID index was dropped"
        assert not _index_exists(engine, PROBE_UNIQUE_INDEX)
        assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
            f"upgrade of revision {revision} failed; the invalid index {PROBE_UNIQUE_INDEX} "
            "an interrupted CREATE INDEX CONCURRENTLY left was dropped"
        ]

        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE email = 'second.viewer@cidery.example'"))
        runner.upgrade(engine, "head", script_location=location)

        assert _revision(engine) == revision
        assert _index_is_valid(engine, PROBE_UNIQUE_INDEX) is True
    finally:
        engine.dispose()


# --- the offline SQL of 0002 -----------------------------------------------------------


def test_offline_sql_sets_timeouts_around_the_autocommit_step_of_0002() -> None:
    sql = scripts.offline_sql(
        "0001:0002", scripts.Timeouts(lock_timeout="1234ms", statement_timeout="7min")
    )
    assert sql.lstrip().startswith("BEGIN;")
    section = sql.split("-- Running upgrade 0001 -> 0002", 1)[1]

    positions = _statement_positions(
        section,
        [
            r"SET LOCAL lock_timeout = '1234ms';",
            r"SET LOCAL statement_timeout = '7min';",
            r"COMMIT;",
            r"SET lock_timeout = '1234ms';",
            rf"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {CONCURRENT_INDEX_0002} "
            r"ON purchase_items \(id, apple_variety_id\);",
            r"BEGIN;",
            r"SET LOCAL lock_timeout = '1234ms';",
            r"SET LOCAL statement_timeout = '7min';",
            r"ALTER TABLE purchase_items ADD CONSTRAINT "
            rf"{CONCURRENT_INDEX_0002} UNIQUE USING INDEX {CONCURRENT_INDEX_0002};",
        ],
    )
    first_timeout, _, commit, session_timeout, build, begin, second_timeout, _, attach = positions
    # SET LOCAL lock_timeout is the first statement of the revision's first transaction
    # (the script's BEGIN comes before the section), and of the one after the step.
    assert first_timeout == 0
    assert begin + 1 == second_timeout
    # The concurrent build runs outside any transaction, under a session lock_timeout.
    assert commit < session_timeout < build < begin < attach
    assert "BEGIN;" not in _statements(section)[commit:build]
