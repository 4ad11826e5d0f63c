BEGIN;

-- Running upgrade 0001 -> 0002

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

COMMIT;

SET lock_timeout = '5s';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.oid = to_regclass('purchase_items_id_apple_variety_id_key') AND NOT i.indisvalid) THEN
        DROP INDEX purchase_items_id_apple_variety_id_key;
    END IF;
END
$$;

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS purchase_items_id_apple_variety_id_key ON purchase_items (id, apple_variety_id);

RESET lock_timeout;

BEGIN;

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

ALTER TABLE purchase_items ADD CONSTRAINT purchase_items_id_apple_variety_id_key UNIQUE USING INDEX purchase_items_id_apple_variety_id_key;

CREATE TYPE press_run_status AS ENUM ('in_progress', 'completed', 'cancelled');

CREATE TABLE press_runs (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    vendor_id UUID NOT NULL, 
    vessel_id UUID, 
    status press_run_status DEFAULT 'in_progress' NOT NULL, 
    start_time TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    end_time TIMESTAMP WITH TIME ZONE, 
    total_apple_weight_kg NUMERIC(10, 3) DEFAULT 0 NOT NULL, 
    juice_volume NUMERIC(10, 3), 
    juice_volume_unit unit, 
    total_juice_volume_l NUMERIC(10, 3), 
    extraction_rate NUMERIC(6, 4) GENERATED ALWAYS AS (CASE WHEN total_apple_weight_kg > 0 THEN round(total_juice_volume_l / total_apple_weight_kg, 4) END) STORED, 
    labor_hours NUMERIC(6, 2), 
    -- squawk-ignore prefer-bigint-over-int -- people working one press run (CHECK > 0): a handful
    worker_count INTEGER, 
    notes TEXT, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    created_by UUID, 
    updated_by UUID, 
    CONSTRAINT press_runs_pkey PRIMARY KEY (id), 
    CONSTRAINT press_runs_juice_volume_unit_is_volume_check CHECK (juice_volume_unit IN ('L', 'gal')), 
    CONSTRAINT press_runs_completed_has_outcome_check CHECK (status <> 'completed' OR (end_time IS NOT NULL AND total_juice_volume_l IS NOT NULL AND vessel_id IS NOT NULL)), 
    CONSTRAINT press_runs_open_has_no_end_check CHECK (status <> 'in_progress' OR end_time IS NULL), 
    CONSTRAINT press_runs_total_juice_volume_l_matches_entry_check CHECK (total_juice_volume_l = round(juice_volume * CASE juice_volume_unit WHEN 'gal' THEN 3.785411784 ELSE 1 END, 3)), 
    CONSTRAINT press_runs_juice_volume_complete_check CHECK ((juice_volume IS NULL) = (juice_volume_unit IS NULL) AND (juice_volume IS NULL) = (total_juice_volume_l IS NULL)), 
    CONSTRAINT press_runs_end_after_start_check CHECK (end_time >= start_time), 
    CONSTRAINT press_runs_extraction_rate_range_check CHECK (extraction_rate > 0 AND extraction_rate <= 1.2), 
    CONSTRAINT press_runs_juice_volume_positive_check CHECK (juice_volume > 0 AND juice_volume <> 'NaN'), 
    CONSTRAINT press_runs_labor_hours_nonnegative_check CHECK (labor_hours >= 0 AND labor_hours <> 'NaN'), 
    CONSTRAINT press_runs_total_apple_weight_kg_nonnegative_check CHECK (total_apple_weight_kg >= 0 AND total_apple_weight_kg <> 'NaN'), 
    CONSTRAINT press_runs_total_juice_volume_l_positive_check CHECK (total_juice_volume_l > 0 AND total_juice_volume_l <> 'NaN'), 
    CONSTRAINT press_runs_worker_count_positive_check CHECK (worker_count > 0), 
    CONSTRAINT press_runs_created_by_fkey FOREIGN KEY(created_by) REFERENCES users (id), 
    CONSTRAINT press_runs_updated_by_fkey FOREIGN KEY(updated_by) REFERENCES users (id), 
    CONSTRAINT press_runs_vendor_id_fkey FOREIGN KEY(vendor_id) REFERENCES vendors (id), 
    CONSTRAINT press_runs_vessel_id_fkey FOREIGN KEY(vessel_id) REFERENCES vessels (id)
);

CREATE INDEX press_runs_created_by_idx ON press_runs (created_by);

CREATE INDEX press_runs_status_idx ON press_runs (status, start_time DESC) WHERE deleted_at IS NULL;

CREATE INDEX press_runs_updated_by_idx ON press_runs (updated_by);

CREATE INDEX press_runs_vendor_id_idx ON press_runs (vendor_id, status, start_time);

