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

Reading the table back and comparing it with the files is ``cidery db check``'s
part: :mod:`cidery.migrations.checks.checksums`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext, MigrationInfo
from alembic.script import Script

TABLE = "alembic_version_checksums"
_COMMENT_SOURCE = "cidery.checksums"

CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (\n"
    "    revision text PRIMARY KEY,\n"
    "    checksum text NOT NULL,\n"
    "    applied_at timestamptz NOT NULL DEFAULT now()\n"
    ")"
)


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
