"""The application's database role: it reads and writes rows, and nothing more.

Migrations run as the schema's owner (the role of ``DATABASE_URL``, or the embedded
server's superuser). The application (the HTTP API) connects as another role, made
and kept up to date by :func:`ensure_app_role` (``cidery db roles``), that PostgreSQL
itself holds to:

- LOGIN, and none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS; NOINHERIT,
  so a role granted to it later lends it nothing unasked;
- CONNECT on the database, USAGE on schema ``public`` (no CREATE: no DDL);
- SELECT, INSERT, UPDATE, DELETE on the tables of ``public``, never TRUNCATE,
  REFERENCES or TRIGGER; ``audit_logs`` SELECT and INSERT only (append-only); the
  migration bookkeeping SELECT only (the application checks the head revision);
- USAGE, SELECT on sequences, EXECUTE on functions (``press_add_load`` and the audit
  helpers: plain functions, run with the caller's privileges, as are the triggers
  they fire, which only touch tables the role may write);
- the owner's default privileges, so tables of later migrations get row privileges.

Each run revokes the role's privileges on those objects and grants the list above, in
one transaction, so a second run changes nothing and a run after a change converges.
Default privileges cannot single out a table that does not exist yet: a migration that
creates an append-only or bookkeeping table needs another run to narrow it.

:func:`app_database_url` is the URL the application connects with.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from cidery.config import Settings
from cidery.db import server
from cidery.errors import ConfigError

log = logging.getLogger(__name__)

APP_ROLE = "cidery_app"
SCHEMA = "public"
ROW_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Table: the privileges it gets instead of ROW_PRIVILEGES.
APPEND_ONLY = {"audit_logs": ("SELECT", "INSERT")}
# alembic_version and cidery.migrations.bookkeeping.TABLE (the db package sits below
# migrations, so the name is repeated here; tests/db/test_roles.py checks they agree).
BOOKKEEPING = {"alembic_version": ("SELECT",), "alembic_version_checksums": ("SELECT",)}
ROLE_ATTRIBUTES = {
    # pg_roles column: (wanted value, keyword when true, keyword when false)
    "rolcanlogin": (True, "LOGIN", "NOLOGIN"),
    "rolsuper": (False, "SUPERUSER", "NOSUPERUSER"),
    "rolcreatedb": (False, "CREATEDB", "NOCREATEDB"),
    "rolcreaterole": (False, "CREATEROLE", "NOCREATEROLE"),
    "rolinherit": (False, "INHERIT", "NOINHERIT"),
    "rolreplication": (False, "REPLICATION", "NOREPLICATION"),
    "rolbypassrls": (False, "BYPASSRLS", "NOBYPASSRLS"),
}

# An identifier that needs no quoting: what a DBA types without thinking about case.
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_RESERVED = frozenset({"public", "none", "current_role", "current_user", "session_user"})
# Serialises two runs at once (CREATE ROLE and GRANT race otherwise).
_LOCK_KEY = "cidery.db.roles"


def check_role_name(role: str) -> str:
    """``role``, or a one-line ConfigError when it is not a plain identifier."""
    if not _ROLE_NAME.fullmatch(role):
        raise ConfigError(
            f"role name {role!r} is not a plain identifier: lower-case letters, digits "
            "and '_', not starting with a digit, at most 63 characters"
        )
    if role.startswith("pg_") or role in _RESERVED:
        raise ConfigError(f"role name {role!r} is reserved by PostgreSQL")
    return role


def default_role(settings: Settings) -> str:
    """The user of CIDERY_APP_DATABASE_URL, or ``cidery_app``."""
    if settings.app_database_url is not None:
        user = make_url(settings.app_database_url).username
        if user:
            return user
    return APP_ROLE


def app_database_url(settings: Settings, role: str | None = None) -> str:
    """The URL the application connects with.

    CIDERY_APP_DATABASE_URL when set; on the embedded server (which trusts local
    connections), its URL with the user replaced by the application role; with only
    DATABASE_URL, DATABASE_URL itself, and a warning: the application then has the
    owner's privileges.
    """
    if settings.app_database_url is not None:
        return settings.app_database_url
    if settings.database_url is None:
        owner_url = make_url(server.start(settings.data_dir))
        app_user = check_role_name(role or APP_ROLE)
        # URL.set takes None for "unchanged": the password is dropped with _replace.
        app_url = owner_url._replace(username=app_user, password=None)
        return app_url.render_as_string(hide_password=False)
    log.warning(
        "CIDERY_APP_DATABASE_URL is not set: the application connects as DATABASE_URL's "
        "role, with the schema owner's privileges (see `cidery db roles`)"
    )
    return settings.database_url


def ensure_app_role(engine: Engine, role: str = APP_ROLE, password: str | None = None) -> list[str]:
    """Create or update ``role`` and grant it row privileges on the database of ``engine``.

    ``engine`` connects as the schema's owner (or a superuser). Returns what was
    granted, a line each; the password, if given, is sent as a SCRAM (or MD5, as the
    server's ``password_encryption`` says) verifier, never in clear.
    """
    check_role_name(role)
    with engine.begin() as conn:
        driver = conn.connection.driver_connection
        if not isinstance(driver, psycopg.Connection):
            raise TypeError("ensure_app_role needs a psycopg 3 engine")
        return _Grants(driver, role).apply(password)


class _Grants:
    def __init__(self, conn: psycopg.Connection[Any], role: str) -> None:
        self.conn = conn
        self.role = role
        self.name = sql.Identifier(role)
        self.lines: list[str] = []

    def run(self, statement: sql.Composed) -> None:
        self.conn.execute(statement)

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(query, params).fetchall()

    def apply(self, password: str | None) -> list[str]:
        self.rows("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
        owner = self._owner()
        self._refuse_owner(owner)
        self._role(password)
        self._database()
        self._schema(owner)
        self._tables()
        self._sequences_and_functions()
        self._default_privileges(owner)
        return self.lines

    # --- who is who ------------------------------------------------------------------

    def _owner(self) -> str:
        """The role that owns the schema's tables: the owner of alembic_version, or
        (before the first migration) the role connected."""
        found = self.rows(
            "SELECT pg_get_userbyid(relowner) FROM pg_class "
            "WHERE relname = 'alembic_version' AND relnamespace = %s::regnamespace",
            (SCHEMA,),
        )
        if found:
            return str(found[0][0])
        return str(self.rows("SELECT current_user")[0][0])

    def _refuse_owner(self, owner: str) -> None:
        current = str(self.rows("SELECT current_user")[0][0])
        if self.role in (owner, current):
            raise ConfigError(
                f"role {self.role!r} owns the schema or runs this command: "
                "the application needs a role of its own"
            )
        owned = self.rows(
            "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace "
            "AND pg_get_userbyid(relowner) = %s ORDER BY relname LIMIT 3",
            (SCHEMA, self.role),
        )
        if owned:
            names = ", ".join(str(row[0]) for row in owned)
            raise ConfigError(
                f"role {self.role!r} owns {names} in schema {SCHEMA}: an owner cannot be "
                "limited by grants; give the application another role"
            )

    # --- the role ----------------------------------------------------------------------

    def _role(self, password: str | None) -> None:
        columns = sql.SQL(", ").join(sql.Identifier(column) for column in ROLE_ATTRIBUTES)
        found = self.conn.execute(
            sql.SQL("SELECT {} FROM pg_roles WHERE rolname = %s").format(columns), (self.role,)
        ).fetchone()
        secret: sql.Composable = sql.Composed([])
        if password is not None:
            if not password:
                raise ConfigError("the password is empty")
            verifier = self.conn.pgconn.encrypt_password(password.encode(), self.role.encode())
            secret = sql.SQL(" PASSWORD {}").format(sql.Literal(verifier.decode()))
        if found is None:
            keywords = [yes if wanted else no for wanted, yes, no in ROLE_ATTRIBUTES.values()]
            self.run(
                sql.SQL("CREATE ROLE {} WITH {}{}").format(
                    self.name, sql.SQL(" ".join(keywords)), secret
                )
            )
            self.lines.append(f"created role {self.role}: {' '.join(keywords)}")
        else:
            # Only what differs: a non-superuser with CREATEROLE may not even restate
            # NOSUPERUSER or NOREPLICATION on PostgreSQL 15 and older.
            changes = [
                yes if wanted else no
                for (wanted, yes, no), now in zip(ROLE_ATTRIBUTES.values(), found, strict=True)
                if bool(now) != wanted
            ]
            if changes or password is not None:
                self.run(
                    sql.SQL("ALTER ROLE {} WITH {}{}").format(
                        self.name, sql.SQL(" ".join(changes)), secret
                    )
                )
            attributes = f"set {' '.join(changes)}" if changes else "attributes unchanged"
            self.lines.append(f"role {self.role} exists: {attributes}")
        if password is not None:
            self.lines.append(f"role {self.role}: password set")

    # --- the database and the schema ---------------------------------------------------

    def _database(self) -> None:
        database = str(self.rows("SELECT current_database()")[0][0])
        name = sql.Identifier(database)
        self.run(sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(name, self.name))
        self.run(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(name, self.name))
        self.lines.append(f"CONNECT on database {database}")

    def _schema(self, owner: str) -> None:
        schema = sql.Identifier(SCHEMA)
        self.run(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(schema, self.name))
        self.run(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, self.name))
        self.lines.append(f"USAGE on schema {SCHEMA} (no CREATE)")
        if not self._may_create():
            return
        # PostgreSQL 14 and older let PUBLIC create in schema public: take that away (as
        # PostgreSQL 15 does), granting it to the owner by name first so migrations still can.
        self.run(sql.SQL("GRANT CREATE ON SCHEMA {} TO {}").format(schema, sql.Identifier(owner)))
        self.run(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema))
        if self._may_create():
            raise ConfigError(
                f"role {self.role!r} may create objects in schema {SCHEMA} because PUBLIC "
                f"may: the schema's owner must run GRANT CREATE ON SCHEMA {SCHEMA} TO "
                f"{owner}; REVOKE CREATE ON SCHEMA {SCHEMA} FROM PUBLIC"
            )
        self.lines.append(f"CREATE on schema {SCHEMA} revoked from PUBLIC, granted to {owner}")

    def _may_create(self) -> bool:
        return bool(
            self.rows("SELECT has_schema_privilege(%s, %s, 'CREATE')", (self.role, SCHEMA))[0][0]
        )

    # --- tables, sequences, functions --------------------------------------------------

    def _tables(self) -> None:
        schema = sql.Identifier(SCHEMA)
        self.run(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema, self.name))
        relations = self.rows(
            "SELECT relname, relkind FROM pg_class WHERE relnamespace = %s::regnamespace "
            "AND relkind IN ('r', 'p', 'v', 'f', 'm') ORDER BY relname",
            (SCHEMA,),
        )
        granted: dict[tuple[str, ...], list[str]] = {}
        for name, kind in relations:
            privileges: tuple[str, ...] = (
                APPEND_ONLY.get(name) or BOOKKEEPING.get(name) or ROW_PRIVILEGES
            )
            if kind == "m":  # a materialized view is read only
                privileges = ("SELECT",)
            granted.setdefault(privileges, []).append(name)
        for privileges, names in granted.items():
            self.run(
                sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                    sql.SQL(", ").join(sql.SQL(p) for p in privileges),
                    sql.SQL(", ").join(sql.Identifier(SCHEMA, n) for n in names),
                    self.name,
                )
            )
            what = ", ".join(privileges)
            if set(names) <= set(APPEND_ONLY):
                self.lines.append(f"{what} on {', '.join(names)} (append-only)")
            elif set(names) <= set(BOOKKEEPING):
                self.lines.append(f"{what} on {', '.join(names)} (migration bookkeeping)")
            else:
                self.lines.append(f"{what} on {len(names)} table(s): {', '.join(names)}")

    def _sequences_and_functions(self) -> None:
        schema = sql.Identifier(SCHEMA)
        self.run(
            sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema, self.name)
        )
        self.run(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
                schema, self.name
            )
        )
        self.run(
            sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {} TO {}").format(schema, self.name)
        )
        sequences, functions = self.rows(
            "SELECT (SELECT count(*) FROM pg_class WHERE relkind = 'S' "
            "AND relnamespace = %s::regnamespace), "
            "(SELECT count(*) FROM pg_proc WHERE prokind <> 'p' "
            "AND pronamespace = %s::regnamespace)",
            (SCHEMA, SCHEMA),
        )[0]
        self.lines.append(f"USAGE, SELECT on {sequences} sequence(s)")
        definers = self.rows(
            "SELECT proname FROM pg_proc WHERE prosecdef AND pronamespace = %s::regnamespace "
            "ORDER BY proname",
            (SCHEMA,),
        )
        # A SECURITY DEFINER function runs with its owner's privileges, not the role's.
        note = (
            f"; SECURITY DEFINER: {', '.join(str(row[0]) for row in definers)}"
            if definers
            else " (none is SECURITY DEFINER: each runs with the role's own privileges)"
        )
        self.lines.append(f"EXECUTE on {functions} function(s){note}")

    def _default_privileges(self, owner: str) -> None:
        prefix = sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} ").format(
            sql.Identifier(owner), sql.Identifier(SCHEMA)
        )
        for statement in (
            "REVOKE ALL ON TABLES FROM {}",
            f"GRANT {', '.join(ROW_PRIVILEGES)} ON TABLES TO {{}}",
            "REVOKE ALL ON SEQUENCES FROM {}",
            "GRANT USAGE, SELECT ON SEQUENCES TO {}",
            "GRANT EXECUTE ON FUNCTIONS TO {}",
        ):
            self.run(prefix + sql.SQL(statement).format(self.name))
        self.lines.append(
            f"default privileges of {owner} in schema {SCHEMA}: "
            f"{', '.join(ROW_PRIVILEGES)} on new tables, USAGE, SELECT on new sequences, "
            "EXECUTE on new functions (run `cidery db roles` after each migration to narrow "
            "new append-only or bookkeeping tables)"
        )
