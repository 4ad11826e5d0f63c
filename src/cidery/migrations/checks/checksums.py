"""Checksums of applied revisions against the files of this code (``cidery db check``).

:func:`verify` lists what ``cidery db check`` fails on: a revision whose file
changed after it was applied, and a revision applied to the database that this
code has no file for. Revisions applied before checksums existed have no row
(or the table is missing altogether); they are not problems —
:func:`unrecorded` lists them for an informational note.

The checksums are written while migrating, by :mod:`cidery.migrations.bookkeeping`.
"""

from __future__ import annotations

from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, text

from cidery.migrations.bookkeeping import TABLE, file_checksum
from cidery.migrations.scripts import MIGRATIONS_DIR, revisions_in_order, script_directory

# How many hex digits of a checksum the messages show.
_SHOWN = 12


def recorded(connection: Connection) -> dict[str, str]:
    """Revision -> recorded checksum; empty when the table does not exist."""
    exists = connection.execute(text("SELECT to_regclass(:name)"), {"name": TABLE}).scalar()
    if exists is None:
        return {}
    rows = connection.execute(text(f"SELECT revision, checksum FROM {TABLE} ORDER BY revision"))
    return {row.revision: row.checksum for row in rows}


def _scripts(script_location: Path | None) -> tuple[ScriptDirectory, dict[str, Script]]:
    scripts = script_directory(script_location or MIGRATIONS_DIR)
    return scripts, {s.revision: s for s in revisions_in_order(scripts)}


def _short(checksum: str) -> str:
    return checksum[:_SHOWN] + "…"


def verify(connection: Connection, script_location: Path | None = None) -> list[str]:
    """Every checksum problem of the database, one line each (empty when none).

    ``script_location`` is the migrations directory of the code (default: the
    one shipped in this package).

    * a revision whose file differs from the one that was applied;
    * a revision applied to the database (in ``alembic_version`` or with a
      recorded checksum) that no file in this code has.

    Applied revisions without a recorded checksum are not problems: see
    :func:`unrecorded`.
    """
    _directory, in_code = _scripts(script_location)
    checksums = recorded(connection)
    heads = MigrationContext.configure(connection).get_current_heads()

    problems = []
    for revision, script in in_code.items():
        if revision in checksums:
            now = file_checksum(script.path)
            if now != checksums[revision]:
                problems.append(
                    f"revision {revision} was edited after it was applied "
                    f"(recorded {_short(checksums[revision])}, file now {_short(now)})"
                )
    unknown = sorted((set(heads) | set(checksums)) - set(in_code))
    problems.extend(
        f"revision {revision} is applied but no file in this code has it" for revision in unknown
    )
    return problems


def unrecorded(connection: Connection, script_location: Path | None = None) -> list[str]:
    """Applied revisions with no recorded checksum (applied before checksums existed),
    oldest first: their files cannot be verified."""
    directory, in_code = _scripts(script_location)
    checksums = recorded(connection)
    heads = MigrationContext.configure(connection).get_current_heads()
    applied: set[str] = set()
    for head in heads:
        if head in in_code:
            applied.update(s.revision for s in directory.iterate_revisions(head, "base"))
    return [revision for revision in in_code if revision in applied and revision not in checksums]
