"""pressed fruit kept on the purchase line; runs listed by time

The kilograms pressed from a purchase line become a column of the line,
``purchase_items.pressed_kg``, kept by triggers:

* ``press_run_loads_draw_fruit`` (after a load is inserted, deleted or changed)
  gives back what the old row drew and draws what the new row draws; a load
  draws while it is live and its run is neither cancelled nor deleted;
* ``press_runs_release_fruit`` (after a run's status or deleted_at changes,
  before a run is deleted) gives back, or draws again, all its live loads.

Drawing on a line now updates the line's row, so the database serialises two
operators drawing on one line at every isolation level: under READ COMMITTED
the second waits and re-reads the line; under REPEATABLE READ or SERIALIZABLE
it fails to serialise (the service's retryable ``Conflict``) instead of
reading an old sum. ``pressed_kg_within_quantity`` refuses an over-allocation
whatever wrote the load, and the remaining fruit of a line is a read of one
row instead of a sum over its loads.

Reviewed by hand after autogenerate:

* the loads and runs are locked ``SHARE`` (reads go on, writes wait) while the
  column is backfilled and the triggers created, so no load written meanwhile
  is missed; the loads are summed into a temporary table before the column is
  added, so purchase_items is locked exclusively only for the ADD COLUMN, one
  UPDATE over the lines that have loads, the CHECKs and the triggers;
* the CHECKs on purchase_items are validated at once, under the ADD COLUMN's
  lock: a scan of a table of tens of thousands of rows;
* purchase_items' ``updated_at`` trigger fires only when something else than
  ``pressed_kg`` changes: a load drawn on a line (or the backfill) is not an
  edit of the purchase;
* ``press_runs_start_time_idx`` (live runs newest first, ties by id) serves
  the run list without a filter and its keyset cursor,
  ``press_runs_vendor_id_start_time_idx`` one grower's runs newest first, and
  ``press_runs_extraction_rate_idx`` (completed runs by yield) the yield
  outliers; press_runs is live, so they are built ``CONCURRENTLY`` in an
  autocommit step first;
* the downgrade drops the column without archiving it: it is derived from the
  loads, and the next upgrade computes it again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cidery.migrations.authoring import ops

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A load draws on its line while it and its run are live and the run is not cancelled.
_RUN_COUNTS = "r.status <> 'cancelled' AND r.deleted_at IS NULL"

DRAW_FRUIT = f"""\
CREATE FUNCTION press_run_loads_draw_fruit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN
        UPDATE purchase_items SET pressed_kg = pressed_kg - OLD.weight_kg
        WHERE id = OLD.purchase_item_id
          AND EXISTS (SELECT FROM press_runs r WHERE r.id = OLD.press_run_id AND {_RUN_COUNTS});
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN
        UPDATE purchase_items SET pressed_kg = pressed_kg + NEW.weight_kg
        WHERE id = NEW.purchase_item_id
          AND EXISTS (SELECT FROM press_runs r WHERE r.id = NEW.press_run_id AND {_RUN_COUNTS});
    END IF;
    RETURN NULL;
END
$$"""

# BEFORE DELETE: the loads deleted by the cascade then find no run, and give back nothing
# twice. The lines are locked in id order first, so two runs cancelled at once cannot
# deadlock on lines they share.
RELEASE_FRUIT = """\
CREATE FUNCTION press_runs_release_fruit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    counted boolean := OLD.status <> 'cancelled' AND OLD.deleted_at IS NULL;
    counts boolean := TG_OP = 'UPDATE' AND NEW.status <> 'cancelled' AND NEW.deleted_at IS NULL;
BEGIN
    IF counted <> counts THEN
        PERFORM FROM purchase_items
        WHERE id IN (SELECT purchase_item_id FROM press_run_loads
                     WHERE press_run_id = OLD.id AND deleted_at IS NULL)
        ORDER BY id FOR UPDATE;
        UPDATE purchase_items i
        SET pressed_kg = i.pressed_kg + CASE WHEN counts THEN d.kg ELSE -d.kg END
        FROM (SELECT purchase_item_id, sum(weight_kg) AS kg FROM press_run_loads
              WHERE press_run_id = OLD.id AND deleted_at IS NULL
              GROUP BY purchase_item_id) d
        WHERE i.id = d.purchase_item_id;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END
