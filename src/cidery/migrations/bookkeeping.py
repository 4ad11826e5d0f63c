"""Checksums of applied revisions: a revision file edited after it ran is caught.

Whenever a revision is applied, the sha256 of its file (line endings
normalised to ``\\n``, so a Windows checkout hashes the same) is recorded in
:data:`TABLE`, in the same transaction as the revision; undoing the revision
deletes the row. The statements go through the migration context (Alembic's
``on_version_apply`` callback, :func:`record`), so they run online and also
appear in the offline SQL a DBA applies by hand: a database migrated either
way carries the checksums.

The table is bookkeeping, like ``alembic_version``: it is not in the models,
and autogenerate (:func:`include_name`), the catalog snapshots and the status
table counts leave it out. Like ``alembic_version`` it stays (empty) when the
database is rolled back to base.

:func:`verify` lists what ``cidery db check`` fails on: a revision whose file
changed after it was applied, and a revision applied to the database that this
code has no file for. Revisions applied before checksums existed have no row
(or the table is missing altogether); they are not problems —
:func:`unrecorded` lists them for an informational note.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext, MigrationInfo
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, text

# cidery.migrations.runner is imported where it is used, so that it may import this
# module (for include_name) without a cycle.

TABLE = "alembic_version_checksums"
_COMMENT_SOURCE = "cidery.checksums"

CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (\n"
    "    revision text PRIMARY KEY,\n"
    "    checksum text NOT NULL,\n"
    "    applied_at timestamptz NOT NULL DEFAULT now()\n"
    ")"
)

# How many hex digits of a checksum the messages show.
_SHOWN = 12


def file_checksum(path: str | Path) -> str:
    """sha256 (hex) of a file's bytes, with CRLF and CR line endings read as LF."""
    data = Path(path).read_bytes()
    return hashlib.sha256(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")).hexdigest()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def record_sql(revision: str, checksum: str) -> str:
    return (
        f"INSERT INTO {TABLE} (revision, checksum) "
        f"VALUES ({_literal(revision)}, {_literal(checksum)}) "
        "ON CONFLICT (revision) DO UPDATE "
        "SET checksum = EXCLUDED.checksum, applied_at = now()"
    )


def forget_sql(revision: str) -> str:
    return f"DELETE FROM {TABLE} WHERE revision = {_literal(revision)}"


def record(
    ctx: MigrationContext,
    step: MigrationInfo,
    heads: set[str],
    run_args: dict[str, Any],
) -> None:
    """Alembic ``on_version_apply`` callback: record or forget the step's checksum.

    Alembic calls it inside the revision's own transaction, right after it
    updated ``alembic_version``; ``ctx.execute`` runs the SQL online and writes
    it to the script in offline mode. Stamps (which run nothing) are skipped.
    """
    if step.is_stamp or step.up_revision_id is None:
        return
    if ctx.as_sql:
        # The committed SQL of every revision carries this comment word for word, so it
        # keeps the module's name from when those files were written (cidery.checksums).
        ctx.impl.static_output(
            f"-- {'Record' if step.is_upgrade else 'Forget'} the checksum of revision "
            f"{step.up_revision_id}'s file ({_COMMENT_SOURCE}: `cidery db check` verifies it)"
        )
    # The table may be missing: a database migrated before checksums existed,
    # or the first revision of an offline script.
    ctx.execute(CREATE_TABLE)
    if step.is_upgrade:
        script = step.up_revision
        if not isinstance(script, Script):
            raise TypeError(f"revision {step.up_revision_id} has no script file")
        ctx.execute(record_sql(script.revision, file_checksum(script.path)))
    else:
        ctx.execute(forget_sql(step.up_revision_id))


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate filter (``include_name``): leave the checksum table out."""
    return not (type_ == "table" and name == TABLE)


def recorded(connection: Connection) -> dict[str, str]:
    """Revision -> recorded checksum; empty when the table does not exist."""
    exists = connection.execute(text("SELECT to_regclass(:name)"), {"name": TABLE}).scalar()
    if exists is None:
        return {}
    rows = connection.execute(text(f"SELECT revision, checksum FROM {TABLE} ORDER BY revision"))
    return {row.revision: row.checksum for row in rows}


def _scripts(script_location: Path | None) -> tuple[ScriptDirectory, dict[str, Script]]:
    from cidery.migrations import runner

    scripts = runner.script_directory(script_location or runner.MIGRATIONS_DIR)
    return scripts, {s.revision: s for s in runner.revisions_in_order(scripts)}


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
