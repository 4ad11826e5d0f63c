"""An empty database brought to a revision by the committed SQL files, without Alembic.

``cidery db migrate`` of an empty database (a new install, a test or CI database)
spent most of its time loading SQLAlchemy and Alembic: 0.3 s of imports against
0.1 s for psql to apply the revisions' SQL. Yet an empty database needs none of
what the runner (:mod:`cidery.migrations.runner`) is for: no data to keep, no
rows archived by a rollback to put back, no index a failed run left, no writer to
wait for. So it gets the committed SQL instead (``sql/<rev>_<slug>.upgrade.sql``),
the files a DBA applies by hand with psql. They are not a second definition of
the schema: the tests hold each to be exactly what Alembic's offline mode makes
of its revision, and the files, applied in order, to build the schema the runner
builds, with the same ``alembic_version`` and revision checksums.

Only a database with nothing in its schema takes this way: no table, view,
sequence, type or function, no archive schema of a rollback; the check is made
under the runner's migration lock, taken without waiting. The files set the
default ``lock_timeout`` and ``statement_timeout``, so other timeouts (settings
``CIDERY_LOCK_TIMEOUT``, ``CIDERY_STATEMENT_TIMEOUT``) go to the runner, as does a
target that is not a revision id or ``head``, and a lock another runner holds
(the runner waits for it, and says so). :func:`upgrade` returns None for all of
those, and the caller runs the runner.

The files are sent as psql sends them, in autocommit: they hold their own
transactions (``BEGIN`` … ``COMMIT``, each sent whole, as one message) and the
steps that must run outside one (``CREATE INDEX CONCURRENTLY``, sent alone). A
failing statement rolls its transaction back, and the error says at which
revision the database stopped; the next ``cidery db migrate`` goes on from there
through the runner.

The statements are told apart by :func:`statements`, a scanner for what the
files hold (Alembic's offline output: quoted strings and identifiers,
dollar-quoted bodies, ``--`` comments). pglast splits with PostgreSQL's own
scanner, but importing it took 40 ms, more than a tenth of the command; the
tests run every committed file through this one and compare the schema built.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import pq

from cidery.config import DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, Settings
from cidery.db import server
from cidery.errors import CideryError
from cidery.migrations.files import (
    MIGRATION_LOCK_KEY,
    MIGRATIONS_DIR,
    revision_files,
    sql_file_paths,
)
from cidery.urls import describe_url

log = logging.getLogger(__name__)

__all__ = ["MigrationFailed", "statements", "upgrade"]

Connection = psycopg.Connection[tuple[object, ...]]

# Anything of the current schema (relations, types, functions), any archive schema
# (cidery_archive_<rev>, left by a rollback: the runner puts its rows back), or the
# schema missing from the search path: not a database for the committed SQL.
_EMPTY = """\
SELECT current_schema() IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = current_schema()::regnamespace)
   AND NOT EXISTS (SELECT 1 FROM pg_type t
                   WHERE t.typnamespace = current_schema()::regnamespace
                     AND t.typtype IN ('e', 'd', 'r', 'm', 'c')
                     AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid))
   AND NOT EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace = current_schema()::regnamespace)
   AND NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname LIKE 'cidery\\_archive\\_%')"""


class MigrationFailed(CideryError):
    """A statement of a revision's committed SQL failed; its transaction was rolled back."""

    code = "migration_failed"


def _targets(target: str, location: Path) -> list[Path] | None:
    """The upgrade files from the first revision to ``target``; None for a target the
    runner resolves (relative steps, ``heads``, a prefix)."""
    files = revision_files(location)
    ids = [f.revision for f in files]
    if target == "head":
        last = len(files)
    elif target in ids:
        last = ids.index(target) + 1
    else:
        return None
    return [sql_file_paths(f)[0] for f in files[:last]]


def upgrade(
    url: str,
    target: str,
    settings: Settings,
    *,
    script_location: Path = MIGRATIONS_DIR,
) -> list[str] | None:
    """Bring an empty database to ``target`` with the committed SQL; the revisions
    applied, oldest first, or None when the database (or the call) is one for the
    runner."""
    if (settings.lock_timeout, settings.statement_timeout) != (
        DEFAULT_LOCK_TIMEOUT,
        DEFAULT_STATEMENT_TIMEOUT,
    ):
        return None
    files = _targets(target, script_location)
    if files is None:
        return None
    conn, _version = server.connect(url, autocommit=True)
    with conn:
        return _apply_if_empty(conn, files, describe_url(url))


def _apply_if_empty(conn: Connection, files: list[Path], where: str) -> list[str] | None:
    try:
        locked = conn.execute("SELECT pg_try_advisory_lock(%s)", (MIGRATION_LOCK_KEY,)).fetchone()
        if locked is None or not locked[0]:
            return None
        try:
            empty = conn.execute(_EMPTY).fetchone()
            if empty is None or not empty[0]:
                return None
            return _apply(conn, files, where)
        finally:
            # A connection that broke has lost its session's lock already.
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    except psycopg.OperationalError as exc:
        raise server.cannot_connect(where, server.said(exc)) from exc
    except psycopg.Error as exc:
        raise MigrationFailed(f"could not look into {where}: {server.said(exc)}") from exc


# What can hold a semicolon that ends no statement, and the semicolon that does.
_TOKEN = re.compile(
    r"""--[^\n]*
      | '(?:[^']|'')*'
      | "(?:[^"]|"")*"
      | \$(?P<tag>[A-Za-z_][A-Za-z_0-9]*|)\$.*?\$(?P=tag)\$
      | ;""",
    re.DOTALL | re.VERBOSE,
)


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("--") for line in text.splitlines())


def statements(sql: str) -> Iterator[str]:
    """The statements of a SQL script, each with its ``;`` (comments before it kept)."""
    start = 0
    for token in _TOKEN.finditer(sql):
        if token.group() == ";":
            if _has_code(sql[start : token.end()]):
                yield sql[start : token.end()].strip()
            start = token.end()
    if _has_code(sql[start:]):
        yield sql[start:].strip()


def _first_word(statement: str) -> str:
    code = "\n".join(line for line in statement.splitlines() if not line.lstrip().startswith("--"))
    return code.split(None, 1)[0].rstrip(";").upper() if code.strip() else ""


def _messages(sql: str) -> Iterator[str]:
    """What is sent: each transaction of the script whole, from its BEGIN to its
    COMMIT, and each statement outside one alone."""
    held: list[str] = []
    for statement in statements(sql):
        word = _first_word(statement)
        if held or word == "BEGIN":
            held.append(statement)
            if word == "COMMIT":
                yield "\n".join(held)
                held = []
        else:
            yield statement
    if held:
        yield "\n".join(held)


def _apply(conn: Connection, files: list[Path], where: str) -> list[str]:
    applied: list[str] = []
    for path in files:
        revision = path.name.split("_", 1)[0]
        for message in _messages(path.read_text(encoding="utf-8")):
            try:
                conn.execute(message, prepare=False)
            except psycopg.Error as exc:
                if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                    with contextlib.suppress(psycopg.Error):
                        conn.execute("ROLLBACK")
                at = applied[-1] if applied else "base (empty)"
                raise MigrationFailed(
                    f"revision {revision} failed and its transaction was rolled back; the "
                    f"database is at revision {at}: {server.said(exc)}"
                ) from exc
        applied.append(revision)
        log.info("applied revision %s from %s on %s", revision, path.name, where)
    return applied
