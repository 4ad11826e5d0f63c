"""juice lots, weigh tags and fruit write-offs

From the press to the cellar, and every kilogram accounted for:

* ``press_run_batches`` links a completed run to the juice lots (``batches``) its
  juice filled, with the litres each received. A run's links add up to its juice
  exactly: ``press_run_batches_match_juice``, a constraint trigger deferred to the
  commit (a completion writes several links, and the sum only holds once all are
  written), on the links and on the run's juice and status. A trigger, not a check
  the smoke suite runs: the smoke suite would find a bad sum after the fact, the
  trigger refuses the transaction that makes it. Runs completed before this
  revision have no links and are not checked.
* ``juice_lot_numbers``: the sequence behind the lots' readable numbers
  (``2026-R0042-A``); after a rollback and a new upgrade it resumes after the
  highest number already given.
* weigh tags: ``press_run_loads.gross_weight`` and ``tare_weight`` (the bin or
  truck weighed full and empty, in the load's unit); when given, the load's
  ``weight`` is their difference and the tare is below the gross.
* ``press_runs.pomace_kg`` (for the mass balance) and ``labor_rate`` (the rate the
  run's lots were costed at).
* ``fruit_write_offs``: fruit of a purchase line written off as waste, with its
  reason; ``purchase_items.written_off_kg`` is their sum, kept by a trigger as
  ``pressed_kg`` is kept by the loads', and ``fruit_within_quantity`` replaces
  ``pressed_kg_within_quantity``: pressed and written off together stay within
  what was bought. The line's ``updated_at`` ignores it, as it ignores
  ``pressed_kg``: a write-off is recorded as a row of its own.
* ``press_add_load()`` takes the weigh tag and counts written-off fruit as gone; the
  call of the previous revisions stays, as a wrapper of the new one, so an app of
  those revisions still running during a rolling deploy keeps adding loads (a
  later revision drops it).
* costs may be unknown: ``batch_costs``' apple, labor and total cost and
  ``cogs_items.cost`` become nullable (a purchase line without a price is never
  costed as zero), with CHECKs that a total is known exactly when its parts are;
  ``cogs_items.purchase_item_id`` names the line a fruit cost was drawn on.

Reviewed by hand after autogenerate (which does not compare CHECKs, triggers,
functions or sequences):

* every new column is nullable or has a constant default: no table is rewritten;
  the CHECKs on the existing, large tables (``press_run_loads``, ``press_runs``,
  ``purchase_items``) are added ``NOT VALID`` under the ADD COLUMN's brief lock,
  and revision 0008 validates them in autocommit, under a lock that lets writes
  go on (the new columns are all null, so every row passes). A revision of its
  own: a step after this revision's commit that failed would leave it applied but
  not recorded;
* ``cogs_items`` holds a row per cost item of a batch (thousands, not millions):
  its new index and foreign key are built in the transaction;
* the downgrade keeps every row and value: the new tables are archived, the new
  columns' values are archived by ``id`` (``archive.archive_columns``), and the
  cost rows the old schema cannot hold (a NULL cost) are moved to the archive; the
  next upgrade puts all of it back, ``updated_at`` untouched.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 00:05:58.406406
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cidery.migrations.authoring import archive, ops

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Parents first: the order rows are put back in.
TABLES = ("fruit_write_offs", "press_run_batches", "batch_costs", "cogs_items")
# The values of the new columns of existing tables, archived by id on the way down.
COLUMNS = {
    "press_run_loads": ("gross_weight", "tare_weight"),
    "press_runs": ("pomace_kg", "labor_rate"),
    "cogs_items": ("purchase_item_id",),
}
# Rows the old schema cannot hold: their NOT NULL costs are unknown.
UNKNOWN_COSTS = {
    "batch_costs": "total_apple_cost IS NULL OR labor_cost IS NULL OR total_cost IS NULL",
    "cogs_items": "cost IS NULL",
}
# CHECKs added NOT VALID in the transaction and validated after it (see the docstring).
CHECKS = (
    ("press_run_loads", "weigh_tag_complete", "(gross_weight IS NULL) = (tare_weight IS NULL)"),
    ("press_run_loads", "tare_weight_nonnegative", "tare_weight >= 0 AND tare_weight <> 'NaN'"),
    ("press_run_loads", "tare_below_gross", "tare_weight < gross_weight"),
    ("press_run_loads", "weight_is_net_of_tare", "weight = gross_weight - tare_weight"),
    ("press_runs", "pomace_kg_positive", "pomace_kg > 0 AND pomace_kg <> 'NaN'"),
    ("press_runs", "labor_rate_nonnegative", "labor_rate >= 0 AND labor_rate <> 'NaN'"),
    (
        "purchase_items",
        "written_off_kg_nonnegative",
        "written_off_kg >= 0 AND written_off_kg <> 'NaN'",
    ),
    (
        "purchase_items",
        "fruit_within_quantity",
        "pressed_kg + written_off_kg <= coalesce(quantity_kg, 0)",
    ),
)

MATCH_JUICE = """\
CREATE FUNCTION press_run_batches_match_juice() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    runs uuid[];
    checked uuid;
    linked numeric;
    juice numeric;
    run_status press_run_status;
