BEGIN;

-- Running upgrade 0006 -> 0007

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

CREATE TABLE press_run_batches (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    press_run_id UUID NOT NULL, 
    batch_id UUID NOT NULL, 
    volume_l NUMERIC(10, 3) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    created_by UUID, 
    CONSTRAINT press_run_batches_pkey PRIMARY KEY (id), 
    CONSTRAINT press_run_batches_volume_l_positive_check CHECK (volume_l > 0 AND volume_l <> 'NaN'), 
    CONSTRAINT press_run_batches_batch_id_fkey FOREIGN KEY(batch_id) REFERENCES batches (id), 
    CONSTRAINT press_run_batches_created_by_fkey FOREIGN KEY(created_by) REFERENCES users (id), 
    CONSTRAINT press_run_batches_press_run_id_fkey FOREIGN KEY(press_run_id) REFERENCES press_runs (id), 
    CONSTRAINT press_run_batches_press_run_id_batch_id_key UNIQUE (press_run_id, batch_id)
);

CREATE INDEX press_run_batches_batch_id_idx ON press_run_batches (batch_id);

CREATE INDEX press_run_batches_created_by_idx ON press_run_batches (created_by);

CREATE TABLE fruit_write_offs (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    purchase_item_id UUID NOT NULL, 
    weight_kg NUMERIC(10, 3) NOT NULL, 
    reason TEXT NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    created_by UUID, 
    CONSTRAINT fruit_write_offs_pkey PRIMARY KEY (id), 
    CONSTRAINT fruit_write_offs_weight_kg_positive_check CHECK (weight_kg > 0 AND weight_kg <> 'NaN'), 
    CONSTRAINT fruit_write_offs_reason_not_blank_check CHECK (length(btrim(reason)) > 0), 
    CONSTRAINT fruit_write_offs_created_by_fkey FOREIGN KEY(created_by) REFERENCES users (id), 
    CONSTRAINT fruit_write_offs_purchase_item_id_fkey FOREIGN KEY(purchase_item_id) REFERENCES purchase_items (id)
);

CREATE INDEX fruit_write_offs_created_by_idx ON fruit_write_offs (created_by);

CREATE INDEX fruit_write_offs_purchase_item_id_idx ON fruit_write_offs (purchase_item_id);

-- squawk-ignore ban-drop-not-null -- an unknown cost (a purchase line without a price) is stored as NULL, never as a zero; readers of batch_costs are the app's own lot queries, which expect it
ALTER TABLE batch_costs ALTER COLUMN total_apple_cost DROP NOT NULL;

-- squawk-ignore ban-drop-not-null -- an unknown cost (a purchase line without a price) is stored as NULL, never as a zero; readers of batch_costs are the app's own lot queries, which expect it
ALTER TABLE batch_costs ALTER COLUMN labor_cost DROP NOT NULL;

-- squawk-ignore ban-drop-not-null -- an unknown cost (a purchase line without a price) is stored as NULL, never as a zero; readers of batch_costs are the app's own lot queries, which expect it
ALTER TABLE batch_costs ALTER COLUMN total_cost DROP NOT NULL;

-- squawk-ignore constraint-missing-not-valid -- batch_costs has a row per batch, a few thousand at most: validating scans it in milliseconds
ALTER TABLE batch_costs ADD CONSTRAINT batch_costs_total_known_when_parts_are_check CHECK ((total_cost IS NULL) = (total_apple_cost IS NULL OR labor_cost IS NULL));

-- squawk-ignore constraint-missing-not-valid -- batch_costs has a row per batch, a few thousand at most: validating scans it in milliseconds
ALTER TABLE batch_costs ADD CONSTRAINT batch_costs_unit_costs_need_total_check CHECK (total_cost IS NOT NULL OR (cost_per_l IS NULL AND cost_per_bottle IS NULL));

-- squawk-ignore ban-drop-not-null -- an unknown cost (a purchase line without a price) is stored as NULL, never as a zero
ALTER TABLE cogs_items ALTER COLUMN cost DROP NOT NULL;

ALTER TABLE cogs_items ADD COLUMN purchase_item_id UUID;

-- cidery-ignore require-concurrent-index-on-existing-table -- cogs_items has a row per cost item of a batch, thousands at most: built in milliseconds
-- squawk-ignore require-concurrent-index-creation -- cogs_items has a row per cost item of a batch, thousands at most: built in milliseconds
CREATE INDEX cogs_items_purchase_item_id_idx ON cogs_items (purchase_item_id);

