"""The real ``cidery`` program, run as a user runs it, its output piped.

A user mistake or an unreachable database ends with one short line on stderr
and a non-zero exit, never a traceback; no output shows a password, and names
from the database or the command line are printed as they are. Each start of
the program costs about a second, so every run is made once, in a module
fixture: the independent runs start together, alongside the
migrate/status/check/rollback cycle, and the tests check their results one by one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import typer
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cidery.cli.main import exit_status, run_app
from cidery.db.engine import make_engine
from cidery.errors import CideryError, ConfigError
from cidery.migrations import scripts
from cidery.press.errors import Conflict
from cidery.sample.seed import seed

CIDERY = Path(sys.executable).parent / "cidery"
# Programs running at once: each spends part of its second waiting on the database.
AT_ONCE = 2 * (os.cpu_count() or 2)
SECRET = "secret-pw"
UNREACHABLE = f"postgresql://u:{SECRET}@127.0.0.1:1/x"
MALFORMED = "mysql://x"
# Names Rich would read as markup or emoji codes if it were given the chance.
ODD_VARIETY = "[bold]x"
ODD_VARIETY_2 = ":apple: [red]"
ODD_VENDOR = "[/]"


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


@dataclass(frozen=True)
class Run:
    """One run of the program: its arguments, DATABASE_URL (None: the embedded server)
    and environment variables of its own."""

    args: tuple[str, ...]
    url: str | None = "migrated"
    env: dict[str, str] = field(default_factory=dict)
    data_dir: Path | None = None  # the module's


@dataclass(frozen=True)
class Cidery:
    """Starts the program in the environment of the ``cli_env`` fixture."""

    cli_env: Callable[..., dict[str, str]]
    data_dir: Path

    def start(self, run: Run) -> subprocess.Popen[str]:
        data_dir = run.data_dir or self.data_dir
        return subprocess.Popen(
            [str(CIDERY), *run.args],
            env=self.cli_env(run.url, data_dir, **run.env),
            cwd=self.data_dir.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run_together(self, runs: dict[str, Run]) -> dict[str, Result]:
        """Every run, a few at a time: all at once, forty programs starting on two cores
        would each take long enough to look hung."""
        with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
            started = {name: pool.submit(self.finish, run) for name, run in runs.items()}
            return {name: future.result() for name, future in started.items()}

    def run(self, args: tuple[str, ...], database_url: str | None, **env: str) -> Result:
        return self.finish(Run(args, database_url, env))

    def finish(self, run: Run) -> Result:
        process = self.start(run)
        stdout, stderr = process.communicate(timeout=180)
        return Result(run.args, process.returncode, stdout, stderr)


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
def cidery(cli_env: Callable[..., dict[str, str]], data_dir: Path) -> Cidery:
    return Cidery(cli_env, data_dir)


@pytest.fixture(scope="module")
def migrated(template_name: str, create_database: Callable[..., str]) -> str:
    """A migrated database for this module's runs, with one vendor in it."""
    url = create_database("cidery_cli", template=template_name)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO vendors (name) VALUES ('Still Here Orchard')"))
    engine.dispose()
    return url  # create_database drops it at the end of the session


@pytest.fixture(scope="module")
def odd_names(template_name: str, create_database: Callable[..., str]) -> str:
    """The sample cidery, with names Rich would take for markup: two varieties of
    completed runs, and the vendor of a completed run whose yield is an outlier."""
    url = create_database("cidery_cli_odd", template=template_name)
    engine = make_engine(url)
    with Session(engine) as session:
        seed(session)
        session.commit()
    with engine.begin() as conn:
        run_id, vendor_id = conn.execute(
            text(
                # Not a run split into juice lots, whose lots must hold its juice.
                "SELECT id, vendor_id FROM press_runs r WHERE status = 'completed' "
                "AND NOT EXISTS (SELECT FROM press_run_batches b WHERE b.press_run_id = r.id) "
                "ORDER BY start_time LIMIT 1"
            )
        ).one()
        conn.execute(
            text("UPDATE vendors SET name = :name WHERE id = :id"),
            {"name": ODD_VENDOR, "id": vendor_id},
        )
        # 0.2 L/kg: below the yield band, so the summary names the run's vendor.
        conn.execute(
            text(
                "UPDATE press_runs SET juice_volume = round(total_apple_weight_kg * 0.2, 3), "
                "total_juice_volume_l = round(total_apple_weight_kg * 0.2, 3), "
                "juice_volume_unit = 'L' WHERE id = :id"
            ),
            {"id": run_id},
        )
        for old, new in (("Dabinett", ODD_VARIETY), ("Kingston Black", ODD_VARIETY_2)):
            conn.execute(
                text("UPDATE apple_varieties SET name = :new WHERE name = :old"),
                {"old": old, "new": new},
            )
    engine.dispose()
    return url


