"""The revision a database is at, and the revisions it has still to apply.

Read with a :data:`~cidery.db.plain.Fetch`, so that ``cidery db status`` reads them on
psycopg alone and the runner, the smoke checks and the API's health check through
SQLAlchemy (:func:`cidery.migrations.scripts.current_revision`), with one statement.
Nothing here imports SQLAlchemy or Alembic.
"""

from __future__ import annotations

from pathlib import Path

from cidery.db.plain import Fetch
from cidery.errors import RevisionError
from cidery.migrations.files import MIGRATIONS_DIR, revision_files

# Alembic's version table, under the default name make_config leaves it, found on the
# search path as Alembic looks for it.
VERSION_TABLE = "alembic_version"

# Bookkeeping, not schema: Alembic's version table and the revision checksums
# (cidery.migrations.bookkeeping.TABLE).
IGNORED_TABLES = (VERSION_TABLE, "alembic_version_checksums")


def current_revision(fetch: Fetch) -> str | None:
    """The revision the database is at; None when it has none (no version table, or empty)."""
    # Looked up first: selecting from a missing table would end the caller's transaction.
    found = fetch(f"SELECT to_regclass('{VERSION_TABLE}') IS NOT NULL AS present")
    if not found[0]["present"]:
        return None
    applied = [str(row["version_num"]) for row in fetch(f"SELECT version_num FROM {VERSION_TABLE}")]
    if len(applied) > 1:
        raise RevisionError(
            f"the database has {len(applied)} revisions applied side by side "
            f"({', '.join(applied)}); cidery's history is one line"
        )
    return applied[0] if applied else None


def pending(current: str | None, script_location: Path = MIGRATIONS_DIR) -> list[str]:
    """Revisions a database at ``current`` has not applied yet, oldest first."""
    ids = [f.revision for f in revision_files(script_location)]
    if current is None:
        return ids
    if current not in ids:
        raise RevisionError(f"the database is at revision {current!r}, which this code lacks")
    return ids[ids.index(current) + 1 :]
