"""one grower's runs in one status read in the list's order

The run list for one grower and one status (``runs-vendor-status``: the runs of
a grower still in progress, newest first, ties by id) read its few runs from
``press_runs_vendor_id_idx (vendor_id, status, start_time)`` and then sorted
them: an *Incremental Sort* on ``id`` after a backward scan, or a bitmap scan
and a sort. Against the original app's ``(vendor_id, status)``, whose plan is a
plain sort, that came out 2-4 % slower at S and M, the interval of each ratio
below 1 (the benchmark's index comparison, and three scratch runs at S:
0.97x, 0.97x, 0.995x). ``press_runs_vendor_id_status_idx (vendor_id, status,
start_time DESC, id DESC)`` holds the list's order itself: the page is read
from the index in order and the plan has no sort (three scratch runs at S:
0.98x, 1.01x, 1.00x). It still starts with ``vendor_id``, so it still serves
the foreign-key check when a grower is deleted, and it is not partial for the
same reason.

Reviewed by hand after autogenerate: press_runs is written during pressing, so
the new index is built ``CONCURRENTLY`` in an autocommit step before the old
one is dropped the same way (the list is served throughout); the downgrade
builds the old index back first.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 16:05:00
"""

from collections.abc import Sequence

from alembic import op

from cidery.migrations.authoring import ops

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        ops.create_index_concurrently(
            "press_runs_vendor_id_status_idx",
            "press_runs",
            ["vendor_id", "status", "start_time DESC", "id DESC"],
        )
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS press_runs_vendor_id_idx")


def downgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        ops.create_index_concurrently(
            "press_runs_vendor_id_idx", "press_runs", ["vendor_id", "status", "start_time"]
        )
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS press_runs_vendor_id_status_idx")