# Runs that leave the database as it was (DATABASE_URL "migrated" is the fixture's).
INDEPENDENT: dict[str, Run] = {
    "migrate_unknown_revision": Run(("db", "migrate", "0099")),
    "migrate_to_older": Run(("db", "migrate", "0001")),
    "rollback_unknown_revision": Run(("db", "rollback", "0099")),
    "sql_without_range": Run(("db", "sql", "0001")),
    "sql_unknown_revision": Run(("db", "sql", "0099:0001")),
    "status_unreachable": Run(("db", "status"), UNREACHABLE),
    "status_malformed_url": Run(("db", "status"), MALFORMED),
    "reset_without_yes": Run(("db", "reset")),
    "unknown_command": Run(("db", "nope")),
    "history": Run(("db", "history")),
    "sql_base_to_head": Run(("db", "sql", "base:head")),
    # Secrets, in every spelling of a connection string.
    "no_scheme": Run(("db", "status"), f"u:{SECRET}@127.0.0.1:1/x"),
    "foreign_scheme": Run(("db", "status"), f"mysql://u:{SECRET}@127.0.0.1:1/x"),
    "key_value": Run(("db", "status"), f"host=127.0.0.1 port=1 password={SECRET}"),
    "query_password": Run(("db", "status"), f"postgresql://u@127.0.0.1:1/x?password={SECRET}"),
    "server_url_external": Run(("db", "server", "url"), UNREACHABLE),
    "server_url_query": Run(
        ("db", "server", "url"), f"postgresql://u@127.0.0.1:1/x?password={SECRET}"
    ),
    # Logging.
    "status_quiet": Run(("db", "status")),
    "status_verbose": Run(("-v", "db", "status")),
    "status_cidery_log": Run(("db", "status"), env={"CIDERY_LOG": "info"}),
    "verbose_unreachable": Run(("-v", "db", "status"), UNREACHABLE),
    "bad_cidery_log": Run(("db", "status"), env={"CIDERY_LOG": "loud"}),
    # Text from the user or the database, printed as it is.
    "migrate_markup_revision": Run(("db", "migrate", "[/]")),
    "migrate_style_revision": Run(("db", "migrate", "[bold]x")),
    "status_odd_names": Run(("db", "status"), "odd_names"),
    "run_odd_names": Run(("run", "--no-serve"), "odd_names"),
}

# A URL SQLAlchemy or the driver would choke on, with its password: (URL, message).
MALFORMED_URLS: dict[str, tuple[str, str]] = {
    "port_not_a_number": (f"postgresql://u:{SECRET}@localhost:abc/db", "port"),
    "port_out_of_range": (f"postgresql://u:{SECRET}@localhost:70000/db", "port"),
    "port_zero": (f"postgresql://u:{SECRET}@localhost:0/db", "port"),
    "port_empty_and_host_empty": (f"postgresql://u:{SECRET}@:/db", "no host"),
    "host_empty": (f"postgresql://u:{SECRET}@:5432/db", "no host"),
    "host_forgotten": (f"postgresql://u:{SECRET}", "port"),
    "several_at_signs": (f"postgresql://u:{SECRET}@x@localhost/db", "more than one '@'"),
    "unclosed_ipv6": (f"postgresql://u:{SECRET}@[::1/db", "IPv6"),
    "bad_percent_in_password": (f"postgresql://u:{SECRET}%zz@localhost/db", "percent-encoding"),
    "bad_percent_in_database": (f"postgresql://u:{SECRET}@localhost/d%zzb", "percent-encoding"),
    "non_utf8_percent": (f"postgresql://u:{SECRET}@localhost/%ff", "not UTF-8"),
    "unknown_option": (f"postgresql://u:{SECRET}@localhost/db?colour=red", "unknown option"),
    "option_without_value": (f"postgresql://u:{SECRET}@localhost/db?sslmode", "no value"),
    "line_break": (f"postgresql://u:{SECRET}@localhost/db\n?sslmode=require", "line break"),
}
INDEPENDENT.update(
    {f"malformed_{name}": Run(("db", "status"), url) for name, (url, _) in MALFORMED_URLS.items()}
)


