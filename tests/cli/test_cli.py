"""The real ``cidery`` program, run as a user runs it, its output piped.

A user mistake or an unreachable database ends with one short line on stderr
and a non-zero exit, never a traceback. Each start of the program costs about
a second, so every run is made once, in a module fixture: the independent runs
start together, alongside the migrate/status/check/rollback cycle, and the
tests check their results one by one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cidery.db.engine import make_engine
from cidery.migrations import scripts

CIDERY = Path(sys.executable).parent / "cidery"
UNREACHABLE = "postgresql://u:secret-pw@127.0.0.1:1/x"
MALFORMED = "mysql://x"


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (
            f"cidery {' '.join(self.args)} exited {self.returncode}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "COLUMNS", "LINES") and not key.startswith("CIDERY_")
    }
    # A data directory of the test's own: nothing may touch a developer's embedded server.
    env.update(DATABASE_URL=database_url, CIDERY_DATA_DIR=str(data_dir))
    env.update(NO_COLOR="1", TERM="dumb")
    return env


def start(args: tuple[str, ...], database_url: str, data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(CIDERY), *args],
        env=_env(database_url, data_dir),
        cwd=data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(args: tuple[str, ...], process: subprocess.Popen[str]) -> Result:
    stdout, stderr = process.communicate(timeout=60)
    return Result(args, process.returncode, stdout, stderr)


def run_together(runs: dict[str, tuple[tuple[str, ...], str]], data_dir: Path) -> dict[str, Result]:
    """Start every run at once, then wait for all: name -> (argv, DATABASE_URL)."""
    processes = {name: start(args, url, data_dir) for name, (args, url) in runs.items()}
    return {name: finish(runs[name][0], process) for name, process in processes.items()}


def run(args: tuple[str, ...], database_url: str, data_dir: Path) -> Result:
    return finish(args, start(args, database_url, data_dir))


def assert_one_line_error(result: Result, *expected: str) -> None:
    assert result.returncode != 0, result
    assert "Traceback" not in result.output, result
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, result
    assert lines[0].startswith("error: "), result
    for fragment in expected:
        assert fragment in result.stderr, result


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "pgdata"


@pytest.fixture(scope="module")
def migrated(template_name: str, create_database: Callable[..., str]) -> str:
    """A migrated database for this module's runs, with one vendor in it."""
    url = create_database("cidery_cli", template=template_name)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO vendors (name) VALUES ('Still Here Orchard')"))
    engine.dispose()
    return url  # create_database drops it at the end of the session


# Runs that do not change the database: name -> (argv, which DATABASE_URL).
INDEPENDENT: dict[str, tuple[tuple[str, ...], str]] = {
    "migrate_unknown_revision": (("db", "migrate", "0099"), "migrated"),
    "migrate_to_older": (("db", "migrate", "0001"), "migrated"),
    "rollback_unknown_revision": (("db", "rollback", "0099"), "migrated"),
    "sql_without_range": (("db", "sql", "0001"), "migrated"),
    "sql_unknown_revision": (("db", "sql", "0099:0001"), "migrated"),
    "status_unreachable": (("db", "status"), UNREACHABLE),
    "status_malformed_url": (("db", "status"), MALFORMED),
    "reset_without_yes": (("db", "reset"), "migrated"),
    "unknown_command": (("db", "nope"), "migrated"),
    "history": (("db", "history"), "migrated"),
    "sql_base_to_head": (("db", "sql", "base:head"), "migrated"),
}


def migrate_and_back(url: str, data_dir: Path) -> dict[str, Result]:
    """The everyday cycle on an empty database; each step waits for the one before."""
    steps = {"migrate": run(("db", "migrate"), url, data_dir)}
    steps.update(
        run_together({"status": (("db", "status"), url), "check": (("db", "check"), url)}, data_dir)
    )
    steps["rollback"] = run(("db", "rollback"), url, data_dir)
    steps["rollback_to_base"] = run(("db", "rollback", "base"), url, data_dir)
    return steps


@pytest.fixture(scope="module")
def empty(create_database: Callable[..., str]) -> str:
    return create_database("cidery_cli_empty")


@pytest.fixture(scope="module")
def results(migrated: str, empty: str, data_dir: Path) -> dict[str, Result]:
    """Every run of this module; the cycle overlaps the independent runs to use both cores."""
    runs = {
        name: (args, migrated if url == "migrated" else url)
        for name, (args, url) in INDEPENDENT.items()
    }
    with ThreadPoolExecutor(max_workers=1) as pool:
        cycle = pool.submit(migrate_and_back, empty, data_dir)
        independent = run_together(runs, data_dir)
        return {**independent, **cycle.result()}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("migrate_unknown_revision", ("unknown revision '0099'",)),
        ("migrate_to_older", ("0001 is older than the current revision", "rollback 0001")),
        ("rollback_unknown_revision", ("unknown revision '0099'",)),
        ("sql_without_range", ("expected FROM:TO",)),
        ("sql_unknown_revision", ("unknown revision '0099'",)),
        ("status_unreachable", ("cannot connect to", "127.0.0.1:1")),
        ("status_malformed_url", ("DATABASE_URL must start with postgresql://",)),
        ("reset_without_yes", ("refusing to reset", "--yes")),
    ],
)
def test_mistakes_end_in_one_line(
    results: dict[str, Result], name: str, expected: tuple[str, ...]
) -> None:
    assert_one_line_error(results[name], *expected)