BEGIN
    IF TG_TABLE_NAME = 'press_runs' THEN
        runs := ARRAY[NEW.id];
    ELSIF TG_OP = 'INSERT' THEN
        runs := ARRAY[NEW.press_run_id];
    ELSIF TG_OP = 'DELETE' THEN
        runs := ARRAY[OLD.press_run_id];
    ELSE
        runs := ARRAY[OLD.press_run_id, NEW.press_run_id];
    END IF;
    FOREACH checked IN ARRAY runs LOOP
        SELECT sum(b.volume_l) INTO linked FROM press_run_batches b WHERE b.press_run_id = checked;
        CONTINUE WHEN linked IS NULL;
        SELECT r.total_juice_volume_l, r.status INTO juice, run_status
        FROM press_runs r WHERE r.id = checked;
        IF run_status IS DISTINCT FROM 'completed' OR linked IS DISTINCT FROM juice THEN
            RAISE EXCEPTION 'the juice lots of press run % hold % L, the run gave % L (%)',
                            checked, linked, coalesce(juice::text, 'none'), run_status
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'press_run_batches_match_juice',
                      TABLE = 'press_run_batches';
        END IF;
    END LOOP;
    RETURN NULL;
END
$$"""

ADJUST_LINE = """\
CREATE FUNCTION fruit_write_offs_adjust_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE purchase_items SET written_off_kg = written_off_kg - OLD.weight_kg
        WHERE id = OLD.purchase_item_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE purchase_items SET written_off_kg = written_off_kg + NEW.weight_kg
        WHERE id = NEW.purchase_item_id;
    END IF;
    RETURN NULL;
END
$$"""

# The lots' numbers go on after the highest one given (batch numbers are kept by a
# rollback; the sequence is not).
RESUME_LOT_NUMBERS = """\
SELECT setval('juice_lot_numbers',
              coalesce(max(substring(batch_number FROM '^[0-9]{4}-R([0-9]+)-[A-Z]+$')::bigint), 0)
                  + 1,
              false)
FROM batches"""

_LINE_EDITED = """\
CREATE TRIGGER purchase_items_set_updated_at BEFORE UPDATE ON purchase_items
FOR EACH ROW WHEN (OLD.pressed_kg IS NOT DISTINCT FROM NEW.pressed_kg
                   AND OLD.written_off_kg IS NOT DISTINCT FROM NEW.written_off_kg)
