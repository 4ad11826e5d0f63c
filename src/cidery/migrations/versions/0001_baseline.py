"""baseline: the cidery core before pressing

Users, growers and their fruit (vendors, apple varieties, purchases and their
lines), the cellar (vessels, batches, measurements), packaging and stock, cost
of goods and the audit log.

Reviewed by hand after autogenerate: enum types are created once, explicitly
(``unit`` serves two tables); a trigger keeps ``updated_at`` current on every
table that has it; the downgrade archives the rows of every table (see
``cidery.migrations.archive``; the upgrade restores them), then drops tables
(their indexes go with them), the trigger function and the enum types.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cidery.migrations import archive, ops

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Parents first: the order rows are restored in. audit_logs has no updated_at.
TABLES = (
    "apple_varieties",
    "users",
    "vendors",
    "vessels",
    "audit_logs",
    "batches",
    "purchases",
    "batch_costs",
    "batch_measurements",
    "cogs_items",
    "packages",
    "purchase_items",
    "inventory",
    "inventory_transactions",
)
UPDATED_AT_TABLES = (
    "apple_varieties",
    "users",
    "vendors",
    "vessels",
    "batches",
    "purchases",
    "batch_costs",
    "batch_measurements",
    "cogs_items",
    "packages",
    "purchase_items",
    "inventory",
    "inventory_transactions",
)


def upgrade() -> None:
    ops.set_timeouts()
    ops.create_enum("user_role", ("admin", "operator", "viewer"))
    ops.create_enum(
        "vessel_type", ("fermenter", "conditioning_tank", "bright_tank", "barrel", "storage")
    )
    ops.create_enum("vessel_status", ("available", "in_use", "cleaning", "maintenance"))
    ops.create_enum("audit_operation", ("insert", "update", "delete"))
    ops.create_enum(
        "batch_status",
        ("planned", "fermenting", "conditioning", "packaged", "completed", "discarded"),
    )
    ops.create_enum("cogs_item_type", ("apples", "labor", "overhead", "packaging", "other"))
    ops.create_enum("unit", ("kg", "lb", "L", "gal", "bushel"))
    ops.create_enum("transaction_type", ("production", "sale", "transfer", "adjustment", "waste"))
    ops.create_updated_at_function()
    op.create_table(
        "apple_varieties",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("typical_brix", sa.Numeric(precision=4, scale=2), nullable=True),
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
        sa.CheckConstraint(
            "length(btrim(name)) > 0", name=op.f("apple_varieties_name_not_blank_check")
        ),
        sa.CheckConstraint(
            "typical_brix >= 0 AND typical_brix <= 40",
            name=op.f("apple_varieties_typical_brix_range_check"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("apple_varieties_pkey")),
    )
    op.create_index(
        "apple_varieties_name_key",
        "apple_varieties",
        [sa.literal_column("lower(name)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            postgresql.ENUM(name="user_role", create_type=False),
            server_default="viewer",
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint("position('@' in email) > 1", name=op.f("users_email_format_check")),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("users_name_not_blank_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("users_pkey")),
    )
    op.create_index(
        "users_email_key",
        "users",
        [sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "vendors",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "contact_info",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
        sa.CheckConstraint(
            "jsonb_typeof(contact_info) = 'object'", name=op.f("vendors_contact_info_object_check")
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("vendors_name_not_blank_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("vendors_pkey")),
    )
    op.create_index(
        "vendors_name_key",
        "vendors",
        [sa.literal_column("lower(name)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "vessels",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", postgresql.ENUM(name="vessel_type", create_type=False), nullable=False),
        sa.Column(
            "status",
            postgresql.ENUM(name="vessel_status", create_type=False),
            server_default="available",
            nullable=False,
        ),
        sa.Column("capacity_l", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
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
        sa.CheckConstraint(
            "capacity_l > 0 AND capacity_l <> 'NaN'", name=op.f("vessels_capacity_l_positive_check")
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("vessels_name_not_blank_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("vessels_pkey")),
    )
    op.create_index(
        "vessels_name_key",
        "vessels",
        [sa.literal_column("lower(name)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("vessels_status_idx", "vessels", ["status"], unique=False)
    op.create_table(
        "audit_logs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column(
            "operation", postgresql.ENUM(name="audit_operation", create_type=False), nullable=False
        ),
        sa.Column("old_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("diff", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(operation = 'insert' AND old_data IS NULL AND new_data IS NOT NULL) OR (operation = 'update' AND old_data IS NOT NULL AND new_data IS NOT NULL) OR (operation = 'delete' AND old_data IS NOT NULL AND new_data IS NULL)",
            name=op.f("audit_logs_data_matches_operation_check"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["users.id"], name=op.f("audit_logs_changed_by_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("audit_logs_pkey")),
    )
    op.create_index("audit_logs_changed_at_idx", "audit_logs", ["changed_at"], unique=False)
    op.create_index(op.f("audit_logs_changed_by_idx"), "audit_logs", ["changed_by"], unique=False)
    op.create_index(
        "audit_logs_table_name_record_id_idx",
        "audit_logs",
        ["table_name", "record_id", "changed_at"],
        unique=False,
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("batch_number", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("vessel_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            postgresql.ENUM(name="batch_status", create_type=False),
            server_default="planned",
            nullable=False,
        ),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("initial_volume_l", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column("current_volume_l", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column("target_abv", sa.Numeric(precision=4, scale=2), nullable=True),
        sa.Column("actual_abv", sa.Numeric(precision=4, scale=2), nullable=True),
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
        sa.CheckConstraint(
            "actual_abv >= 0 AND actual_abv <= 100", name=op.f("batches_actual_abv_range_check")
        ),
        sa.CheckConstraint(
            "current_volume_l >= 0 AND current_volume_l <> 'NaN'",
            name=op.f("batches_current_volume_l_nonnegative_check"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("batches_dates_ordered_check")
        ),
        sa.CheckConstraint(
            "initial_volume_l > 0 AND initial_volume_l <> 'NaN'",
            name=op.f("batches_initial_volume_l_positive_check"),
        ),
        sa.CheckConstraint(
            "target_abv >= 0 AND target_abv <= 100", name=op.f("batches_target_abv_range_check")
        ),
        sa.ForeignKeyConstraint(["vessel_id"], ["vessels.id"], name=op.f("batches_vessel_id_fkey")),
        sa.PrimaryKeyConstraint("id", name=op.f("batches_pkey")),
    )
    op.create_index(
        "batches_batch_number_key",
        "batches",
        ["batch_number"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("batches_status_idx", "batches", ["status"], unique=False)
    op.create_index(op.f("batches_vessel_id_idx"), "batches", ["vessel_id"], unique=False)
    op.create_table(
        "purchases",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=False),
        sa.Column("invoice_number", sa.String(length=100), nullable=True),
        sa.Column(
            "total_cost",
            sa.Numeric(precision=10, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
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
        sa.CheckConstraint(
            "total_cost >= 0 AND total_cost <> 'NaN'",
            name=op.f("purchases_total_cost_nonnegative_check"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("purchases_vendor_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("purchases_pkey")),
    )
    op.create_index("purchases_purchase_date_idx", "purchases", ["purchase_date"], unique=False)
    op.create_index(op.f("purchases_vendor_id_idx"), "purchases", ["vendor_id"], unique=False)
    op.create_index(
        "purchases_vendor_id_invoice_number_key",
        "purchases",
        ["vendor_id", "invoice_number"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL AND invoice_number IS NOT NULL"),
    )
    op.create_table(
        "batch_costs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column(
            "total_apple_cost",
            sa.Numeric(precision=10, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "labor_cost",
            sa.Numeric(precision=10, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "overhead_cost",
            sa.Numeric(precision=10, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "packaging_cost",
            sa.Numeric(precision=10, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "total_cost",
            sa.Numeric(precision=10, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("cost_per_bottle", sa.Numeric(precision=8, scale=4), nullable=True),
        sa.Column("cost_per_l", sa.Numeric(precision=8, scale=4), nullable=True),
        sa.Column(
            "calculated_at",
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
        sa.CheckConstraint(
            "cost_per_bottle >= 0 AND cost_per_bottle <> 'NaN'",
            name=op.f("batch_costs_cost_per_bottle_nonnegative_check"),
        ),
        sa.CheckConstraint(
            "cost_per_l >= 0 AND cost_per_l <> 'NaN'",
            name=op.f("batch_costs_cost_per_l_nonnegative_check"),
        ),
        sa.CheckConstraint(
            "total_apple_cost >= 0 AND total_apple_cost <> 'NaN' AND labor_cost >= 0 AND labor_cost <> 'NaN' AND overhead_cost >= 0 AND overhead_cost <> 'NaN' AND packaging_cost >= 0 AND packaging_cost <> 'NaN'",
            name=op.f("batch_costs_components_nonnegative_check"),
        ),
        sa.CheckConstraint(
            "total_cost = total_apple_cost + labor_cost + overhead_cost + packaging_cost",
            name=op.f("batch_costs_total_is_sum_check"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("batch_costs_batch_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("batch_costs_pkey")),
        sa.UniqueConstraint("batch_id", name=op.f("batch_costs_batch_id_key")),
    )
    op.create_table(
        "batch_measurements",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column(
            "measured_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("specific_gravity", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column("brix", sa.Numeric(precision=4, scale=2), nullable=True),
        sa.Column("ph", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column("abv", sa.Numeric(precision=4, scale=2), nullable=True),
        sa.Column("temperature_c", sa.Numeric(precision=4, scale=1), nullable=True),
        sa.Column("volume_l", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("measured_by", sa.Uuid(), nullable=True),
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
        sa.CheckConstraint(
            "abv >= 0 AND abv <= 100", name=op.f("batch_measurements_abv_range_check")
        ),
        sa.CheckConstraint(
            "brix >= 0 AND brix <= 40", name=op.f("batch_measurements_brix_range_check")
        ),
        sa.CheckConstraint(
            "num_nonnulls(specific_gravity, brix, ph, abv, temperature_c, volume_l) > 0",
            name=op.f("batch_measurements_has_a_reading_check"),
        ),
        sa.CheckConstraint("ph >= 0 AND ph <= 14", name=op.f("batch_measurements_ph_range_check")),
        sa.CheckConstraint(
            "specific_gravity >= 0.9 AND specific_gravity <= 1.2",
            name=op.f("batch_measurements_specific_gravity_range_check"),
        ),
        sa.CheckConstraint(
            "temperature_c >= -20 AND temperature_c <= 100",
            name=op.f("batch_measurements_temperature_range_check"),
        ),
        sa.CheckConstraint(
            "volume_l >= 0 AND volume_l <> 'NaN'",
            name=op.f("batch_measurements_volume_l_nonnegative_check"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
            name=op.f("batch_measurements_batch_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["measured_by"], ["users.id"], name=op.f("batch_measurements_measured_by_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("batch_measurements_pkey")),
    )
    op.create_index(
        op.f("batch_measurements_batch_id_idx"), "batch_measurements", ["batch_id"], unique=False
    )
    op.create_index(
        op.f("batch_measurements_measured_by_idx"),
        "batch_measurements",
        ["measured_by"],
        unique=False,
    )
    op.create_table(
        "cogs_items",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column(
            "item_type", postgresql.ENUM(name="cogs_item_type", create_type=False), nullable=False
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("cost", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("unit", postgresql.ENUM(name="unit", create_type=False), nullable=True),
        sa.Column(
            "applied_at",
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
        sa.CheckConstraint(
            "(quantity IS NULL) = (unit IS NULL)", name=op.f("cogs_items_quantity_has_unit_check")
        ),
        sa.CheckConstraint(
            "cost >= 0 AND cost <> 'NaN'", name=op.f("cogs_items_cost_nonnegative_check")
        ),
        sa.CheckConstraint(
            "quantity > 0 AND quantity <> 'NaN'", name=op.f("cogs_items_quantity_positive_check")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("cogs_items_batch_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("cogs_items_pkey")),
    )
    op.create_index(op.f("cogs_items_batch_id_idx"), "cogs_items", ["batch_id"], unique=False)
    ops.lint_exception(
        "prefer-bigint-over-int",
        "millilitres in one bottle: thousands at most, int holds 2.1 billion; a measure, not an id or a running total",
        column="bottle_size_ml",
    )
    ops.lint_exception(
        "prefer-bigint-over-int",
        "bottles filled in one packaging run: bounded by the batch's volume, never near int's 2.1 billion",
        column="bottle_count",
    )
    op.create_table(
        "packages",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("package_date", sa.Date(), nullable=False),
        sa.Column("volume_packaged_l", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column("bottle_size_ml", sa.Integer(), nullable=False),
        sa.Column("bottle_count", sa.Integer(), nullable=False),
        sa.Column("abv_at_packaging", sa.Numeric(precision=4, scale=2), nullable=True),
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
        sa.CheckConstraint(
            "abv_at_packaging >= 0 AND abv_at_packaging <= 100",
            name=op.f("packages_abv_at_packaging_range_check"),
        ),
        sa.CheckConstraint("bottle_count > 0", name=op.f("packages_bottle_count_positive_check")),
        sa.CheckConstraint(
            "bottle_size_ml > 0", name=op.f("packages_bottle_size_ml_positive_check")
        ),
        sa.CheckConstraint(
            "volume_packaged_l > 0 AND volume_packaged_l <> 'NaN'",
            name=op.f("packages_volume_packaged_l_positive_check"),
        ),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("packages_batch_id_fkey")),
        sa.PrimaryKeyConstraint("id", name=op.f("packages_pkey")),
    )
    op.create_index(op.f("packages_batch_id_idx"), "packages", ["batch_id"], unique=False)
    op.create_table(
        "purchase_items",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("purchase_id", sa.Uuid(), nullable=False),
        sa.Column("apple_variety_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column("unit", postgresql.ENUM(name="unit", create_type=False), nullable=False),
        sa.Column("quantity_kg", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("quantity_l", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("price_per_unit", sa.Numeric(precision=8, scale=4), nullable=True),
        sa.Column("total_cost", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("harvest_date", sa.Date(), nullable=True),
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
        sa.CheckConstraint(
            "unit NOT IN ('L', 'gal') OR quantity_l IS NOT NULL",
            name=op.f("purchase_items_volume_has_quantity_l_check"),
        ),
        sa.CheckConstraint(
            "unit NOT IN ('kg', 'lb', 'bushel') OR quantity_kg IS NOT NULL",
            name=op.f("purchase_items_weight_has_quantity_kg_check"),
        ),
        sa.CheckConstraint(
            "price_per_unit >= 0 AND price_per_unit <> 'NaN'",
            name=op.f("purchase_items_price_per_unit_nonnegative_check"),
        ),
        sa.CheckConstraint(
            "quantity > 0 AND quantity <> 'NaN'",
            name=op.f("purchase_items_quantity_positive_check"),
        ),
        sa.CheckConstraint(
            "quantity_kg > 0 AND quantity_kg <> 'NaN'",
            name=op.f("purchase_items_quantity_kg_positive_check"),
        ),
        sa.CheckConstraint(
            "quantity_l > 0 AND quantity_l <> 'NaN'",
            name=op.f("purchase_items_quantity_l_positive_check"),
        ),
        sa.CheckConstraint(
            "total_cost >= 0 AND total_cost <> 'NaN'",
            name=op.f("purchase_items_total_cost_nonnegative_check"),
        ),
        sa.ForeignKeyConstraint(
            ["apple_variety_id"],
            ["apple_varieties.id"],
            name=op.f("purchase_items_apple_variety_id_fkey"),
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["purchases.id"],
            name=op.f("purchase_items_purchase_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("purchase_items_pkey")),
    )
    op.create_index(
        op.f("purchase_items_apple_variety_id_idx"),
        "purchase_items",
        ["apple_variety_id"],
        unique=False,
    )
    op.create_index(
        op.f("purchase_items_purchase_id_idx"), "purchase_items", ["purchase_id"], unique=False
    )
    ops.lint_exception(
        "prefer-bigint-over-int",
        "bottles of one package held at one location: bounded by that package's bottle_count, an int",
        column="current_bottle_count",
    )
    ops.lint_exception(
        "prefer-bigint-over-int",
        "bounded by current_bottle_count (CHECK reserved_within_current), an int",
        column="reserved_bottle_count",
    )
    op.create_table(
        "inventory",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("current_bottle_count", sa.Integer(), nullable=False),
        sa.Column("reserved_bottle_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
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
        sa.CheckConstraint(
            "current_bottle_count >= 0",
            name=op.f("inventory_current_bottle_count_nonnegative_check"),
        ),
        sa.CheckConstraint(
            "reserved_bottle_count <= current_bottle_count",
            name=op.f("inventory_reserved_within_current_check"),
        ),
        sa.CheckConstraint(
            "reserved_bottle_count >= 0",
            name=op.f("inventory_reserved_bottle_count_nonnegative_check"),
        ),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name=op.f("inventory_package_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("inventory_pkey")),
    )
    op.create_index(op.f("inventory_package_id_idx"), "inventory", ["package_id"], unique=False)
    ops.lint_exception(
        "prefer-bigint-over-int",
        "bottles moved by one transaction: bounded by one package's stock; a change, not a running total",
        column="quantity_change",
    )
    op.create_table(
        "inventory_transactions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("inventory_id", sa.Uuid(), nullable=False),
        sa.Column(
            "transaction_type",
            postgresql.ENUM(name="transaction_type", create_type=False),
            nullable=False,
        ),
        sa.Column("quantity_change", sa.Integer(), nullable=False),
        sa.Column(
            "transaction_date",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
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
        sa.CheckConstraint(
            "quantity_change <> 0",
            name=op.f("inventory_transactions_quantity_change_nonzero_check"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("inventory_transactions_created_by_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["inventory.id"],
            name=op.f("inventory_transactions_inventory_id_fkey"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("inventory_transactions_pkey")),
    )
    op.create_index(
        op.f("inventory_transactions_created_by_idx"),
        "inventory_transactions",
        ["created_by"],
        unique=False,
    )
    op.create_index(
        op.f("inventory_transactions_inventory_id_idx"),
        "inventory_transactions",
        ["inventory_id"],
        unique=False,
    )
    for table in UPDATED_AT_TABLES:
        ops.create_updated_at_trigger(table)
    archive.restore_archived(revision, TABLES)


def downgrade() -> None:
    ops.set_timeouts()
    archive.archive_tables(revision, TABLES)
    op.drop_table("inventory_transactions")
    op.drop_table("inventory")
    op.drop_table("purchase_items")
    op.drop_table("packages")
    op.drop_table("cogs_items")
    op.drop_table("batch_measurements")
    op.drop_table("batch_costs")
    op.drop_table("purchases")
    op.drop_table("batches")
    op.drop_table("audit_logs")
    op.drop_table("vessels")
    op.drop_table("vendors")
    op.drop_table("users")
    op.drop_table("apple_varieties")
    ops.drop_updated_at_function()
    ops.drop_enum("transaction_type")
    ops.drop_enum("unit")
    ops.drop_enum("cogs_item_type")
    ops.drop_enum("batch_status")
    ops.drop_enum("audit_operation")
    ops.drop_enum("vessel_status")
    ops.drop_enum("vessel_type")
    ops.drop_enum("user_role")
