"""What can stop a migration command, each a one-line message for the CLI.

Subclasses of :class:`cidery.errors.CideryError`, so ``cidery`` shows them as one
``error:`` line and exits non-zero. A revision that cannot be found or applied in
the order asked is :class:`cidery.errors.RevisionError`.
"""

from __future__ import annotations

from cidery.errors import CideryError


class MigrationLocked(CideryError):
    """Another runner held the migration lock for longer than ``--wait``."""

    code = "migration_locked"


class LockTimeout(CideryError):
    """A revision could not take its locks within ``lock_timeout``.

    Its transaction was rolled back; the message says what an autocommit step
    of it left behind, if anything.
    """

    code = "lock_timeout"


class DriftCheckFailed(CideryError):
    """The drift check could not run (it compares nothing it could not build)."""

    code = "drift_check_failed"
