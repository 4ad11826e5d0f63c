"""the lots list read newest first by an index

``GET /api/v1/lots`` (``press.list_lots``) lists juice lots newest link first,
a page at a time by the keyset ``(press_run_batches.created_at, batch_id)``.
Without an index on those columns every page sorted every link of every season
(a sequential scan of ``press_run_batches`` and hash joins of the lots, their
costs, runs, growers and vessels, then a sort); with
``press_run_batches_created_at_batch_id_idx`` a page reads its 51 links
backwards from the index and joins each one's lot, cost, run, grower and vessel
by their keys
(``tests/press/test_query_plans.py`` holds the plan to it).

Reviewed by hand after autogenerate: the links are written as runs are
completed, so the index is built ``CONCURRENTLY`` in an autocommit step, and
dropped the same way.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 04:05:00
"""

from collections.abc import Sequence

from alembic import op

from cidery.migrations.authoring import ops

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        ops.create_index_concurrently(
            "press_run_batches_created_at_batch_id_idx",
            "press_run_batches",
            ["created_at", "batch_id"],
        )


def downgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS press_run_batches_created_at_batch_id_idx")
