"""press runs: press_run_status, press_runs and press_run_loads

Operators record pressing load by load; each load draws on one purchase line.
See docs/migrations.md for why each index exists and the rollback procedure.

Reviewed by hand after autogenerate:

* the enum ``press_run_status`` is created explicitly, and the existing
  ``unit`` type is reused, not created again;
* ``purchase_items (id, apple_variety_id)`` becomes unique *before* the loads
  table, whose composite foreign key references it (it ties a load's variety
  to its purchase line's variety); purchase_items holds live data, so its
  index is built ``CONCURRENTLY`` in an autocommit step first, then attached
  as the constraint;
* both tables get the ``set_updated_at`` trigger;
* the downgrade never drops press data silently: tables holding rows are
  copied into the schema ``cidery_archive_0002`` first, and the next upgrade
  puts the rows back (``archive.archive_tables`` / ``archive.restore_archived``).
  ``cidery db rollback --allow-data-loss`` skips the copy.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cidery.migrations import archive, ops

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Parents first: the order rows are restored in, and the reverse of the drop order.
TABLES = ("press_runs", "press_run_loads")


def upgrade() -> None:
    ops.set_timeouts()
    # purchase_items is a live table: build the index without blocking writers,
    # then attach it as the constraint (a brief lock, no table scan).
    with ops.outside_transaction():
        ops.create_index_concurrently(
            "purchase_items_id_apple_variety_id_key",
            "purchase_items",
            ["id", "apple_variety_id"],
            unique=True,
        )
    op.execute(
        "ALTER TABLE purchase_items ADD CONSTRAINT purchase_items_id_apple_variety_id_key "
        "UNIQUE USING INDEX purchase_items_id_apple_variety_id_key"
    )
    ops.create_enum("press_run_status", ("in_progress", "completed", "cancelled"))
    ops.lint_exception(
        "prefer-bigint-over-int",
        "people working one press run (CHECK > 0): a handful",
        column="worker_count",
    )
    op.create_table(
        "press_runs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("vessel_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            postgresql.ENUM(name="press_run_status", create_type=False),
            server_default="in_progress",
            nullable=False,
        ),
        sa.Column(
            "start_time",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "total_apple_weight_kg",
            sa.Numeric(precision=10, scale=3),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("juice_volume", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column(
            "juice_volume_unit", postgresql.ENUM(name="unit", create_type=False), nullable=True
        ),
        sa.Column("total_juice_volume_l", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column(
            "extraction_rate",
            sa.Numeric(precision=6, scale=4),
            sa.Computed(
                "CASE WHEN total_apple_weight_kg > 0 THEN round(total_juice_volume_l / total_apple_weight_kg, 4) END",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.Column("labor_hours", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("worker_count", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "juice_volume_unit IN ('L', 'gal')",
            name=op.f("press_runs_juice_volume_unit_is_volume_check"),
        ),
        sa.CheckConstraint(
            "status <> 'completed' OR (end_time IS NOT NULL AND total_juice_volume_l IS NOT NULL AND vessel_id IS NOT NULL)",
            name=op.f("press_runs_completed_has_outcome_check"),
        ),
        sa.CheckConstraint(
            "status <> 'in_progress' OR end_time IS NULL",
            name=op.f("press_runs_open_has_no_end_check"),
        ),
        sa.CheckConstraint(
            "total_juice_volume_l = round(juice_volume * CASE juice_volume_unit WHEN 'gal' THEN 3.785411784 ELSE 1 END, 3)",
            name=op.f("press_runs_total_juice_volume_l_matches_entry_check"),
        ),
        sa.CheckConstraint(
            "(juice_volume IS NULL) = (juice_volume_unit IS NULL) AND (juice_volume IS NULL) = (total_juice_volume_l IS NULL)",
            name=op.f("press_runs_juice_volume_complete_check"),
        ),
        sa.CheckConstraint("end_time >= start_time", name=op.f("press_runs_end_after_start_check")),
        sa.CheckConstraint(
            "extraction_rate > 0 AND extraction_rate <= 1.2",
            name=op.f("press_runs_extraction_rate_range_check"),
        ),
        sa.CheckConstraint(
            "juice_volume > 0 AND juice_volume <> 'NaN'",
            name=op.f("press_runs_juice_volume_positive_check"),
        ),
        sa.CheckConstraint(
            "labor_hours >= 0 AND labor_hours <> 'NaN'",
            name=op.f("press_runs_labor_hours_nonnegative_check"),
        ),
        sa.CheckConstraint(
            "total_apple_weight_kg >= 0 AND total_apple_weight_kg <> 'NaN'",
            name=op.f("press_runs_total_apple_weight_kg_nonnegative_check"),
        ),
        sa.CheckConstraint(
            "total_juice_volume_l > 0 AND total_juice_volume_l <> 'NaN'",
            name=op.f("press_runs_total_juice_volume_l_positive_check"),
        ),
        sa.CheckConstraint("worker_count > 0", name=op.f("press_runs_worker_count_positive_check")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("press_runs_created_by_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("press_runs_updated_by_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("press_runs_vendor_id_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["vessel_id"], ["vessels.id"], name=op.f("press_runs_vessel_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("press_runs_pkey")),
    )
    op.create_index(op.f("press_runs_created_by_idx"), "press_runs", ["created_by"], unique=False)
    op.create_index(
        "press_runs_status_idx",
        "press_runs",
        ["status", sa.literal_column("start_time DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(op.f("press_runs_updated_by_idx"), "press_runs", ["updated_by"], unique=False)
    op.create_index(
        "press_runs_vendor_id_idx",
        "press_runs",
        ["vendor_id", "status", "start_time"],
        unique=False,
    )
    op.create_index(
        "press_runs_vessel_id_idx", "press_runs", ["vessel_id", "start_time"], unique=False
    )
    ops.lint_exception(
        "prefer-bigint-over-int",
        "number of a load within one press run (unique per run): tens, never near int's 2.1 billion",
        column="load_sequence",
    )
    op.create_table(
        "press_run_loads",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("press_run_id", sa.Uuid(), nullable=False),
        sa.Column("purchase_item_id", sa.Uuid(), nullable=False),
        sa.Column("apple_variety_id", sa.Uuid(), nullable=False),
        sa.Column("load_sequence", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column("weight_unit", postgresql.ENUM(name="unit", create_type=False), nullable=False),
        sa.Column("weight_kg", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column("juice_volume_l", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("brix", sa.Numeric(precision=4, scale=2), nullable=True),
        sa.Column("ph", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "pressed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "weight_kg = round(weight * CASE weight_unit WHEN 'lb' THEN 0.45359237 ELSE 1 END, 3)",
            name=op.f("press_run_loads_weight_kg_matches_entry_check"),
        ),
        sa.CheckConstraint(
            "weight_unit IN ('kg', 'lb')", name=op.f("press_run_loads_weight_unit_is_weight_check")
        ),
        sa.CheckConstraint(
            "brix >= 0 AND brix <= 40", name=op.f("press_run_loads_brix_range_check")
        ),
        sa.CheckConstraint(
            "juice_volume_l > 0 AND juice_volume_l <> 'NaN'",
            name=op.f("press_run_loads_juice_volume_l_positive_check"),
        ),
        sa.CheckConstraint(
            "load_sequence > 0", name=op.f("press_run_loads_load_sequence_positive_check")
        ),
        sa.CheckConstraint("ph >= 0 AND ph <= 14", name=op.f("press_run_loads_ph_range_check")),
        sa.CheckConstraint(
            "weight > 0 AND weight <> 'NaN'", name=op.f("press_run_loads_weight_positive_check")
        ),
        sa.CheckConstraint(
            "weight_kg > 0 AND weight_kg <> 'NaN'",
            name=op.f("press_run_loads_weight_kg_positive_check"),
        ),
        sa.ForeignKeyConstraint(
            ["apple_variety_id"],
            ["apple_varieties.id"],
            name=op.f("press_run_loads_apple_variety_id_fkey"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("press_run_loads_created_by_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["press_run_id"],
            ["press_runs.id"],
            name=op.f("press_run_loads_press_run_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["purchase_item_id", "apple_variety_id"],
            ["purchase_items.id", "purchase_items.apple_variety_id"],
            name=op.f("press_run_loads_purchase_item_id_apple_variety_id_fkey"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("press_run_loads_updated_by_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("press_run_loads_pkey")),
    )
    op.create_index(
        op.f("press_run_loads_apple_variety_id_idx"),
        "press_run_loads",
        ["apple_variety_id"],
        unique=False,
    )
    op.create_index(
        op.f("press_run_loads_created_by_idx"), "press_run_loads", ["created_by"], unique=False
    )
    op.create_index(
        "press_run_loads_press_run_id_idx",
        "press_run_loads",
        ["press_run_id", "load_sequence"],
        unique=True,
    )
    op.create_index(
        "press_run_loads_purchase_item_id_idx",
        "press_run_loads",
        ["purchase_item_id", "apple_variety_id"],
        unique=False,
        postgresql_include=["press_run_id", "weight_kg", "deleted_at"],
    )
    op.create_index(
        op.f("press_run_loads_updated_by_idx"), "press_run_loads", ["updated_by"], unique=False
    )
    for table in TABLES:
        ops.create_updated_at_trigger(table)
    archive.restore_archived(revision, TABLES)


def downgrade() -> None:
    ops.set_timeouts()
    archive.archive_tables(revision, TABLES)
    op.drop_table("press_run_loads")
    op.drop_table("press_runs")
    ops.drop_enum("press_run_status")
    op.drop_constraint(
        op.f("purchase_items_id_apple_variety_id_key"), "purchase_items", type_="unique"
    )
