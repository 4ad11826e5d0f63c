"""The application's role (cidery.db.roles): it reads and writes rows, PostgreSQL refuses
it everything else, audit_logs is append-only for it, and granting twice changes nothing.

Roles belong to the whole cluster, so each test makes one with a name of its own and
drops it at the end. It is given a password: a test server other than the embedded one
(CI's PostgreSQL 15) asks for it on TCP connections.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cidery import press
from cidery.config import Settings
from cidery.db import roles
from cidery.db.engine import make_engine
from cidery.errors import ConfigError
from cidery.migrations import bookkeeping
from tests.factories import Factory, new_actor

PASSWORD = "app-pw-1"
_counter = itertools.count()

# What the role may do, table by table, as PostgreSQL reports it.
GRANTS_QUERY = text(
    "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
    "WHERE grantee = :role ORDER BY table_name, privilege_type"
)


def unique_role() -> str:
    return f"cidery_app_t{os.getpid()}_{next(_counter)}"


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def drop_role(owner_url: str, role: str) -> None:
    """Drop ``role`` and what it holds in the database of ``owner_url``."""
    with psycopg.connect(libpq(owner_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@dataclass
class App:
    role: str
    owner: Engine
    engine: Engine  # connected as the role
    granted: list[str]


@pytest.fixture
def app(clone_url: str) -> Iterator[App]:
    role = unique_role()
    owner = make_engine(clone_url)
    app_url = make_url(clone_url).set(username=role, password=PASSWORD)
    engine = make_engine(app_url.render_as_string(hide_password=False))
    try:
        granted = roles.ensure_app_role(owner, role, PASSWORD)
        yield App(role, owner, engine, granted)
    finally:
        engine.dispose()
        owner.dispose()
        drop_role(clone_url, role)


def grants(owner: Engine, role: str) -> list[tuple[str, str]]:
    with owner.connect() as conn:
        return [(row[0], row[1]) for row in conn.execute(GRANTS_QUERY, {"role": role})]


def sqlstate(error: DBAPIError) -> str | None:
    origin = error.orig
    return origin.sqlstate if isinstance(origin, psycopg.Error) else None


def test_the_bookkeeping_tables_are_the_migrations_own() -> None:
    assert set(roles.BOOKKEEPING) == {"alembic_version", bookkeeping.TABLE}


def test_the_role_runs_the_press_workflow(app: App) -> None:
    """start_run, add_load (press_add_load and the triggers it fires) and void_load, as
    the application role: rows written, purchase lines drawn on, audit rows appended."""
    with Session(app.engine) as session:
        make = Factory(session)
        actor = new_actor(session)
        item = make.purchase_item()
        vendor_id = session.execute(
            text("SELECT vendor_id FROM purchases WHERE id = :id"), {"id": item.purchase_id}
        ).scalar_one()
        run = press.start_run(session, actor, {"vendor_id": vendor_id})
        load = press.add_load(
            session,
            actor,
            run.id,
            {"purchase_item_id": item.id, "weight": "300", "weight_unit": "kg"},
        )
        session.commit()
        drawn = session.execute(
            text("SELECT pressed_kg FROM purchase_items WHERE id = :id"), {"id": item.id}
        ).scalar_one()
        assert drawn == Decimal("300")
        press.void_load(session, actor, load.id, {"reason": "weighed twice"})
        session.commit()
        audited = session.execute(
            text("SELECT count(*) FROM audit_logs WHERE record_id IN (:run, :load)"),
            {"run": run.id, "load": load.id},
        ).scalar_one()
        assert audited >= 3
        session.execute(
            text(
                "INSERT INTO audit_logs (table_name, record_id, operation, new_data) "
                "VALUES ('vendors', :id, 'insert', '{}')"
            ),
            {"id": vendor_id},
        )
        session.execute(
            text("UPDATE vendors SET is_active = false WHERE id = :id"), {"id": vendor_id}
        )
        session.commit()
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert revision is not None


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE vendors",
        "CREATE TABLE intruder (id int)",
        "TRUNCATE press_runs",
        "UPDATE audit_logs SET reason = 'rewritten'",
        "DELETE FROM audit_logs",
        "ALTER TABLE vendors ADD COLUMN intruder int",
        "CREATE INDEX intruder ON vendors (name)",
        "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE SCHEMA intruder",
        "UPDATE alembic_version SET version_num = '0001'",
        "DELETE FROM alembic_version_checksums",
    ],
)
def test_postgresql_refuses_the_role_everything_else(app: App, statement: str) -> None:
    with app.engine.connect() as conn, pytest.raises(DBAPIError) as refused:
        conn.execute(text(statement))
    assert sqlstate(refused.value) == "42501", refused.value  # insufficient_privilege


def test_the_role_has_no_power_beyond_rows(app: App) -> None:
    with app.owner.connect() as conn:
        row = conn.execute(
            text(
                "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolinherit, "
                "rolreplication, rolbypassrls FROM pg_roles WHERE rolname = :role"
            ),
            {"role": app.role},
        ).one()
    assert tuple(row) == (True, False, False, False, False, False, False)
    by_table: dict[str, set[str]] = {}
    for table, privilege in grants(app.owner, app.role):
        by_table.setdefault(table, set()).add(privilege)
    assert by_table["audit_logs"] == {"SELECT", "INSERT"}
    assert by_table["alembic_version"] == {"SELECT"}
    assert by_table[bookkeeping.TABLE] == {"SELECT"}
    assert by_table["press_runs"] == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert set().union(*by_table.values()) == {"SELECT", "INSERT", "UPDATE", "DELETE"}


def test_granting_again_changes_nothing(app: App) -> None:
    before = grants(app.owner, app.role)
    again = roles.ensure_app_role(app.owner, app.role)
    assert grants(app.owner, app.role) == before
    assert f"role {app.role} exists: attributes unchanged" in again
    assert again[1:] == app.granted[2:]  # the same grants; no new role, no password


def test_granting_again_takes_back_what_was_added(app: App) -> None:
    """A run converges: privileges granted by hand since, and changed attributes, go."""
    before = grants(app.owner, app.role)
    name = sql.Identifier(app.role)
    with app.owner.begin() as conn:
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        driver.execute(sql.SQL("GRANT UPDATE, DELETE, TRUNCATE ON audit_logs TO {}").format(name))
        driver.execute(sql.SQL("GRANT ALL ON alembic_version TO {}").format(name))
        driver.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(name))
        driver.execute(sql.SQL("ALTER ROLE {} CREATEDB INHERIT").format(name))
    again = roles.ensure_app_role(app.owner, app.role)
    assert grants(app.owner, app.role) == before
    assert f"role {app.role} exists: set NOCREATEDB NOINHERIT" in again
    with app.engine.connect() as conn, pytest.raises(DBAPIError) as refused:
        conn.execute(text("DELETE FROM audit_logs"))
    assert sqlstate(refused.value) == "42501"


def test_tables_of_later_migrations_get_row_privileges(app: App) -> None:
    with app.owner.begin() as conn:
        conn.execute(text("CREATE TABLE later (id int PRIMARY KEY, note text)"))
    with app.engine.begin() as conn:
        conn.execute(text("INSERT INTO later VALUES (1, 'a')"))
        conn.execute(text("UPDATE later SET note = 'b'"))
        assert conn.execute(text("DELETE FROM later")).rowcount == 1
    with app.engine.connect() as conn, pytest.raises(DBAPIError) as refused:
        conn.execute(text("TRUNCATE later"))
    assert sqlstate(refused.value) == "42501"


def test_create_on_public_is_taken_from_public(app: App) -> None:
    """PostgreSQL 14 lets PUBLIC create in schema public: a run takes it away."""
    with app.owner.begin() as conn:
        conn.execute(text("GRANT CREATE ON SCHEMA public TO PUBLIC"))
    again = roles.ensure_app_role(app.owner, app.role)
    assert any("CREATE on schema public revoked from PUBLIC" in line for line in again)
    with app.engine.connect() as conn, pytest.raises(DBAPIError) as refused:
        conn.execute(text("CREATE TABLE intruder (id int)"))
    assert sqlstate(refused.value) == "42501"


def test_the_password_is_not_in_what_is_granted(app: App) -> None:
    assert f"role {app.role}: password set" in app.granted
    assert not any(PASSWORD in line for line in app.granted)
    with app.owner.connect() as conn:
        stored = conn.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :role"), {"role": app.role}
        ).scalar_one()
    assert stored.startswith(("SCRAM-SHA-256$", "md5"))


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("Cidery", "not a plain identifier"),
        ("app; DROP TABLE vendors", "not a plain identifier"),
        ("1app", "not a plain identifier"),
        ("x" * 64, "not a plain identifier"),
        ("pg_app", "reserved"),
        ("public", "reserved"),
    ],
)
def test_a_bad_role_name_is_one_line(role: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        roles.check_role_name(role)
    assert "\n" not in str(refused.value)


def test_the_owner_is_not_made_the_app_role(clone_url: str) -> None:
    owner = make_engine(clone_url)
    try:
        with owner.connect() as conn:
            me = conn.execute(text("SELECT current_user")).scalar_one()
        with pytest.raises(ConfigError, match="needs a role of its own"):
            roles.ensure_app_role(owner, me)
    finally:
        owner.dispose()


def test_the_app_url_setting(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app_url = "postgresql+psycopg://api@db.example/cidery"
    owner_url = "postgresql+psycopg://owner:pw@db.example/cidery"
    owner_only = Settings(owner_url, tmp_path, "5s", "5min")
    both = dataclasses.replace(owner_only, app_database_url=app_url)
    assert roles.app_database_url(both) == app_url
    assert roles.default_role(both) == "api"
    with caplog.at_level(logging.WARNING, logger="cidery.db.roles"):
        assert roles.app_database_url(owner_only) == owner_url
    assert "owner's privileges" in caplog.text
    assert roles.default_role(owner_only) == "cidery_app"