$$"""

# The sums first, into a temporary table, while purchase_items is still only read: the
# long part (every load of every season) does not hold its ACCESS EXCLUSIVE lock.
DRAWN = f"""\
CREATE TEMPORARY TABLE drawn ON COMMIT DROP AS
SELECT l.purchase_item_id, sum(l.weight_kg) AS kg
FROM press_run_loads l JOIN press_runs r ON r.id = l.press_run_id
WHERE l.deleted_at IS NULL AND {_RUN_COUNTS}
GROUP BY l.purchase_item_id"""

BACKFILL = """\
UPDATE purchase_items i SET pressed_kg = d.kg FROM drawn d WHERE i.id = d.purchase_item_id"""


# A load drawn on a line is not an edit of the purchase: updated_at moves only when
# something other than the triggers' pressed_kg changes.
_LINE_EDITED = """\
CREATE TRIGGER purchase_items_set_updated_at BEFORE UPDATE ON purchase_items
FOR EACH ROW WHEN (OLD.pressed_kg IS NOT DISTINCT FROM NEW.pressed_kg)
EXECUTE FUNCTION set_updated_at()"""


def upgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        ops.create_index_concurrently(
            "press_runs_start_time_idx",
            "press_runs",
            ["start_time DESC", "id DESC"],
            where="deleted_at IS NULL",
        )
        ops.create_index_concurrently(
            "press_runs_vendor_id_start_time_idx",
            "press_runs",
            ["vendor_id", "start_time DESC", "id DESC"],
            where="deleted_at IS NULL",
        )
        ops.create_index_concurrently(
            "press_runs_extraction_rate_idx",
            "press_runs",
            ["extraction_rate"],
            where="status = 'completed' AND deleted_at IS NULL",
        )
    op.execute("LOCK TABLE press_runs, press_run_loads IN SHARE MODE")
    op.execute(DRAWN)
    op.add_column(
        "purchase_items",
        sa.Column(
            "pressed_kg",
            sa.Numeric(precision=10, scale=3),
            server_default=sa.text("0"),
            nullable=False,
        ),
    )
    op.execute("DROP TRIGGER purchase_items_set_updated_at ON purchase_items")
    op.execute(_LINE_EDITED)
    op.execute(BACKFILL)
    for name, condition in (
        ("purchase_items_pressed_kg_nonnegative_check", "pressed_kg >= 0 AND pressed_kg <> 'NaN'"),
        (
            "purchase_items_pressed_kg_within_quantity_check",
            "pressed_kg <= coalesce(quantity_kg, 0)",
        ),
    ):
        ops.lint_exception(
            "constraint-missing-not-valid",
            "purchase_items holds tens of thousands of rows (20,000 at scale L): "
            "validating scans it in milliseconds, under the ADD COLUMN's lock",
        )
        op.create_check_constraint(op.f(name), "purchase_items", condition)
    op.execute(DRAW_FRUIT)
    op.execute(
        "CREATE TRIGGER press_run_loads_draw_fruit "
        "AFTER INSERT OR DELETE OR UPDATE OF press_run_id, purchase_item_id, weight_kg, deleted_at "
        "ON press_run_loads FOR EACH ROW EXECUTE FUNCTION press_run_loads_draw_fruit()"
    )
    op.execute(RELEASE_FRUIT)
    op.execute(
        "CREATE TRIGGER press_runs_release_fruit AFTER UPDATE OF status, deleted_at "
        "ON press_runs FOR EACH ROW EXECUTE FUNCTION press_runs_release_fruit()"
    )
    op.execute(
        "CREATE TRIGGER press_runs_release_fruit_on_delete BEFORE DELETE "
        "ON press_runs FOR EACH ROW EXECUTE FUNCTION press_runs_release_fruit()"
    )


def downgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS press_runs_extraction_rate_idx")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS press_runs_vendor_id_start_time_idx")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS press_runs_start_time_idx")
    op.execute("DROP TRIGGER press_runs_release_fruit_on_delete ON press_runs")
    op.execute("DROP TRIGGER press_runs_release_fruit ON press_runs")
    op.execute("DROP FUNCTION press_runs_release_fruit()")
    op.execute("DROP TRIGGER press_run_loads_draw_fruit ON press_run_loads")
    op.execute("DROP FUNCTION press_run_loads_draw_fruit()")
    op.execute("DROP TRIGGER purchase_items_set_updated_at ON purchase_items")
    op.execute(
        "CREATE TRIGGER purchase_items_set_updated_at BEFORE UPDATE ON purchase_items "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.drop_constraint("purchase_items_pressed_kg_within_quantity_check", "purchase_items")
    op.drop_constraint("purchase_items_pressed_kg_nonnegative_check", "purchase_items")
    # Derived from the loads: the next upgrade computes it again, nothing is lost.
    op.drop_column("purchase_items", "pressed_kg")
