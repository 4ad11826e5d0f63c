"""validate the CHECKs revision 0007 added NOT VALID

Revision 0007 added its CHECKs on ``press_run_loads``, ``press_runs`` and
``purchase_items`` ``NOT VALID``, so its transaction held their locks only for
the catalog changes. They are enforced on every row written since; this
revision proves the rows written before pass too (their new columns are null,
so they do). ``VALIDATE CONSTRAINT`` scans the table under a SHARE UPDATE
EXCLUSIVE lock, which lets reads and writes go on; each runs in autocommit, so
no scan holds a lock another one took.

The downgrade puts them back ``NOT VALID``, as 0007 left them: dropping a CHECK
and adding it again unvalidated touches only the catalog.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 00:40:00
"""

from collections.abc import Sequence
from typing import cast

from alembic import op

from cidery.migrations.authoring import ops

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, name, condition), as revision 0007 added them.
CHECKS = cast(tuple[tuple[str, str, str], ...], ops.earlier("0007", "CHECKS"))


def _name(table: str, name: str) -> str:
    return f"{table}_{name}_check"


def upgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        for table, name, _ in CHECKS:
            ops.lint_exception(
                "prefer-robust-stmts",
                "validating a constraint that is valid already does nothing: safe to re-run",
            )
            op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {_name(table, name)}")


def downgrade() -> None:
    ops.set_timeouts()
    for table, name, condition in CHECKS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_name(table, name)}")
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {_name(table, name)} CHECK ({condition}) NOT VALID"
        )