EXECUTE FUNCTION set_updated_at()"""

# As revision 0003 left it.
_LINE_EDITED_0003 = """\
CREATE TRIGGER purchase_items_set_updated_at BEFORE UPDATE ON purchase_items
FOR EACH ROW WHEN (OLD.pressed_kg IS NOT DISTINCT FROM NEW.pressed_kg)
EXECUTE FUNCTION set_updated_at()"""

_ADD_LOAD_0004_SIGNATURE = (
    "press_add_load(uuid, uuid, numeric, unit, numeric, numeric, numeric, numeric, text, "
    "timestamptz, uuid, numeric)"
)
_ADD_LOAD_SIGNATURE = (
    "press_add_load(uuid, uuid, numeric, unit, numeric, numeric, numeric, numeric, numeric, "
    "numeric, text, timestamptz, uuid, numeric)"
)

ADD_LOAD = """\
CREATE FUNCTION press_add_load(
    p_run_id uuid,
    p_item_id uuid,
    p_weight numeric,
    p_weight_unit unit,
    p_weight_kg numeric,
    p_gross_weight numeric,
    p_tare_weight numeric,
    p_juice_volume_l numeric,
    p_brix numeric,
    p_ph numeric,
    p_notes text,
    p_pressed_at timestamptz,
    p_actor uuid,
    p_max_total numeric
) RETURNS TABLE (
    refusal text,
    detail text,
    figure numeric,
    error_state text,
    error_constraint text,
    id uuid,
    press_run_id uuid,
    purchase_item_id uuid,
    apple_variety_id uuid,
    load_sequence integer,
    weight numeric(10, 3),
    weight_unit unit,
    weight_kg numeric(10, 3),
    juice_volume_l numeric(10, 3),
    brix numeric(4, 2),
    ph numeric(3, 2),
    notes text,
    pressed_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    deleted_at timestamptz,
    created_by uuid,
    updated_by uuid,
    gross_weight numeric(10, 3),
    tare_weight numeric(10, 3)
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    added press_run_loads;
    run press_runs;
    updated press_runs;
    line record;
    old_run jsonb;
    new_run jsonb;
BEGIN
    -- One block, so that whatever it did (locks included) is undone on the way out of a
    -- refusal or an error, as the client's savepoint undid it.
    BEGIN
        SELECT * INTO run FROM press_runs r
        WHERE r.id = p_run_id AND r.deleted_at IS NULL FOR UPDATE;
        IF NOT FOUND THEN
            refusal := 'run_not_found';
        ELSIF run.status <> 'in_progress' THEN
            refusal := 'run_not_in_progress';
            detail := run.status::text;
        ELSIF run.total_apple_weight_kg + p_weight_kg > p_max_total THEN
            refusal := 'run_total_too_large';
            figure := run.total_apple_weight_kg + p_weight_kg;
        END IF;
        IF refusal IS NOT NULL THEN
            RAISE SQLSTATE 'CDREF';
        END IF;

        -- What is left of the line: bought, less pressed, less written off as waste.
        SELECT i.id, i.apple_variety_id, i.quantity_kg,
               i.quantity_kg - i.pressed_kg - i.written_off_kg AS remaining_kg, p.vendor_id,
               v.name AS vendor_name, v.is_active AS vendor_active
        INTO line
        FROM purchase_items i
        JOIN purchases p ON p.id = i.purchase_id
        JOIN vendors v ON v.id = p.vendor_id
        WHERE i.id = p_item_id AND i.deleted_at IS NULL AND p.deleted_at IS NULL
        FOR UPDATE OF i;
        IF NOT FOUND THEN
            refusal := 'line_not_found';
        ELSIF line.vendor_id <> run.vendor_id THEN
            refusal := 'vendor_mismatch';
        ELSIF NOT line.vendor_active THEN
            refusal := 'vendor_inactive';
            detail := line.vendor_name;
        ELSIF line.quantity_kg IS NULL THEN
            refusal := 'bought_by_volume';
        ELSIF p_weight_kg > line.remaining_kg THEN
            refusal := 'insufficient_fruit';
            figure := line.remaining_kg;
        END IF;
        IF refusal IS NOT NULL THEN
            RAISE SQLSTATE 'CDREF';
        END IF;

        INSERT INTO press_run_loads AS l (
            press_run_id, purchase_item_id, apple_variety_id, load_sequence, weight,
            weight_unit, weight_kg, gross_weight, tare_weight, juice_volume_l, brix, ph,
            notes, pressed_at, created_by, updated_by)
        VALUES (
            p_run_id, line.id, line.apple_variety_id,
            (SELECT coalesce(max(s.load_sequence), 0) + 1
             FROM press_run_loads s WHERE s.press_run_id = p_run_id),
            p_weight, p_weight_unit, p_weight_kg, p_gross_weight, p_tare_weight,
            p_juice_volume_l, p_brix, p_ph, p_notes, coalesce(p_pressed_at, now()),
            p_actor, p_actor)
        RETURNING l.* INTO added;

        UPDATE press_runs r
        SET total_apple_weight_kg = r.total_apple_weight_kg + p_weight_kg, updated_by = p_actor
        WHERE r.id = p_run_id
        RETURNING r.* INTO updated;

        old_run := audit_snapshot('press_runs', to_jsonb(run));
        new_run := audit_snapshot('press_runs', to_jsonb(updated));
        INSERT INTO audit_logs (table_name, record_id, operation, old_data, new_data, diff,
                                reason, changed_by)
        VALUES ('press_run_loads', (added).id, 'insert', NULL,
                audit_snapshot('press_run_loads', to_jsonb(added)), NULL, NULL, p_actor),
               ('press_runs', p_run_id, 'update', old_run, new_run,
                audit_diff(old_run, new_run), NULL, p_actor);
    EXCEPTION
        WHEN SQLSTATE 'CDREF' THEN
            -- A refusal: refusal, detail and figure keep what was set before the RAISE.
            added := NULL;
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS error_state = RETURNED_SQLSTATE,
                                    error_constraint = CONSTRAINT_NAME,
                                    detail = MESSAGE_TEXT;
            refusal := 'database_error';
            figure := NULL;
            added := NULL;
    END;
    RETURN QUERY SELECT refusal, detail, figure, error_state, error_constraint, (added).*;
END
$$"""


# The call of revisions 0004 to 0006, kept for an app of those revisions still running
# while this one rolls out: a load without a weigh tag, the result without its columns.
ADD_LOAD_WITHOUT_TAG = """\
CREATE FUNCTION press_add_load(
    p_run_id uuid, p_item_id uuid, p_weight numeric, p_weight_unit unit, p_weight_kg numeric,
    p_juice_volume_l numeric, p_brix numeric, p_ph numeric, p_notes text,
    p_pressed_at timestamptz, p_actor uuid, p_max_total numeric
) RETURNS TABLE (
    refusal text, detail text, figure numeric, error_state text, error_constraint text,
    id uuid, press_run_id uuid, purchase_item_id uuid, apple_variety_id uuid,
    load_sequence integer, weight numeric(10, 3), weight_unit unit, weight_kg numeric(10, 3),
    juice_volume_l numeric(10, 3), brix numeric(4, 2), ph numeric(3, 2), notes text,
    pressed_at timestamptz, created_at timestamptz, updated_at timestamptz,
    deleted_at timestamptz, created_by uuid, updated_by uuid
)
LANGUAGE sql AS $$
SELECT a.refusal, a.detail, a.figure, a.error_state, a.error_constraint, a.id,
       a.press_run_id, a.purchase_item_id, a.apple_variety_id, a.load_sequence, a.weight,
       a.weight_unit, a.weight_kg, a.juice_volume_l, a.brix, a.ph, a.notes, a.pressed_at,
       a.created_at, a.updated_at, a.deleted_at, a.created_by, a.updated_by
FROM press_add_load(p_run_id, p_item_id, p_weight, p_weight_unit, p_weight_kg, NULL, NULL,
                    p_juice_volume_l, p_brix, p_ph, p_notes, p_pressed_at, p_actor,
                    p_max_total) AS a
$$"""


def _check_name(table: str, name: str) -> str:
    return f"{table}_{name}_check"


def upgrade() -> None:
    ops.set_timeouts()
    op.create_table(
        "press_run_batches",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("press_run_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("volume_l", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "volume_l > 0 AND volume_l <> 'NaN'",
            name=op.f("press_run_batches_volume_l_positive_check"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("press_run_batches_batch_id_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("press_run_batches_created_by_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["press_run_id"], ["press_runs.id"], name=op.f("press_run_batches_press_run_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("press_run_batches_pkey")),
        sa.UniqueConstraint(
            "press_run_id", "batch_id", name=op.f("press_run_batches_press_run_id_batch_id_key")
        ),
    )
    op.create_index(
        op.f("press_run_batches_batch_id_idx"), "press_run_batches", ["batch_id"], unique=False
    )
    op.create_index(
        op.f("press_run_batches_created_by_idx"), "press_run_batches", ["created_by"], unique=False
    )
    op.create_table(
        "fruit_write_offs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("purchase_item_id", sa.Uuid(), nullable=False),
        sa.Column("weight_kg", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "weight_kg > 0 AND weight_kg <> 'NaN'",
            name=op.f("fruit_write_offs_weight_kg_positive_check"),
        ),
        sa.CheckConstraint(
            "length(btrim(reason)) > 0", name=op.f("fruit_write_offs_reason_not_blank_check")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fruit_write_offs_created_by_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_item_id"],
            ["purchase_items.id"],
            name=op.f("fruit_write_offs_purchase_item_id_fkey"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("fruit_write_offs_pkey")),
    )
    op.create_index(
        op.f("fruit_write_offs_created_by_idx"), "fruit_write_offs", ["created_by"], unique=False
    )
    op.create_index(
        op.f("fruit_write_offs_purchase_item_id_idx"),
        "fruit_write_offs",
        ["purchase_item_id"],
        unique=False,
    )

    # Unknown costs.
    for column in ("total_apple_cost", "labor_cost", "total_cost"):
        ops.lint_exception(
            "ban-drop-not-null",
            "an unknown cost (a purchase line without a price) is stored as NULL, never as a "
            "zero; readers of batch_costs are the app's own lot queries, which expect it",
        )
        op.alter_column(
            "batch_costs",
            column,
            existing_type=sa.NUMERIC(precision=10, scale=2),
            nullable=True,
            existing_server_default=sa.text("0"),
        )
    for name, condition in (
        (
            "total_known_when_parts_are",
            "(total_cost IS NULL) = (total_apple_cost IS NULL OR labor_cost IS NULL)",
        ),
        (
            "unit_costs_need_total",
            "total_cost IS NOT NULL OR (cost_per_l IS NULL AND cost_per_bottle IS NULL)",
        ),
    ):
        ops.lint_exception(
            "constraint-missing-not-valid",
            "batch_costs has a row per batch, a few thousand at most: validating scans it "
            "in milliseconds",
        )
        op.create_check_constraint(op.f(_check_name("batch_costs", name)), "batch_costs", condition)
    ops.lint_exception(
        "ban-drop-not-null",
        "an unknown cost (a purchase line without a price) is stored as NULL, never as a zero",
    )
    op.alter_column(
        "cogs_items", "cost", existing_type=sa.NUMERIC(precision=10, scale=2), nullable=True
    )
    op.add_column("cogs_items", sa.Column("purchase_item_id", sa.Uuid(), nullable=True))
    for rule in ("require-concurrent-index-on-existing-table", "require-concurrent-index-creation"):
        ops.lint_exception(
            rule,
            "cogs_items has a row per cost item of a batch, thousands at most: built in "
            "milliseconds",
        )
    op.create_index(
        op.f("cogs_items_purchase_item_id_idx"), "cogs_items", ["purchase_item_id"], unique=False
    )
    ops.lint_exception(
        "constraint-missing-not-valid",
        "the column is new and null in every row: validating finds nothing to check",
    )
    ops.lint_exception(
        "adding-foreign-key-constraint",
        "the column is new and null in every row, and cogs_items small: the check is "
        "immediate and the lock on purchase_items brief",
    )
    op.create_foreign_key(
        op.f("cogs_items_purchase_item_id_fkey"),
        "cogs_items",
        "purchase_items",
        ["purchase_item_id"],
        ["id"],
    )

    # Weigh tags, pomace, labor rate, write-offs: nullable or constant defaults.
    op.add_column(
        "press_run_loads",
        sa.Column("gross_weight", sa.Numeric(precision=10, scale=3), nullable=True),
    )
    op.add_column(
        "press_run_loads",
        sa.Column("tare_weight", sa.Numeric(precision=10, scale=3), nullable=True),
    )
    op.add_column(
        "press_runs", sa.Column("pomace_kg", sa.Numeric(precision=10, scale=3), nullable=True)
    )
    op.add_column(
        "press_runs", sa.Column("labor_rate", sa.Numeric(precision=8, scale=2), nullable=True)
    )
    op.add_column(
        "purchase_items",
        sa.Column(
            "written_off_kg",
            sa.Numeric(precision=10, scale=3),
            server_default=sa.text("0"),
            nullable=False,
        ),
    )
    ops.lint_exception(
        "ban-drop-constraint",
        "replaced in this transaction by fruit_within_quantity, which is stricter: pressed "
        "and written-off fruit together within the quantity",
    )
    op.drop_constraint("purchase_items_pressed_kg_within_quantity_check", "purchase_items")
    for table, name, condition in CHECKS:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {_check_name(table, name)} "
            f"CHECK ({condition}) NOT VALID"
        )
    op.execute("DROP TRIGGER purchase_items_set_updated_at ON purchase_items")
    op.execute(_LINE_EDITED)
    op.execute(ADJUST_LINE)
    op.execute(
        "CREATE TRIGGER fruit_write_offs_adjust_line "
        "AFTER INSERT OR DELETE OR UPDATE OF purchase_item_id, weight_kg ON fruit_write_offs "
        "FOR EACH ROW EXECUTE FUNCTION fruit_write_offs_adjust_line()"
    )

    # Juice lots.
    op.execute(MATCH_JUICE)
    op.execute(
        "CREATE CONSTRAINT TRIGGER press_run_batches_match_juice "
        "AFTER INSERT OR DELETE OR UPDATE ON press_run_batches DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION press_run_batches_match_juice()"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER press_runs_match_juice "
        "AFTER UPDATE OF total_juice_volume_l, status ON press_runs "
        "DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION press_run_batches_match_juice()"
    )
    op.execute("CREATE SEQUENCE juice_lot_numbers AS bigint")
    op.execute(RESUME_LOT_NUMBERS)

    op.execute(ADD_LOAD)
    ops.lint_exception(
        "ban-drop-function",
        "replaced at once by a wrapper of the same signature and result: an app of the "
        "previous revision still running during a rolling deploy keeps adding loads",
    )
    op.execute(f"DROP FUNCTION {_ADD_LOAD_0004_SIGNATURE}")
    op.execute(ADD_LOAD_WITHOUT_TAG)

    for table, columns in COLUMNS.items():
        archive.restore_columns(revision, table, columns)
    archive.restore_archived(revision, TABLES)


def downgrade() -> None:
    ops.set_timeouts()
    with ops.outside_transaction():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS cogs_items_purchase_item_id_idx")
    for table, where in UNKNOWN_COSTS.items():
        archive.archive_rows(revision, table, where)
    for table, columns in COLUMNS.items():
        archive.archive_columns(revision, table, columns)
    archive.archive_tables(revision, TABLES[:2])

    op.execute(f"DROP FUNCTION {_ADD_LOAD_0004_SIGNATURE}")
    op.execute(f"DROP FUNCTION {_ADD_LOAD_SIGNATURE}")
    op.execute(ops.earlier_text("0004", "ADD_LOAD"))
    ops.lint_exception(
        "ban-drop-sequence",
        "it numbers lots only; the next upgrade resumes it after the highest lot number kept",
    )
    op.execute("DROP SEQUENCE juice_lot_numbers")
    op.execute("DROP TRIGGER press_runs_match_juice ON press_runs")
    op.execute("DROP TRIGGER press_run_batches_match_juice ON press_run_batches")
    op.execute("DROP FUNCTION press_run_batches_match_juice()")
    op.execute("DROP TRIGGER fruit_write_offs_adjust_line ON fruit_write_offs")
    op.execute("DROP FUNCTION fruit_write_offs_adjust_line()")
    op.execute("DROP TRIGGER purchase_items_set_updated_at ON purchase_items")
    op.execute(_LINE_EDITED_0003)
    for table, name, _ in reversed(CHECKS):
        op.drop_constraint(_check_name(table, name), table)
    ops.lint_exception(
        "constraint-missing-not-valid",
        "the constraint revision 0006 had; pressed and written-off fruit within the "
        "quantity implies it, and validating scans purchase_items in milliseconds",
    )
    op.create_check_constraint(
        "purchase_items_pressed_kg_within_quantity_check",
        "purchase_items",
        "pressed_kg <= coalesce(quantity_kg, 0)",
    )
    # Derived from the write-offs (archived): the next upgrade sums them again.
    op.drop_column("purchase_items", "written_off_kg")
    op.drop_column("press_runs", "labor_rate")
    op.drop_column("press_runs", "pomace_kg")
    op.drop_column("press_run_loads", "tare_weight")
    op.drop_column("press_run_loads", "gross_weight")

    op.drop_constraint("cogs_items_purchase_item_id_fkey", "cogs_items", type_="foreignkey")
    op.drop_column("cogs_items", "purchase_item_id")
    ops.lint_exception(
        "require-not-null-default-or-backfill",
        "the rows with a NULL cost were moved to the archive above (archive_rows)",
    )
    ops.lint_exception(
        "adding-not-nullable-field",
        "cogs_items has a row per cost item of a batch, thousands at most: scanned in milliseconds",
    )
    op.alter_column(
        "cogs_items", "cost", existing_type=sa.NUMERIC(precision=10, scale=2), nullable=False
    )
    for name in ("unit_costs_need_total", "total_known_when_parts_are"):
        op.drop_constraint(_check_name("batch_costs", name), "batch_costs")
    for column in ("total_cost", "labor_cost", "total_apple_cost"):
        ops.lint_exception(
            "require-not-null-default-or-backfill",
            "the rows with a NULL cost were moved to the archive above (archive_rows)",
        )
        ops.lint_exception(
            "adding-not-nullable-field",
            "batch_costs has a row per batch, a few thousand at most: scanned in milliseconds",
        )
        op.alter_column(
            "batch_costs",
            column,
            existing_type=sa.NUMERIC(precision=10, scale=2),
            nullable=False,
            existing_server_default=sa.text("0"),
        )
    op.drop_table("fruit_write_offs")
    op.drop_table("press_run_batches")
