"""The names of the project's own migration lint rules, and how an exception to one is written.

Revisions excuse a statement with :func:`cidery.migrations.authoring.ops.lint_exception`,
which must tell the project's rules (``-- cidery-ignore``) from squawk's
(``-- squawk-ignore``). The names live here, beside the helpers revisions import,
so that loading a revision never loads the linter that enforces them
(:mod:`cidery.migrations.checks.lint`).
"""

from __future__ import annotations

IGNORE_PREFIX = "cidery-ignore"

FOREIGN_KEY_INDEX = "require-foreign-key-index"
CONCURRENT_INDEX = "require-concurrent-index-on-existing-table"
NOT_NULL_BACKFILL = "require-not-null-default-or-backfill"

# The rules a statement may be excused from, with what each asks.
RULES: dict[str, str] = {
    FOREIGN_KEY_INDEX: "every foreign key has an index leading with its columns",
    CONCURRENT_INDEX: "an index on a table the revision does not create is built CONCURRENTLY",
    NOT_NULL_BACKFILL: "a NOT NULL column on an existing table has a DEFAULT or a backfill",
}