def migrate_and_back(url: str, cidery: Cidery) -> dict[str, Result]:
    """The everyday cycle on an empty database; each step waits for the one before."""
    steps = {"migrate": cidery.run(("db", "migrate"), url)}
    steps.update(
        cidery.run_together(
            {"status": Run(("db", "status"), url), "check": Run(("db", "check"), url)}
        )
    )
    steps["rollback"] = cidery.run(("db", "rollback"), url)
    steps["rollback_to_base"] = cidery.run(("db", "rollback", "base"), url)
    return steps


@pytest.fixture(scope="module")
def empty(create_database: Callable[..., str]) -> str:
    return create_database("cidery_cli_empty")


@pytest.fixture(scope="module")
def results(migrated: str, odd_names: str, empty: str, cidery: Cidery) -> dict[str, Result]:
    """Every run of this module; the cycle overlaps the independent runs to use both cores."""
    databases = {"migrated": migrated, "odd_names": odd_names}
    runs = {
        name: Run(run.args, databases.get(run.url or "", run.url), run.env)
        for name, run in INDEPENDENT.items()
    }
    with ThreadPoolExecutor(max_workers=1) as pool:
        cycle = pool.submit(migrate_and_back, empty, cidery)
        independent = cidery.run_together(runs)
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
    assert SECRET not in results["status_unreachable"].output


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("no_scheme", ("must start with postgresql://", "u:***@127.0.0.1:1/x")),
        ("foreign_scheme", ("must start with postgresql://", "'mysql'")),
        ("key_value", ("must start with postgresql://", "key=value")),
        ("query_password", ("cannot connect to", "password=***")),
    ],
)
def test_a_password_in_any_spelling_is_masked(
    results: dict[str, Result], name: str, expected: tuple[str, ...]
) -> None:
    result = results[name]
    assert_one_line_error(result, *expected)
    assert SECRET not in result.output, result


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("server_url_external", "postgresql+psycopg://u:***@127.0.0.1:1/x"),
        ("server_url_query", "postgresql+psycopg://u@127.0.0.1:1/x?password=***"),
    ],
)
def test_server_url_masks_the_password_and_says_so(
    results: dict[str, Result], name: str, shown: str
) -> None:
    result = results[name]
    assert result.returncode == 0, result
    assert result.stdout.strip() == shown, result
    assert "password is shown as ***" in result.stderr, result
    assert SECRET not in result.output, result


@pytest.mark.parametrize("name", sorted(MALFORMED_URLS))
def test_a_malformed_url_is_one_line_naming_the_problem(
    results: dict[str, Result], name: str
) -> None:
    result = results[f"malformed_{name}"]
    assert_one_line_error(result, "DATABASE_URL", MALFORMED_URLS[name][1])
    assert SECRET not in result.output, result


def test_logging_is_quiet_by_default(results: dict[str, Result]) -> None:
    result = results["status_quiet"]
    assert result.returncode == 0, result
    assert result.stderr == "", result


@pytest.mark.parametrize("name", ["status_verbose", "status_cidery_log"])
def test_verbose_logs_what_cidery_does_to_stderr(results: dict[str, Result], name: str) -> None:
    result = results[name]
    assert result.returncode == 0, result
    # db status reads on psycopg alone (cidery.db.server.connect).
    assert "INFO cidery.db.server: connecting to postgresql+psycopg://" in result.stderr, result
    assert "INFO cidery.db.server: connected: PostgreSQL" in result.stderr, result
    assert "INFO" not in result.stdout, result