-- squawk-ignore constraint-missing-not-valid, adding-foreign-key-constraint -- constraint-missing-not-valid: the column is new and null in every row: validating finds nothing to check; adding-foreign-key-constraint: the column is new and null in every row, and cogs_items small: the check is immediate and the lock on purchase_items brief
ALTER TABLE cogs_items ADD CONSTRAINT cogs_items_purchase_item_id_fkey FOREIGN KEY(purchase_item_id) REFERENCES purchase_items (id);

ALTER TABLE press_run_loads ADD COLUMN gross_weight NUMERIC(10, 3);

ALTER TABLE press_run_loads ADD COLUMN tare_weight NUMERIC(10, 3);

ALTER TABLE press_runs ADD COLUMN pomace_kg NUMERIC(10, 3);

ALTER TABLE press_runs ADD COLUMN labor_rate NUMERIC(8, 2);

ALTER TABLE purchase_items ADD COLUMN written_off_kg NUMERIC(10, 3) DEFAULT 0 NOT NULL;

-- squawk-ignore ban-drop-constraint -- replaced in this transaction by fruit_within_quantity, which is stricter: pressed and written-off fruit together within the quantity
ALTER TABLE purchase_items DROP CONSTRAINT purchase_items_pressed_kg_within_quantity_check;

ALTER TABLE press_run_loads ADD CONSTRAINT press_run_loads_weigh_tag_complete_check CHECK ((gross_weight IS NULL) = (tare_weight IS NULL)) NOT VALID;

ALTER TABLE press_run_loads ADD CONSTRAINT press_run_loads_tare_weight_nonnegative_check CHECK (tare_weight >= 0 AND tare_weight <> 'NaN') NOT VALID;

ALTER TABLE press_run_loads ADD CONSTRAINT press_run_loads_tare_below_gross_check CHECK (tare_weight < gross_weight) NOT VALID;

ALTER TABLE press_run_loads ADD CONSTRAINT press_run_loads_weight_is_net_of_tare_check CHECK (weight = gross_weight - tare_weight) NOT VALID;

ALTER TABLE press_runs ADD CONSTRAINT press_runs_pomace_kg_positive_check CHECK (pomace_kg > 0 AND pomace_kg <> 'NaN') NOT VALID;

ALTER TABLE press_runs ADD CONSTRAINT press_runs_labor_rate_nonnegative_check CHECK (labor_rate >= 0 AND labor_rate <> 'NaN') NOT VALID;

ALTER TABLE purchase_items ADD CONSTRAINT purchase_items_written_off_kg_nonnegative_check CHECK (written_off_kg >= 0 AND written_off_kg <> 'NaN') NOT VALID;

ALTER TABLE purchase_items ADD CONSTRAINT purchase_items_fruit_within_quantity_check CHECK (pressed_kg + written_off_kg <= coalesce(quantity_kg, 0)) NOT VALID;

DROP TRIGGER purchase_items_set_updated_at ON purchase_items;

CREATE TRIGGER purchase_items_set_updated_at BEFORE UPDATE ON purchase_items
FOR EACH ROW WHEN (OLD.pressed_kg IS NOT DISTINCT FROM NEW.pressed_kg
                   AND OLD.written_off_kg IS NOT DISTINCT FROM NEW.written_off_kg)
EXECUTE FUNCTION set_updated_at();

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
$$;

CREATE TRIGGER fruit_write_offs_adjust_line AFTER INSERT OR DELETE OR UPDATE OF purchase_item_id, weight_kg ON fruit_write_offs FOR EACH ROW EXECUTE FUNCTION fruit_write_offs_adjust_line();

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
$$;

CREATE CONSTRAINT TRIGGER press_run_batches_match_juice AFTER INSERT OR DELETE OR UPDATE ON press_run_batches DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION press_run_batches_match_juice();

CREATE CONSTRAINT TRIGGER press_runs_match_juice AFTER UPDATE OF total_juice_volume_l, status ON press_runs DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION press_run_batches_match_juice();

CREATE SEQUENCE juice_lot_numbers AS bigint;

SELECT setval('juice_lot_numbers',
              coalesce(max(substring(batch_number FROM '^[0-9]{4}-R([0-9]+)-[A-Z]+$')::bigint), 0)
                  + 1,
              false)
