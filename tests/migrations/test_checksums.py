"""Every applied revision leaves the checksum of its file; `cidery db check` verifies them.

Recorded online and by the offline SQL a DBA applies, forgotten on downgrade;
an edited file, a wrong recorded checksum and a revision the code lacks are
reported; a database migrated before checksums existed is not an error.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from cidery.db.engine import make_engine
from cidery.db.plain import on_sqlalchemy
from cidery.migrations import bookkeeping, runner, scripts
from cidery.migrations.applied import IGNORED_TABLES
from cidery.migrations.checks import catalog, checksums
from cidery.migrations.status import table_counts
from tests.migrations.test_migrations import _run_like_psql

SCRIPTS = scripts.revisions_in_order()
CIDERY = Path(sys.executable).parent / "cidery"


def _expected() -> dict[str, str]:
    return {s.revision: bookkeeping.file_checksum(s.path) for s in SCRIPTS}


def _recorded(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return checksums.recorded(conn)


def _copy_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(
        scripts.MIGRATIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "sql")
    )
    return target


def _file_in(location: Path, revision: str) -> Path:
    script = next(s for s in SCRIPTS if s.revision == revision)
    return location / "versions" / Path(script.path).name


def test_upgrade_records_each_revision_and_downgrade_forgets_it(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        runner.upgrade(engine, "head")
        assert _recorded(engine) == _expected()
        with engine.connect() as conn:
            assert checksums.verify(conn) == []
            assert checksums.unrecorded(conn) == []
            applied = conn.execute(
                text(f"SELECT count(*) FROM {bookkeeping.TABLE} WHERE applied_at <= now()")
            ).scalar_one()
        assert applied == len(SCRIPTS)

        runner.downgrade(engine, "-1")
        expected = _expected()
        del expected[SCRIPTS[-1].revision]
        assert _recorded(engine) == expected

        runner.downgrade(engine, "base")
        assert _recorded(engine) == {}
    finally:
        engine.dispose()


def test_database_migrated_before_checksums_records_from_then_on(empty_url: str) -> None:
    """No table, or no row for the older revisions: informational, never a problem."""
    engine = make_engine(empty_url)
    try:
        runner.upgrade(engine, SCRIPTS[0].revision)
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {bookkeeping.TABLE}"))
        with engine.connect() as conn:
            assert checksums.recorded(conn) == {}
            assert checksums.verify(conn) == []
            assert checksums.unrecorded(conn) == [SCRIPTS[0].revision]

        runner.upgrade(engine, "head")
        later = {s.revision for s in SCRIPTS[1:]}
        assert set(_recorded(engine)) == later
        with engine.connect() as conn:
            assert checksums.verify(conn) == []
            assert checksums.unrecorded(conn) == [SCRIPTS[0].revision]
    finally:
        engine.dispose()


def test_migrated_database_verifies(connection: Connection) -> None:
    assert checksums.recorded(connection) == _expected()
    assert checksums.verify(connection) == []
    assert checksums.unrecorded(connection) == []


def test_a_revision_file_edited_after_it_was_applied_is_reported(
    connection: Connection, tmp_path: Path
) -> None:
    location = _copy_migrations(tmp_path)
    revision = SCRIPTS[-1].revision
    path = _file_in(location, revision)
    assert checksums.verify(connection, location) == [], "an unedited copy verifies"

    path.write_text(path.read_text() + "\n# edited after it was applied\n")
    before, now = _expected()[revision], bookkeeping.file_checksum(path)
    assert checksums.verify(connection, location) == [
        f"revision {revision} was edited after it was applied "
        f"(recorded {before[:12]}…, file now {now[:12]}…)"
    ]


def test_line_endings_do_not_change_a_checksum(connection: Connection, tmp_path: Path) -> None:
    location = _copy_migrations(tmp_path)
    for script in SCRIPTS:
        path = _file_in(location, script.revision)
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert checksums.verify(connection, location) == []


def test_a_wrong_recorded_checksum_is_reported(connection: Connection) -> None:
    revision = SCRIPTS[0].revision
    connection.execute(
        text(f"UPDATE {bookkeeping.TABLE} SET checksum = repeat('0', 64) WHERE revision = :r"),
        {"r": revision},
    )
    assert checksums.verify(connection) == [
        f"revision {revision} was edited after it was applied "
        f"(recorded 000000000000…, file now {_expected()[revision][:12]}…)"
    ]


def test_an_applied_revision_the_code_lacks_is_reported(connection: Connection) -> None:
    connection.execute(
        text(f"INSERT INTO {bookkeeping.TABLE} (revision, checksum) VALUES ('0099', 'abc')")
    )
    connection.execute(text("UPDATE alembic_version SET version_num = '0098'"))
    assert checksums.verify(connection) == [
        "revision 0098 is applied but no file in this code has it",
        "revision 0099 is applied but no file in this code has it",
    ]


def test_a_missing_table_is_not_an_error(connection: Connection) -> None:
    connection.execute(text(f"DROP TABLE {bookkeeping.TABLE}"))
    assert checksums.verify(connection) == []
    assert checksums.unrecorded(connection) == [s.revision for s in SCRIPTS]


def test_offline_sql_records_and_forgets_checksums() -> None:
    up, down = scripts.offline_sql("base:head"), scripts.offline_sql("head:base")
    for revision, checksum in _expected().items():
        assert bookkeeping.record_sql(revision, checksum) + ";" in up
        assert bookkeeping.forget_sql(revision) + ";" in down
    assert up.count(bookkeeping.CREATE_TABLE + ";") == len(SCRIPTS)
    # Inside each revision's transaction: after its version update, before its COMMIT.
    last = SCRIPTS[-1].revision
    section = up.split(f"-- Running upgrade {SCRIPTS[-1].down_revision or ''} -> {last}")[1]
    insert = section.index(bookkeeping.record_sql(last, _expected()[last]))
    update = section.index("UPDATE alembic_version")
    assert update < insert < section.rindex("COMMIT;")
    assert "COMMIT;" not in section[update:insert]


def test_committed_sql_applied_by_hand_records_checksums(empty_url: str) -> None:
    for script in SCRIPTS:
        _run_like_psql(empty_url, scripts.sql_file_paths(script)[0].read_text())
    engine = make_engine(empty_url)
    try:
        assert _recorded(engine) == _expected()
        with engine.connect() as conn:
            assert checksums.verify(conn) == []
        _run_like_psql(empty_url, scripts.sql_file_paths(SCRIPTS[-1])[1].read_text())
        assert set(_recorded(engine)) == {s.revision for s in SCRIPTS[:-1]}
    finally:
        engine.dispose()


def test_the_checksum_table_is_bookkeeping(connection: Connection) -> None:
    """Not in snapshots, status counts or autogenerate, like alembic_version."""
    assert bookkeeping.TABLE in IGNORED_TABLES
    assert bookkeeping.TABLE not in catalog.schema_snapshot(connection)["tables"]
    counted = {count.name for count in table_counts(on_sqlalchemy(connection))}
    assert bookkeeping.TABLE not in counted
    assert "press_runs" in counted
    assert not bookkeeping.include_name(bookkeeping.TABLE, "table", {})
    assert bookkeeping.include_name("vendors", "table", {})


def test_cli_check_reports_an_edited_revision(
    clone_url: str, tmp_path: Path, cli_env: Callable[..., dict[str, str]]
) -> None:
    """Assumes `cidery db check` prints each line of checksums.verify as "- <line>"."""
    engine = make_engine(clone_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"UPDATE {bookkeeping.TABLE} SET checksum = repeat('0', 64) WHERE revision = :r"
                ),
                {"r": SCRIPTS[0].revision},
            )
    finally:
        engine.dispose()
    env = cli_env(clone_url)
    result = subprocess.run(
        [str(CIDERY), "db", "check"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result
    expected = (
        f"- revision {SCRIPTS[0].revision} was edited after it was applied "
        f"(recorded 000000000000…, file now {_expected()[SCRIPTS[0].revision][:12]}…)"
    )
    # Rich may wrap a long line: compare with the whitespace folded.
    assert expected in " ".join(result.stdout.split()), result
