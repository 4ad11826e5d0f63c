"""live loads of a run counted by index

The run lists count each run's live loads (``load_count``). The unique index
``press_run_loads_press_run_id_idx (press_run_id, load_sequence)`` served the
count, but being unique it is not deduplicated, so it is a level deeper than
a plain index, and it holds voided loads, so every probe also read the table
to check ``deleted_at``. Measured at scale M, that made three run lists 7-10 %
slower than with the original app's plain ``(press_run_id)`` index.
``press_run_loads_live_press_run_id_idx (press_run_id) WHERE deleted_at IS
NULL`` makes the count an index-only scan (at M: 206 buffers and 0.20 ms per
page of runs, from 367 and 0.46 ms). The unique index stays: it orders a run's
loads and guarantees one number per load.

Reviewed by hand after autogenerate: press_run_loads is written during
pressing, so the index is built ``CONCURRENTLY`` in an autocommit step, and
dropped the same way.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

from cidery.migrations.authoring import ops

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        ops.create_index_concurrently(
            "press_run_loads_live_press_run_id_idx",
            "press_run_loads",
            ["press_run_id"],
            where="deleted_at IS NULL",
        )


def downgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS press_run_loads_live_press_run_id_idx")
