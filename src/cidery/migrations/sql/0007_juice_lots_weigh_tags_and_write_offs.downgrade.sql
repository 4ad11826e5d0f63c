BEGIN;

-- Running downgrade 0007 -> 0006

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

COMMIT;

SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS cogs_items_purchase_item_id_idx;

RESET lock_timeout;

BEGIN;

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM batch_costs WHERE total_apple_cost IS NULL OR labor_cost IS NULL OR total_cost IS NULL) THEN
        IF to_regclass('cidery_archive_0007.batch_costs') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0007.batch_costs already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0007;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'batch_costs'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0007.batch_costs AS SELECT %s FROM batch_costs WHERE total_apple_cost IS NULL OR labor_cost IS NULL OR total_cost IS NULL', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0007.batch_costs IS %L',
            format('%s rows of batch_costs, archived by the downgrade of revision 0007 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of batch_costs into cidery_archive_0007.batch_costs', copied;
    END IF;
END
$$;

DELETE FROM batch_costs WHERE total_apple_cost IS NULL OR labor_cost IS NULL OR total_cost IS NULL;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM cogs_items WHERE cost IS NULL) THEN
        IF to_regclass('cidery_archive_0007.cogs_items') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0007.cogs_items already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0007;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'cogs_items'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0007.cogs_items AS SELECT %s FROM cogs_items WHERE cost IS NULL', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0007.cogs_items IS %L',
            format('%s rows of cogs_items, archived by the downgrade of revision 0007 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of cogs_items into cidery_archive_0007.cogs_items', copied;
    END IF;
END
$$;

DELETE FROM cogs_items WHERE cost IS NULL;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM press_run_loads WHERE gross_weight IS NOT NULL OR tare_weight IS NOT NULL) THEN
        IF to_regclass('cidery_archive_0007.press_run_loads__columns') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0007.press_run_loads__columns already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0007;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'press_run_loads'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND a.attname IN ('id', 'gross_weight', 'tare_weight');
        EXECUTE format('CREATE TABLE cidery_archive_0007.press_run_loads__columns AS SELECT %s FROM press_run_loads WHERE gross_weight IS NOT NULL OR tare_weight IS NOT NULL', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0007.press_run_loads__columns IS %L',
            format('%s rows of press_run_loads, archived by the downgrade of revision 0007 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of press_run_loads into cidery_archive_0007.press_run_loads__columns', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM press_runs WHERE pomace_kg IS NOT NULL OR labor_rate IS NOT NULL) THEN
        IF to_regclass('cidery_archive_0007.press_runs__columns') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0007.press_runs__columns already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0007;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'press_runs'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND a.attname IN ('id', 'pomace_kg', 'labor_rate');
        EXECUTE format('CREATE TABLE cidery_archive_0007.press_runs__columns AS SELECT %s FROM press_runs WHERE pomace_kg IS NOT NULL OR labor_rate IS NOT NULL', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0007.press_runs__columns IS %L',
            format('%s rows of press_runs, archived by the downgrade of revision 0007 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of press_runs into cidery_archive_0007.press_runs__columns', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM cogs_items WHERE purchase_item_id IS NOT NULL) THEN
        IF to_regclass('cidery_archive_0007.cogs_items__columns') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0007.cogs_items__columns already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0007;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'cogs_items'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND a.attname IN ('id', 'purchase_item_id');
        EXECUTE format('CREATE TABLE cidery_archive_0007.cogs_items__columns AS SELECT %s FROM cogs_items WHERE purchase_item_id IS NOT NULL', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0007.cogs_items__columns IS %L',
            format('%s rows of cogs_items, archived by the downgrade of revision 0007 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of cogs_items into cidery_archive_0007.cogs_items__columns', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM fruit_write_offs WHERE true) THEN
        IF to_regclass('cidery_archive_0007.fruit_write_offs') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0007.fruit_write_offs already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0007;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'fruit_write_offs'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0007.fruit_write_offs AS SELECT %s FROM fruit_write_offs WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0007.fruit_write_offs IS %L',
            format('%s rows of fruit_write_offs, archived by the downgrade of revision 0007 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of fruit_write_offs into cidery_archive_0007.fruit_write_offs', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM press_run_batches WHERE true) THEN
        IF to_regclass('cidery_archive_0007.press_run_batches') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0007.press_run_batches already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0007;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'press_run_batches'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0007.press_run_batches AS SELECT %s FROM press_run_batches WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0007.press_run_batches IS %L',
            format('%s rows of press_run_batches, archived by the downgrade of revision 0007 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of press_run_batches into cidery_archive_0007.press_run_batches', copied;
    END IF;
END
$$;

DROP FUNCTION press_add_load(uuid, uuid, numeric, unit, numeric, numeric, numeric, numeric, text, timestamptz, uuid, numeric);

DROP FUNCTION press_add_load(uuid, uuid, numeric, unit, numeric, numeric, numeric, numeric, numeric, numeric, text, timestamptz, uuid, numeric);

CREATE FUNCTION press_add_load(
    p_run_id uuid,
    p_item_id uuid,
    p_weight numeric,
    p_weight_unit unit,
    p_weight_kg numeric,
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
    updated_by uuid
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

        SELECT i.id, i.apple_variety_id, i.quantity_kg, i.pressed_kg, p.vendor_id,
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
        ELSIF p_weight_kg > line.quantity_kg - line.pressed_kg THEN
            refusal := 'insufficient_fruit';
            figure := line.quantity_kg - line.pressed_kg;
        END IF;
        IF refusal IS NOT NULL THEN
            RAISE SQLSTATE 'CDREF';
        END IF;

        INSERT INTO press_run_loads AS l (
            press_run_id, purchase_item_id, apple_variety_id, load_sequence, weight,
            weight_unit, weight_kg, juice_volume_l, brix, ph, notes, pressed_at,
            created_by, updated_by)
        VALUES (
            p_run_id, line.id, line.apple_variety_id,
            (SELECT coalesce(max(s.load_sequence), 0) + 1
             FROM press_run_loads s WHERE s.press_run_id = p_run_id),
            p_weight, p_weight_unit, p_weight_kg, p_juice_volume_l, p_brix, p_ph, p_notes,
            coalesce(p_pressed_at, now()), p_actor, p_actor)
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
$$;

-- squawk-ignore ban-drop-sequence -- it numbers lots only; the next upgrade resumes it after the highest lot number kept
DROP SEQUENCE juice_lot_numbers;

DROP TRIGGER press_runs_match_juice ON press_runs;

DROP TRIGGER press_run_batches_match_juice ON press_run_batches;

DROP FUNCTION press_run_batches_match_juice();

DROP TRIGGER fruit_write_offs_adjust_line ON fruit_write_offs;

DROP FUNCTION fruit_write_offs_adjust_line();

DROP TRIGGER purchase_items_set_updated_at ON purchase_items;

CREATE TRIGGER purchase_items_set_updated_at BEFORE UPDATE ON purchase_items
FOR EACH ROW WHEN (OLD.pressed_kg IS NOT DISTINCT FROM NEW.pressed_kg)
EXECUTE FUNCTION set_updated_at();

ALTER TABLE purchase_items DROP CONSTRAINT purchase_items_fruit_within_quantity_check;

ALTER TABLE purchase_items DROP CONSTRAINT purchase_items_written_off_kg_nonnegative_check;

ALTER TABLE press_runs DROP CONSTRAINT press_runs_labor_rate_nonnegative_check;

ALTER TABLE press_runs DROP CONSTRAINT press_runs_pomace_kg_positive_check;

ALTER TABLE press_run_loads DROP CONSTRAINT press_run_loads_weight_is_net_of_tare_check;

ALTER TABLE press_run_loads DROP CONSTRAINT press_run_loads_tare_below_gross_check;

ALTER TABLE press_run_loads DROP CONSTRAINT press_run_loads_tare_weight_nonnegative_check;

ALTER TABLE press_run_loads DROP CONSTRAINT press_run_loads_weigh_tag_complete_check;

-- squawk-ignore constraint-missing-not-valid -- the constraint revision 0006 had; pressed and written-off fruit within the quantity implies it, and validating scans purchase_items in milliseconds
ALTER TABLE purchase_items ADD CONSTRAINT purchase_items_pressed_kg_within_quantity_check CHECK (pressed_kg <= coalesce(quantity_kg, 0));

ALTER TABLE purchase_items DROP COLUMN written_off_kg;

ALTER TABLE press_runs DROP COLUMN labor_rate;

ALTER TABLE press_runs DROP COLUMN pomace_kg;

ALTER TABLE press_run_loads DROP COLUMN tare_weight;

ALTER TABLE press_run_loads DROP COLUMN gross_weight;

ALTER TABLE cogs_items DROP CONSTRAINT cogs_items_purchase_item_id_fkey;

ALTER TABLE cogs_items DROP COLUMN purchase_item_id;

-- cidery-ignore require-not-null-default-or-backfill -- the rows with a NULL cost were moved to the archive above (archive_rows)
-- squawk-ignore adding-not-nullable-field -- cogs_items has a row per cost item of a batch, thousands at most: scanned in milliseconds
ALTER TABLE cogs_items ALTER COLUMN cost SET NOT NULL;

ALTER TABLE batch_costs DROP CONSTRAINT batch_costs_unit_costs_need_total_check;

ALTER TABLE batch_costs DROP CONSTRAINT batch_costs_total_known_when_parts_are_check;

-- cidery-ignore require-not-null-default-or-backfill -- the rows with a NULL cost were moved to the archive above (archive_rows)
-- squawk-ignore adding-not-nullable-field -- batch_costs has a row per batch, a few thousand at most: scanned in milliseconds
ALTER TABLE batch_costs ALTER COLUMN total_cost SET NOT NULL;

-- cidery-ignore require-not-null-default-or-backfill -- the rows with a NULL cost were moved to the archive above (archive_rows)
-- squawk-ignore adding-not-nullable-field -- batch_costs has a row per batch, a few thousand at most: scanned in milliseconds
ALTER TABLE batch_costs ALTER COLUMN labor_cost SET NOT NULL;

-- cidery-ignore require-not-null-default-or-backfill -- the rows with a NULL cost were moved to the archive above (archive_rows)
-- squawk-ignore adding-not-nullable-field -- batch_costs has a row per batch, a few thousand at most: scanned in milliseconds
ALTER TABLE batch_costs ALTER COLUMN total_apple_cost SET NOT NULL;

DROP TABLE fruit_write_offs;

DROP TABLE press_run_batches;

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0007';

-- Forget the checksum of revision 0007's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

DELETE FROM alembic_version_checksums WHERE revision = '0007';

COMMIT;