def test_password_is_never_shown(results: dict[str, Result]) -> None:
    assert "secret-pw" not in results["status_unreachable"].output


def test_reset_refusal_leaves_the_database_alone(results: dict[str, Result], migrated: str) -> None:
    assert results["reset_without_yes"].returncode == 1
    engine = make_engine(migrated)
    try:
        with engine.connect() as conn:
            names = conn.execute(text("SELECT name FROM vendors")).scalars().all()
    finally:
        engine.dispose()
    assert names == ["Still Here Orchard"]


def test_unknown_command_is_a_usage_error(results: dict[str, Result]) -> None:
    result = results["unknown_command"]
    assert result.returncode == 2, result
    assert "Traceback" not in result.output, result
    assert "nope" in result.stderr, result


def test_history_lists_every_revision(results: dict[str, Result]) -> None:
    result = results["history"]
    assert result.returncode == 0, result
    for script in scripts.revisions_in_order():
        assert script.revision in result.stdout, result


def test_sql_prints_the_upgrade(results: dict[str, Result]) -> None:
    result = results["sql_base_to_head"]
    assert result.returncode == 0, result
    assert "CREATE TABLE" in result.stdout
    assert "SET LOCAL lock_timeout" in result.stdout
    assert result.stdout.rstrip().endswith("COMMIT;")


def test_sql_output_is_exactly_the_sql(results: dict[str, Result]) -> None:
    """``cidery db sql base:head > upgrade.sql`` must give the DBA the SQL, byte for byte."""
    expected = scripts.offline_sql("base:head")
    assert results["sql_base_to_head"].stdout.rstrip("\n") == expected.rstrip("\n")


def test_migrate_applies_every_revision(results: dict[str, Result]) -> None:
    result = results["migrate"]
    assert result.returncode == 0, result
    applied = len(scripts.revisions_in_order())
    assert f"database at revision {scripts.head()} ({applied} revision(s) applied)" in (
        result.stdout
    ), result


def test_status_shows_the_head_revision(results: dict[str, Result]) -> None:
    result = results["status"]
    assert result.returncode == 0, result
    head = scripts.head()
    assert f"{head} (head {head})" in result.stdout, result
    assert "vendors" in result.stdout, result  # the row counts


def test_check_finds_models_and_database_agree(results: dict[str, Result]) -> None:
    result = results["check"]
    assert result.returncode == 0, result
    assert "database and models agree" in result.stdout, result


def test_rollback_undoes_the_last_revision(results: dict[str, Result]) -> None:
    result = results["rollback"]
    assert result.returncode == 0, result
    parent = scripts.revisions_in_order()[-1].down_revision or "base (empty)"
    assert f"database at revision {parent}" in result.stdout, result


def test_rollback_to_base_empties_the_database(results: dict[str, Result], empty: str) -> None:
    result = results["rollback_to_base"]
    assert result.returncode == 0, result
    assert "database at revision base (empty)" in result.stdout, result
    engine = make_engine(empty)
    try:
        with engine.connect() as conn:
            assert scripts.current_revision(conn) is None
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            # Only the bookkeeping is left, as Alembic leaves its version table.
            assert sorted(tables) == ["alembic_version", "alembic_version_checksums"]
    finally:
        engine.dispose()


@pytest.fixture
def password_role(server_url: str) -> Iterator[tuple[str, str]]:
    """A role with a password, and a URL that offers it the wrong one.

    Skipped when the server lets anyone in whatever the password: the embedded
    server is initialised with ``--auth=trust``, so only an external test
    server (``CIDERY_TEST_SERVER_URL``) exercises this.
    """
    admin = make_url(server_url).set(drivername="postgresql")
    role = f"cidery_pw_{os.getpid()}"
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'right-pw'").format(sql.Identifier(role))
        )
    wrong = admin.set(username=role, password="wrong-pw").render_as_string(hide_password=False)
    try:
        try:
            psycopg.connect(wrong, connect_timeout=10).close()
        except psycopg.OperationalError:
            yield role, wrong
        else:
            pytest.skip("the test server trusts every connection: no password is ever wrong")
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_wrong_password(password_role: tuple[str, str], data_dir: Path) -> None:
    role, url = password_role
    result = run(("db", "status"), url, data_dir)
    assert_one_line_error(result, "cannot connect to", role)
    assert "wrong-pw" not in result.output