FROM batches;

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
$$;

-- squawk-ignore ban-drop-function -- replaced at once by a wrapper of the same signature and result: an app of the previous revision still running during a rolling deploy keeps adding loads
DROP FUNCTION press_add_load(uuid, uuid, numeric, unit, numeric, numeric, numeric, numeric, text, timestamptz, uuid, numeric);

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
$$;

DO $$
DECLARE
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0007.press_run_loads__columns') IS NOT NULL THEN
        ALTER TABLE press_run_loads DISABLE TRIGGER press_run_loads_set_updated_at;
        UPDATE press_run_loads SET gross_weight = kept.gross_weight, tare_weight = kept.tare_weight FROM cidery_archive_0007.press_run_loads__columns kept
         WHERE press_run_loads.id = kept.id;
        GET DIAGNOSTICS restored = ROW_COUNT;
        ALTER TABLE press_run_loads ENABLE TRIGGER press_run_loads_set_updated_at;
        DROP TABLE cidery_archive_0007.press_run_loads__columns;
        RAISE NOTICE 'restored gross_weight, tare_weight of % rows of press_run_loads', restored;
    END IF;
END
$$;

DO $$
DECLARE
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0007.press_runs__columns') IS NOT NULL THEN
        ALTER TABLE press_runs DISABLE TRIGGER press_runs_set_updated_at;
        UPDATE press_runs SET pomace_kg = kept.pomace_kg, labor_rate = kept.labor_rate FROM cidery_archive_0007.press_runs__columns kept
         WHERE press_runs.id = kept.id;
        GET DIAGNOSTICS restored = ROW_COUNT;
        ALTER TABLE press_runs ENABLE TRIGGER press_runs_set_updated_at;
        DROP TABLE cidery_archive_0007.press_runs__columns;
        RAISE NOTICE 'restored pomace_kg, labor_rate of % rows of press_runs', restored;
    END IF;
END
$$;

DO $$
DECLARE
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0007.cogs_items__columns') IS NOT NULL THEN
        ALTER TABLE cogs_items DISABLE TRIGGER cogs_items_set_updated_at;
        UPDATE cogs_items SET purchase_item_id = kept.purchase_item_id FROM cidery_archive_0007.cogs_items__columns kept
         WHERE cogs_items.id = kept.id;
        GET DIAGNOSTICS restored = ROW_COUNT;
        ALTER TABLE cogs_items ENABLE TRIGGER cogs_items_set_updated_at;
        DROP TABLE cidery_archive_0007.cogs_items__columns;
        RAISE NOTICE 'restored purchase_item_id of % rows of cogs_items', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0007.fruit_write_offs') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0007.fruit_write_offs'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'fruit_write_offs'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO fruit_write_offs (%s) SELECT %s FROM cidery_archive_0007.fruit_write_offs',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0007.fruit_write_offs;
        RAISE NOTICE 'restored % rows of fruit_write_offs from cidery_archive_0007', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0007.press_run_batches') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0007.press_run_batches'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'press_run_batches'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO press_run_batches (%s) SELECT %s FROM cidery_archive_0007.press_run_batches',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0007.press_run_batches;
        RAISE NOTICE 'restored % rows of press_run_batches from cidery_archive_0007', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0007.batch_costs') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0007.batch_costs'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'batch_costs'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO batch_costs (%s) SELECT %s FROM cidery_archive_0007.batch_costs',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0007.batch_costs;
        RAISE NOTICE 'restored % rows of batch_costs from cidery_archive_0007', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0007.cogs_items') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0007.cogs_items'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'cogs_items'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO cogs_items (%s) SELECT %s FROM cidery_archive_0007.cogs_items',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0007.cogs_items;
        RAISE NOTICE 'restored % rows of cogs_items from cidery_archive_0007', restored;
    END IF;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'cidery_archive_0007')
       AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n
                       ON n.oid = c.relnamespace WHERE n.nspname = 'cidery_archive_0007') THEN
        DROP SCHEMA cidery_archive_0007;
    END IF;
END
$$;

UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006';

-- Record the checksum of revision 0007's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO alembic_version_checksums (revision, checksum) VALUES ('0007', '659a513332c5ead582def66cdef5d03a2edfb29aa18555ed79ec45be34b5aabb') ON CONFLICT (revision) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now();

COMMIT;

