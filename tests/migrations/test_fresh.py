"""An empty database built by the committed SQL is the database the runner builds.

``cidery db migrate`` of an empty database applies the committed SQL files
(:mod:`cidery.migrations.fresh`) instead of running Alembic: the schema, the
revision and the checksums must be those of the runner, and any database the
runner is needed for (anything in it, a rollback's archive, a lock held, other
timeouts, a relative target) must be left to it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text

from cidery.config import Settings, libpq_url, load_settings
from cidery.db.engine import make_engine
from cidery.errors import DatabaseUnavailable
from cidery.migrations import fresh, runner, scripts
from cidery.migrations.checks.catalog import schema_snapshot


@pytest.fixture
def settings() -> Settings:
    return replace(load_settings(), lock_timeout="5s", statement_timeout="5min")


def _built(url: str) -> tuple[dict[str, object], list[tuple[str, str]], str | None]:
    """The schema, the recorded checksums and the revision of the database at ``url``."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            sums = conn.execute(
                text("SELECT revision, checksum FROM alembic_version_checksums ORDER BY 1")
            ).all()
            return (
                schema_snapshot(conn),
                [(r.revision, r.checksum) for r in sums],
                scripts.current_revision(conn),
            )
    finally:
        engine.dispose()


@pytest.fixture
def by_runner(create_database: Callable[..., str]) -> str:
    return create_database("cidery_by_runner")


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return scripts.current_revision(conn)
    finally:
        engine.dispose()


def _run(url: str, target: str = "head") -> None:
    engine: Engine = make_engine(url)
    try:
        runner.upgrade(engine, target)
    finally:
        engine.dispose()


@pytest.mark.parametrize("target", ["head", "0004"])
def test_the_committed_sql_builds_what_the_runner_builds(
    empty_url: str, by_runner: str, settings: Settings, target: str
) -> None:
    applied = fresh.upgrade(empty_url, target, settings)
    ids = [f.revision for f in scripts.revision_files()]
    assert applied == ids[: ids.index(scripts.head() if target == "head" else target) + 1]
    _run(by_runner, target)
    schema, sums, revision = _built(empty_url)
    assert revision == applied[-1]
    assert (schema, sums, revision) == _built(by_runner)
    # The runner goes on from where the committed SQL stopped.
    _run(empty_url)
    assert _revision(empty_url) == scripts.head()


def test_a_database_with_anything_in_it_is_left_to_the_runner(
    empty_url: str, settings: Settings
) -> None:
    with psycopg.connect(libpq_url(empty_url), autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('calm')")
    assert fresh.upgrade(empty_url, "head", settings) is None
    assert _revision(empty_url) is None


def test_a_rollbacks_archive_is_left_to_the_runner(empty_url: str, settings: Settings) -> None:
    with psycopg.connect(libpq_url(empty_url), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA cidery_archive_0007")
    assert fresh.upgrade(empty_url, "head", settings) is None


def test_a_database_at_a_revision_is_left_to_the_runner(empty_url: str, settings: Settings) -> None:
    assert fresh.upgrade(empty_url, "0002", settings) == ["0001", "0002"]
    assert fresh.upgrade(empty_url, "head", settings) is None
    assert _revision(empty_url) == "0002"


@pytest.mark.parametrize("target", ["+1", "heads", "0099"])
def test_a_target_the_runner_resolves_is_left_to_it(
    empty_url: str, settings: Settings, target: str
) -> None:
    assert fresh.upgrade(empty_url, target, settings) is None
    assert _revision(empty_url) is None


def test_other_timeouts_are_left_to_the_runner(empty_url: str, settings: Settings) -> None:
    assert fresh.upgrade(empty_url, "head", replace(settings, lock_timeout="1s")) is None
    assert fresh.upgrade(empty_url, "head", replace(settings, statement_timeout="1h")) is None


def test_a_held_migration_lock_is_left_to_the_runner(empty_url: str, settings: Settings) -> None:
    with psycopg.connect(libpq_url(empty_url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (runner.MIGRATION_LOCK_KEY,))
        assert fresh.upgrade(empty_url, "head", settings) is None
    assert fresh.upgrade(empty_url, "head", settings) is not None


def test_a_failing_revision_is_rolled_back_and_named(
    empty_url: str, settings: Settings, tmp_path: Path
) -> None:
    location = tmp_path / "migrations"
    shutil.copytree(scripts.MIGRATIONS_DIR / "versions", location / "versions")
    shutil.copytree(scripts.SQL_DIR, location / "sql")
    (broken,) = (location / "sql").glob("0003_*.upgrade.sql")
    sql = broken.read_text()
    marker = "UPDATE alembic_version"
    broken.write_text(sql.replace(marker, "SELECT 1 / 0;\n\n" + marker, 1))

    with pytest.raises(fresh.MigrationFailed) as failed:
        fresh.upgrade(empty_url, "head", settings, script_location=location)
    assert str(failed.value) == (
        "revision 0003 failed and its transaction was rolled back; the database is at "
        "revision 0002: division by zero"
    )
    assert _revision(empty_url) == "0002"
    # Nothing of 0003's transaction stayed, and the lock was let go.
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            assert (
                conn.execute(text("SELECT to_regproc('press_run_loads_draw_fruit')")).scalar()
                is None
            )
            held = conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            ).scalar_one()
            assert held == 0
    finally:
        engine.dispose()


def test_an_unreachable_database_is_one_line(settings: Settings) -> None:
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:1/none?connect_timeout=2"
    with pytest.raises(DatabaseUnavailable) as failed:
        fresh.upgrade(url, "head", settings)
    message = str(failed.value)
    assert message.startswith("cannot connect to postgresql+psycopg://nobody:***@127.0.0.1:1/none")
    assert "secret" not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1; SELECT 2;", ["SELECT 1;", "SELECT 2;"]),
        ("SELECT ';' AS a; SELECT 'it''s;';", ["SELECT ';' AS a;", "SELECT 'it''s;';"]),
        ('SELECT 1 AS "a;b";', ['SELECT 1 AS "a;b";']),
        ("-- a; comment\nSELECT 1;\n-- the end;\n", ["-- a; comment\nSELECT 1;"]),
        (
            "CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND\n$$;",
            ["CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND\n$$;"],
        ),
        (
            "DO $body$ BEGIN PERFORM '$$;'; END $body$; SELECT 2",
            [
                "DO $body$ BEGIN PERFORM '$$;'; END $body$;",
                "SELECT 2",
            ],
        ),
    ],
)
def test_statements_end_at_semicolons_outside_quotes_and_comments(
    sql: str, expected: list[str]
) -> None:
    assert list(fresh.statements(sql)) == expected