CREATE INDEX press_runs_vessel_id_idx ON press_runs (vessel_id, start_time);

CREATE TABLE press_run_loads (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    press_run_id UUID NOT NULL, 
    purchase_item_id UUID NOT NULL, 
    apple_variety_id UUID NOT NULL, 
    -- squawk-ignore prefer-bigint-over-int -- number of a load within one press run (unique per run): tens, never near int's 2.1 billion
    load_sequence INTEGER NOT NULL, 
    weight NUMERIC(10, 3) NOT NULL, 
    weight_unit unit NOT NULL, 
    weight_kg NUMERIC(10, 3) NOT NULL, 
    juice_volume_l NUMERIC(10, 3), 
    brix NUMERIC(4, 2), 
    ph NUMERIC(3, 2), 
    notes TEXT, 
    pressed_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    created_by UUID, 
    updated_by UUID, 
    CONSTRAINT press_run_loads_pkey PRIMARY KEY (id), 
    CONSTRAINT press_run_loads_weight_kg_matches_entry_check CHECK (weight_kg = round(weight * CASE weight_unit WHEN 'lb' THEN 0.45359237 ELSE 1 END, 3)), 
    CONSTRAINT press_run_loads_weight_unit_is_weight_check CHECK (weight_unit IN ('kg', 'lb')), 
    CONSTRAINT press_run_loads_brix_range_check CHECK (brix >= 0 AND brix <= 40), 
    CONSTRAINT press_run_loads_juice_volume_l_positive_check CHECK (juice_volume_l > 0 AND juice_volume_l <> 'NaN'), 
    CONSTRAINT press_run_loads_load_sequence_positive_check CHECK (load_sequence > 0), 
    CONSTRAINT press_run_loads_ph_range_check CHECK (ph >= 0 AND ph <= 14), 
    CONSTRAINT press_run_loads_weight_positive_check CHECK (weight > 0 AND weight <> 'NaN'), 
    CONSTRAINT press_run_loads_weight_kg_positive_check CHECK (weight_kg > 0 AND weight_kg <> 'NaN'), 
    CONSTRAINT press_run_loads_apple_variety_id_fkey FOREIGN KEY(apple_variety_id) REFERENCES apple_varieties (id), 
    CONSTRAINT press_run_loads_created_by_fkey FOREIGN KEY(created_by) REFERENCES users (id), 
    CONSTRAINT press_run_loads_press_run_id_fkey FOREIGN KEY(press_run_id) REFERENCES press_runs (id) ON DELETE CASCADE, 
    CONSTRAINT press_run_loads_purchase_item_id_apple_variety_id_fkey FOREIGN KEY(purchase_item_id, apple_variety_id) REFERENCES purchase_items (id, apple_variety_id), 
    CONSTRAINT press_run_loads_updated_by_fkey FOREIGN KEY(updated_by) REFERENCES users (id)
);

CREATE INDEX press_run_loads_apple_variety_id_idx ON press_run_loads (apple_variety_id);

CREATE INDEX press_run_loads_created_by_idx ON press_run_loads (created_by);

CREATE UNIQUE INDEX press_run_loads_press_run_id_idx ON press_run_loads (press_run_id, load_sequence);

CREATE INDEX press_run_loads_purchase_item_id_idx ON press_run_loads (purchase_item_id, apple_variety_id) INCLUDE (press_run_id, weight_kg, deleted_at);

CREATE INDEX press_run_loads_updated_by_idx ON press_run_loads (updated_by);

CREATE TRIGGER press_runs_set_updated_at BEFORE UPDATE ON press_runs FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER press_run_loads_set_updated_at BEFORE UPDATE ON press_run_loads FOR EACH ROW EXECUTE FUNCTION set_updated_at();

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0002.press_runs') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0002.press_runs'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'press_runs'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO press_runs (%s) SELECT %s FROM cidery_archive_0002.press_runs',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0002.press_runs;
        RAISE NOTICE 'restored % rows of press_runs from cidery_archive_0002', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0002.press_run_loads') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0002.press_run_loads'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'press_run_loads'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO press_run_loads (%s) SELECT %s FROM cidery_archive_0002.press_run_loads',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0002.press_run_loads;
        RAISE NOTICE 'restored % rows of press_run_loads from cidery_archive_0002', restored;
    END IF;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'cidery_archive_0002')
       AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n
                       ON n.oid = c.relnamespace WHERE n.nspname = 'cidery_archive_0002') THEN
        DROP SCHEMA cidery_archive_0002;
    END IF;
END
$$;

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

-- Record the checksum of revision 0002's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO alembic_version_checksums (revision, checksum) VALUES ('0002', 'e3fef89961d58b598c7224ab25f22827c8f7bf7afc9e6e2b8d3fb209554e466c') ON CONFLICT (revision) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now();

COMMIT;

