"""``cidery db roles`` and ``cidery run``'s application role, run as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from cidery.config import Settings
from cidery.db import server
from cidery.db.engine import make_engine
from cidery.db.roles import app_database_url
from tests.db.test_roles import drop_role, unique_role

CIDERY = Path(sys.executable).parent / "cidery"
PASSWORD = "cli-app-pw"


def cidery(
    args: tuple[str, ...], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CIDERY), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("error: "), result
    assert fragment in lines[0], result


def assert_refused(url: str, statement: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn, pytest.raises(DBAPIError) as refused:
            conn.execute(text(statement))
        origin = refused.value.orig
        assert isinstance(origin, psycopg.Error)
        assert origin.sqlstate == "42501", origin
    finally:
        engine.dispose()


@pytest.fixture
def role(clone_url: str) -> Iterator[str]:
    name = unique_role()
    yield name
    drop_role(clone_url, name)


def test_roles_grants_and_never_shows_the_password(
    clone_url: str, role: str, cli_env: Callable[..., dict[str, str]]
) -> None:
    result = cidery(
        ("db", "roles", "--role", role, "--password-stdin"), cli_env(clone_url), PASSWORD + "\n"
    )
    assert result.returncode == 0, result
    assert f"created role {role}: LOGIN NOSUPERUSER" in result.stdout, result
    assert "SELECT, INSERT on audit_logs (append-only)" in result.stdout, result
    assert PASSWORD not in result.stdout + result.stderr
    app_url = make_url(clone_url).set(username=role, password=PASSWORD)
    as_app = app_url.render_as_string(hide_password=False)
    engine = make_engine(as_app)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == role
            conn.execute(text("SELECT count(*) FROM press_runs")).scalar_one()
    finally:
        engine.dispose()
    assert_refused(as_app, "TRUNCATE press_runs")


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (("--role", "Cidery App"), "", "role name 'Cidery App' is not a plain identifier"),
        (("--role", "pg_app"), "", "reserved by PostgreSQL"),
        (("--password-stdin",), "", "no password on standard input"),
    ],
)
def test_a_mistake_is_one_line(
    clone_url: str,
    cli_env: Callable[..., dict[str, str]],
    args: tuple[str, ...],
    stdin: str,
    fragment: str,
) -> None:
    assert_one_line_error(cidery(("db", "roles", *args), cli_env(clone_url), stdin), fragment)


def test_run_grants_the_app_role_on_the_embedded_server(
    tmp_path: Path, cli_env: Callable[..., dict[str, str]]
) -> None:
    data_dir = tmp_path / "pgdata"
    try:
        result = cidery(("run", "--no-serve"), cli_env(None, data_dir))
        assert result.returncode == 0, result
        assert "application role cidery_app:" in result.stdout, result
        settings = Settings(None, data_dir, "5s", "5min")
        url = app_database_url(settings)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT current_user")).scalar_one() == "cidery_app"
                assert conn.execute(text("SELECT count(*) FROM press_runs")).scalar_one() > 0
        finally:
            engine.dispose()
        assert_refused(url, "DELETE FROM audit_logs")
        assert_refused(url, "DROP TABLE vendors")
    finally:
        server.stop(data_dir)
