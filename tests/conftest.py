"""Test databases: one real PostgreSQL per test session, the schema built by migrating.

By default the embedded server is started in a temporary data directory. With
``CIDERY_TEST_SERVER_URL`` (a ``postgresql://`` URL of a role that may create
databases) the suite runs against that server instead — CI uses it for
Debian's PostgreSQL 15.

Most tests get a connection inside a transaction that is rolled back at the
end (cheap isolation on one migrated database). Tests that need committed data
or an empty schema ask for a database of their own.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from cidery.db.engine import make_engine, server
from cidery.migrations import runner
from tests.environment import cli_environment

_counter = itertools.count()


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, str]]:
    """Factory: the environment to run ``cidery`` in as a subprocess.

    ``cli_env(database_url=None, data_dir=None, **extra)``; without ``data_dir``
    the subprocess gets a new, empty data directory of its own.
    """

    def build(
        database_url: str | None = None, data_dir: Path | None = None, **extra: str
    ) -> dict[str, str]:
        if data_dir is None:
            data_dir = tmp_path_factory.mktemp("cli-env") / "pgdata"
        return cli_environment(database_url, data_dir, **extra)

    return build


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """SQLAlchemy URL of a maintenance database on the test server."""
    external = os.environ.get("CIDERY_TEST_SERVER_URL", "").strip()
    if external:
        yield (
            make_url(external)
            .set(drivername="postgresql+psycopg")
            .render_as_string(hide_password=False)
        )
        return
    # Not under pytest's basetemp: pytest prunes old numbered directories there,
    # which removes the data directory of a session still running beside this one.
    parent = Path(tempfile.mkdtemp(prefix="cidery-test-pg-"))
    data_dir = parent / "data"
    url = server.start(data_dir)
    try:
        yield str(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    finally:
        server.stop(data_dir)
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="session")
def create_database(server_url: str) -> Iterator[Callable[..., str]]:
    """Factory: a new database (optionally cloned from a template); dropped at session end."""
    created: list[str] = []
    admin = _libpq(server_url)

    def create(prefix: str = "cidery_test", template: str | None = None) -> str:
        name = f"{prefix}_{os.getpid()}_{next(_counter)}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(statement)
        created.append(name)
        return make_url(server_url).set(database=name).render_as_string(hide_password=False)

    yield create
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in created:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def drop_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_libpq(server_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def template_name(create_database: Callable[..., str]) -> str:
    """A database migrated to head by running every revision, as production is.

    Nothing stays connected to it, so it can serve as a template for clones.
    """
    url = create_database("cidery_template")
    engine = make_engine(url)
    runner.upgrade(engine, "head")
    engine.dispose()
    name = make_url(url).database
    assert name is not None
    return name


@pytest.fixture(scope="session")
def migrated_url(create_database: Callable[..., str], template_name: str) -> str:
    """The shared migrated database that rolled-back tests run in."""
    return create_database("cidery_head", template=template_name)


@pytest.fixture(scope="session")
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """An ORM session inside the test's transaction; its commits become savepoints."""
    with Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as s:
        yield s


@pytest.fixture
def clone_url(
    template_name: str, create_database: Callable[..., str], server_url: str
) -> Iterator[str]:
    """A migrated database of the test's own: for committed data and several connections."""
    url = create_database("cidery_clone", template=template_name)
    yield url
    drop_database(server_url, url)


@pytest.fixture
def empty_url(create_database: Callable[..., str], server_url: str) -> Iterator[str]:
    """An empty database of the test's own: for migration tests."""
    url = create_database("cidery_empty")
    yield url
    drop_database(server_url, url)