def test_log_lines_mask_the_password(results: dict[str, Result]) -> None:
    result = results["verbose_unreachable"]
    assert result.returncode == 1, result
    assert "connecting to postgresql+psycopg://u:***@127.0.0.1:1/x" in result.stderr, result
    assert result.stderr.strip().splitlines()[-1].startswith("error: cannot connect"), result
    assert SECRET not in result.output, result


def test_an_unknown_log_level_is_refused(results: dict[str, Result]) -> None:
    assert_one_line_error(results["bad_cidery_log"], "CIDERY_LOG='loud'", "debug, info")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("migrate_markup_revision", "error: unknown revision '[/]'"),
        ("migrate_style_revision", "error: unknown revision '[bold]x'"),
    ],
)
def test_an_error_is_printed_literally(
    results: dict[str, Result], name: str, expected: str
) -> None:
    result = results[name]
    assert_one_line_error(result)
    assert result.stderr.startswith(expected), result


@pytest.mark.parametrize("name", ["status_odd_names", "run_odd_names"])
def test_names_from_the_database_are_printed_literally(
    results: dict[str, Result], name: str
) -> None:
    result = results[name]
    assert result.returncode == 0, result
    assert "Traceback" not in result.output, result
    for variety in (ODD_VARIETY, ODD_VARIETY_2):
        assert f"│ {variety} " in result.stdout, result
    assert f" {ODD_VENDOR}: 0.2" in result.stdout, result  # the outlier's vendor


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


def test_wrong_password(password_role: tuple[str, str], cidery: Cidery) -> None:
    role, url = password_role
    result = cidery.run(("db", "status"), url)
    assert_one_line_error(result, "cannot connect to", role)
    assert "wrong-pw" not in result.output


# --- data directories the embedded server cannot use -------------------------------------
# (tests/db/test_server.py has those only another user than root cannot use)


@pytest.fixture(scope="module")
def data_dir_results(cidery: Cidery, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """``cidery db status`` on the embedded server, with data directories even root cannot
    create: one below a file, one in /proc."""
    base = tmp_path_factory.mktemp("data-dirs")
    (base / "a-file").write_text("not a directory")
    return cidery.run_together(
        {
            "file_in_path": Run(("db", "status"), None, data_dir=base / "a-file" / "pgdata"),
            "under_proc": Run(("db", "status"), None, data_dir=Path("/proc/self/cidery/pgdata")),
        }
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("file_in_path", ("cannot create the data directory", "a-file is a file, not a directory")),
        ("under_proc", ("cannot create the data directory", "does not accept new directories")),
    ],
)
def test_an_unusable_data_directory_is_one_line_with_the_cause(
    data_dir_results: dict[str, Result], name: str, expected: tuple[str, ...]
) -> None:
    result = data_dir_results[name]
    assert_one_line_error(result, *expected)
    assert "CIDERY_DATA_DIR" in result.stderr, result


def test_errors_map_to_exit_statuses_at_the_edge() -> None:
    """Errors carry no exit status; the CLI's one table decides (a lost race: retry)."""
    assert exit_status(Conflict("held")) == 75
    assert exit_status(ConfigError("bad")) == 1

    class Deadlock(Conflict):
        code = "deadlock"

    # Looked up by code from the error's class up: a kind of conflict is still retried.
    assert exit_status(Deadlock("held")) == 75
    assert not hasattr(CideryError("x"), "exit_code")


def test_a_driver_error_that_escapes_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told apart only once a command has loaded SQLAlchemy, and still masked."""
    monkeypatch.setattr(sys, "argv", ["cidery"])
    app = typer.Typer()

    @app.command()
    def query() -> None:
        raise OperationalError("SELECT 1", {}, Exception(f"gone: {UNREACHABLE}\nmore"))

    with pytest.raises(SystemExit) as stopped:
        run_app(app)
    assert stopped.value.code == 1
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: database error: gone: postgresql://u:***@"), stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert SECRET not in stderr
