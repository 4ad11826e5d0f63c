"""The revisions build exactly the schema the models describe, and undo it completely.

Also: the committed SQL files are what the revisions produce today, and that
SQL, run as a DBA would run it, builds the same schema as migrating online.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
from alembic.script import Script
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from cidery.db.engine import make_engine
from cidery.db.server import bundled_binary
from cidery.migrations import comparison, runner, scripts
from cidery.migrations.checks.catalog import (
    declarable_constraints,
    is_empty,
    schema_snapshot,
    snapshot_differences,
)
from cidery.models import Base

REGENERATE = "regenerate the committed SQL with `make sql` and review the diff"

SCRIPTS = scripts.revisions_in_order()


def _snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return schema_snapshot(conn)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _assert_same(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    differences = snapshot_differences(expected, actual)
    assert not differences, "schemas differ:\n" + "\n".join(differences)


def test_upgrade_downgrade_upgrade_round_trip(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        empty = _snapshot(engine)
        assert is_empty(empty), "a new database should hold no objects in public"

        runner.upgrade(engine, "head")
        first = _snapshot(engine)
        # The snapshot must see the schema, or the comparisons below prove nothing.
        assert set(first["tables"]) == set(Base.metadata.tables)
        for section in ("constraints", "indexes", "enums", "functions", "triggers"):
            assert first[section], section

        runner.downgrade(engine, "base")
        with engine.connect() as conn:
            assert scripts.current_revision(conn) is None
            at_base = schema_snapshot(conn)
        # No cidery table, enum type, function, trigger, index or view is left behind.
        _assert_same(empty, at_base)

        runner.upgrade(engine, "head")
        _assert_same(first, _snapshot(engine))
    finally:
        engine.dispose()


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.revision for s in SCRIPTS])
def test_each_revision_downgrades_to_its_parent(script: Script, empty_url: str) -> None:
    """Stepping down one revision restores exactly the schema of its parent."""
    parent = script.down_revision
    assert parent is None or isinstance(parent, str)
    engine = make_engine(empty_url)
    try:
        if parent is not None:
            runner.upgrade(engine, parent)
        before = _snapshot(engine)
        runner.upgrade(engine, script.revision)
        runner.downgrade(engine, parent or "base")
        _assert_same(before, _snapshot(engine))
    finally:
        engine.dispose()


def test_models_and_migrations_agree(connection: Connection) -> None:
    assert scripts.current_revision(connection) == scripts.head()
    differences = comparison.differences(connection)
    assert differences == [], (
        "the models and the migrated schema differ; write a revision "
        "(cidery db generate -m '...') or fix the models:\n" + "\n".join(differences)
    )


def test_models_build_the_migrated_schema(empty_url: str, connection: Connection) -> None:
    """What autogenerate does not compare (CHECK expressions, index predicates and
    expressions, column order) also agrees: the models' own DDL builds the same
    tables, constraints, indexes and enum types as the revisions."""
    engine = make_engine(empty_url)
    try:
        Base.metadata.create_all(engine)
        from_models = _snapshot(engine)
    finally:
        engine.dispose()
    migrated = schema_snapshot(connection)
    parts = ("tables", "indexes", "enums")
    _assert_same(
        {**{k: migrated[k] for k in parts}, "constraints": declarable_constraints(migrated)},
        {**{k: from_models[k] for k in parts}, "constraints": from_models["constraints"]},
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.revision for s in SCRIPTS])
def test_committed_sql_is_current(script: Script) -> None:
    expected_up, expected_down = scripts.expected_sql(script)
    up_path, down_path = scripts.sql_file_paths(script)
    for path, expected in ((up_path, expected_up), (down_path, expected_down)):
        assert path.exists(), f"{path.name} is missing: {REGENERATE}"
        assert path.read_text() == expected, f"{path.name} is out of date: {REGENERATE}"


def test_no_stray_sql_files() -> None:
    """Every committed SQL file belongs to a revision (none is left from a renamed one)."""
    expected = {path for s in SCRIPTS for path in scripts.sql_file_paths(s)}
    committed = set(scripts.SQL_DIR.glob("*.sql"))
    assert committed == expected


def test_exactly_one_head() -> None:
    heads = scripts.script_directory().get_heads()
    assert len(heads) == 1, f"several heads {heads}: merge them (alembic merge) or re-parent"
    assert scripts.head() == heads[0] == SCRIPTS[-1].revision
    assert SCRIPTS[0].down_revision is None


def _run_like_psql(url: str, sql: str) -> None:
    """Apply the script with psql, as a DBA would: statement by statement, stop on error."""
    psql = bundled_binary("psql")
    result = subprocess.run(
        [str(psql), "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", _libpq(url)],
        input=sql,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_offline_sql_builds_the_online_schema(empty_url: str, connection: Connection) -> None:
    online = schema_snapshot(connection)

    _run_like_psql(empty_url, scripts.offline_sql("base:head"))
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            assert scripts.current_revision(conn) == scripts.head()
            _assert_same(online, schema_snapshot(conn))

        _run_like_psql(empty_url, scripts.offline_sql("head:base"))
        with engine.connect() as conn:
            assert scripts.current_revision(conn) is None
            assert is_empty(schema_snapshot(conn))
    finally:
        engine.dispose()


def test_committed_sql_files_apply_in_order(empty_url: str, connection: Connection) -> None:
    """What a DBA runs: each committed upgrade file in turn, then each downgrade file back."""
    for script in SCRIPTS:
        _run_like_psql(empty_url, scripts.sql_file_paths(script)[0].read_text())
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            _assert_same(schema_snapshot(connection), schema_snapshot(conn))
        for script in reversed(SCRIPTS):
            _run_like_psql(empty_url, scripts.sql_file_paths(script)[1].read_text())
        with engine.connect() as conn:
            assert is_empty(schema_snapshot(conn))
    finally:
        engine.dispose()


_STATEMENT = re.compile(r"^(?!--)\S.*?;$", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.revision for s in SCRIPTS])
@pytest.mark.parametrize("direction", ["upgrade", "downgrade"])
def test_revision_sql_sets_lock_timeout_first(script: Script, direction: str) -> None:
    """Each revision's transaction bounds its lock waits before it takes any lock."""
    up_path, down_path = scripts.sql_file_paths(script)
    sql = (up_path if direction == "upgrade" else down_path).read_text()
    marker = f"-- Running {direction} "
    assert sql.count(marker) == 1, f"expected one {direction} section in {up_path.name}"
    body = sql.split(marker, 1)[1].split("\n", 1)[1]
    statements = [s.strip() for s in _STATEMENT.findall(body)]
    assert statements, f"no statements in the {direction} of {script.revision}"
    assert statements[0].startswith("SET LOCAL lock_timeout = "), statements[0]
    assert any(s.startswith("SET LOCAL statement_timeout = ") for s in statements[:2])
    # SET LOCAL only lasts inside a transaction: the section must be inside BEGIN ... COMMIT.
    assert sql.lstrip().startswith("BEGIN;")
    assert sql.rstrip().endswith("COMMIT;")
