BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

CREATE TYPE user_role AS ENUM ('admin', 'operator', 'viewer');

CREATE TYPE vessel_type AS ENUM ('fermenter', 'conditioning_tank', 'bright_tank', 'barrel', 'storage');

CREATE TYPE vessel_status AS ENUM ('available', 'in_use', 'cleaning', 'maintenance');

CREATE TYPE audit_operation AS ENUM ('insert', 'update', 'delete');

CREATE TYPE batch_status AS ENUM ('planned', 'fermenting', 'conditioning', 'packaged', 'completed', 'discarded');

CREATE TYPE cogs_item_type AS ENUM ('apples', 'labor', 'overhead', 'packaging', 'other');

CREATE TYPE unit AS ENUM ('kg', 'lb', 'L', 'gal', 'bushel');

CREATE TYPE transaction_type AS ENUM ('production', 'sale', 'transfer', 'adjustment', 'waste');

CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE apple_varieties (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    description TEXT, 
    typical_brix NUMERIC(4, 2), 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT apple_varieties_pkey PRIMARY KEY (id), 
    CONSTRAINT apple_varieties_name_not_blank_check CHECK (length(btrim(name)) > 0), 
    CONSTRAINT apple_varieties_typical_brix_range_check CHECK (typical_brix >= 0 AND typical_brix <= 40)
);

CREATE UNIQUE INDEX apple_varieties_name_key ON apple_varieties (lower(name)) WHERE deleted_at IS NULL;

CREATE TABLE users (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    email VARCHAR(320) NOT NULL, 
    name VARCHAR(200) NOT NULL, 
    password_hash VARCHAR(255) NOT NULL, 
    role user_role DEFAULT 'viewer' NOT NULL, 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    last_login_at TIMESTAMP WITH TIME ZONE, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT users_pkey PRIMARY KEY (id), 
    CONSTRAINT users_email_format_check CHECK (position('@' in email) > 1), 
    CONSTRAINT users_name_not_blank_check CHECK (length(btrim(name)) > 0)
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE deleted_at IS NULL;

CREATE TABLE vendors (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    name VARCHAR(200) NOT NULL, 
    contact_info JSONB DEFAULT '{}'::jsonb NOT NULL, 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT vendors_pkey PRIMARY KEY (id), 
    CONSTRAINT vendors_contact_info_object_check CHECK (jsonb_typeof(contact_info) = 'object'), 
    CONSTRAINT vendors_name_not_blank_check CHECK (length(btrim(name)) > 0)
);

CREATE UNIQUE INDEX vendors_name_key ON vendors (lower(name)) WHERE deleted_at IS NULL;

CREATE TABLE vessels (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    type vessel_type NOT NULL, 
    status vessel_status DEFAULT 'available' NOT NULL, 
    capacity_l NUMERIC(10, 3) NOT NULL, 
    location VARCHAR(200), 
    notes TEXT, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT vessels_pkey PRIMARY KEY (id), 
    CONSTRAINT vessels_capacity_l_positive_check CHECK (capacity_l > 0 AND capacity_l <> 'NaN'), 
    CONSTRAINT vessels_name_not_blank_check CHECK (length(btrim(name)) > 0)
);

CREATE UNIQUE INDEX vessels_name_key ON vessels (lower(name)) WHERE deleted_at IS NULL;

CREATE INDEX vessels_status_idx ON vessels (status);

CREATE TABLE audit_logs (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    table_name VARCHAR(63) NOT NULL, 
    record_id UUID NOT NULL, 
    operation audit_operation NOT NULL, 
    old_data JSONB, 
    new_data JSONB, 
    diff JSONB, 
    reason TEXT, 
    changed_by UUID, 
    changed_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    CONSTRAINT audit_logs_pkey PRIMARY KEY (id), 
    CONSTRAINT audit_logs_data_matches_operation_check CHECK ((operation = 'insert' AND old_data IS NULL AND new_data IS NOT NULL) OR (operation = 'update' AND old_data IS NOT NULL AND new_data IS NOT NULL) OR (operation = 'delete' AND old_data IS NOT NULL AND new_data IS NULL)), 
    CONSTRAINT audit_logs_changed_by_fkey FOREIGN KEY(changed_by) REFERENCES users (id)
);

CREATE INDEX audit_logs_changed_at_idx ON audit_logs (changed_at);

CREATE INDEX audit_logs_changed_by_idx ON audit_logs (changed_by);

CREATE INDEX audit_logs_table_name_record_id_idx ON audit_logs (table_name, record_id, changed_at);

CREATE TABLE batches (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    batch_number VARCHAR(50) NOT NULL, 
    name VARCHAR(200), 
    vessel_id UUID, 
    status batch_status DEFAULT 'planned' NOT NULL, 
    start_date DATE NOT NULL, 
    end_date DATE, 
    initial_volume_l NUMERIC(10, 3) NOT NULL, 
    current_volume_l NUMERIC(10, 3) NOT NULL, 
    target_abv NUMERIC(4, 2), 
    actual_abv NUMERIC(4, 2), 
    notes TEXT, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT batches_pkey PRIMARY KEY (id), 
    CONSTRAINT batches_actual_abv_range_check CHECK (actual_abv >= 0 AND actual_abv <= 100), 
    CONSTRAINT batches_current_volume_l_nonnegative_check CHECK (current_volume_l >= 0 AND current_volume_l <> 'NaN'), 
    CONSTRAINT batches_dates_ordered_check CHECK (end_date IS NULL OR end_date >= start_date), 
    CONSTRAINT batches_initial_volume_l_positive_check CHECK (initial_volume_l > 0 AND initial_volume_l <> 'NaN'), 
    CONSTRAINT batches_target_abv_range_check CHECK (target_abv >= 0 AND target_abv <= 100), 
    CONSTRAINT batches_vessel_id_fkey FOREIGN KEY(vessel_id) REFERENCES vessels (id)
);

CREATE UNIQUE INDEX batches_batch_number_key ON batches (batch_number) WHERE deleted_at IS NULL;

CREATE INDEX batches_status_idx ON batches (status);

CREATE INDEX batches_vessel_id_idx ON batches (vessel_id);

CREATE TABLE purchases (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    vendor_id UUID NOT NULL, 
    purchase_date DATE NOT NULL, 
    invoice_number VARCHAR(100), 
    total_cost NUMERIC(10, 2) DEFAULT 0 NOT NULL, 
    notes TEXT, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT purchases_pkey PRIMARY KEY (id), 
    CONSTRAINT purchases_total_cost_nonnegative_check CHECK (total_cost >= 0 AND total_cost <> 'NaN'), 
    CONSTRAINT purchases_vendor_id_fkey FOREIGN KEY(vendor_id) REFERENCES vendors (id)
);

CREATE INDEX purchases_purchase_date_idx ON purchases (purchase_date);

CREATE INDEX purchases_vendor_id_idx ON purchases (vendor_id);

CREATE UNIQUE INDEX purchases_vendor_id_invoice_number_key ON purchases (vendor_id, invoice_number) WHERE deleted_at IS NULL AND invoice_number IS NOT NULL;

CREATE TABLE batch_costs (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    batch_id UUID NOT NULL, 
    total_apple_cost NUMERIC(10, 2) DEFAULT 0 NOT NULL, 
    labor_cost NUMERIC(10, 2) DEFAULT 0 NOT NULL, 
    overhead_cost NUMERIC(10, 2) DEFAULT 0 NOT NULL, 
    packaging_cost NUMERIC(10, 2) DEFAULT 0 NOT NULL, 
    total_cost NUMERIC(10, 2) DEFAULT 0 NOT NULL, 
    cost_per_bottle NUMERIC(8, 4), 
    cost_per_l NUMERIC(8, 4), 
    calculated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT batch_costs_pkey PRIMARY KEY (id), 
    CONSTRAINT batch_costs_cost_per_bottle_nonnegative_check CHECK (cost_per_bottle >= 0 AND cost_per_bottle <> 'NaN'), 
    CONSTRAINT batch_costs_cost_per_l_nonnegative_check CHECK (cost_per_l >= 0 AND cost_per_l <> 'NaN'), 
    CONSTRAINT batch_costs_components_nonnegative_check CHECK (total_apple_cost >= 0 AND total_apple_cost <> 'NaN' AND labor_cost >= 0 AND labor_cost <> 'NaN' AND overhead_cost >= 0 AND overhead_cost <> 'NaN' AND packaging_cost >= 0 AND packaging_cost <> 'NaN'), 
    CONSTRAINT batch_costs_total_is_sum_check CHECK (total_cost = total_apple_cost + labor_cost + overhead_cost + packaging_cost), 
    CONSTRAINT batch_costs_batch_id_fkey FOREIGN KEY(batch_id) REFERENCES batches (id), 
    CONSTRAINT batch_costs_batch_id_key UNIQUE (batch_id)
);

CREATE TABLE batch_measurements (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    batch_id UUID NOT NULL, 
    measured_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    specific_gravity NUMERIC(5, 4), 
    brix NUMERIC(4, 2), 
    ph NUMERIC(3, 2), 
    abv NUMERIC(4, 2), 
    temperature_c NUMERIC(4, 1), 
    volume_l NUMERIC(10, 3), 
    notes TEXT, 
    measured_by UUID, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT batch_measurements_pkey PRIMARY KEY (id), 
    CONSTRAINT batch_measurements_abv_range_check CHECK (abv >= 0 AND abv <= 100), 
    CONSTRAINT batch_measurements_brix_range_check CHECK (brix >= 0 AND brix <= 40), 
    CONSTRAINT batch_measurements_has_a_reading_check CHECK (num_nonnulls(specific_gravity, brix, ph, abv, temperature_c, volume_l) > 0), 
    CONSTRAINT batch_measurements_ph_range_check CHECK (ph >= 0 AND ph <= 14), 
    CONSTRAINT batch_measurements_specific_gravity_range_check CHECK (specific_gravity >= 0.9 AND specific_gravity <= 1.2), 
    CONSTRAINT batch_measurements_temperature_range_check CHECK (temperature_c >= -20 AND temperature_c <= 100), 
    CONSTRAINT batch_measurements_volume_l_nonnegative_check CHECK (volume_l >= 0 AND volume_l <> 'NaN'), 
    CONSTRAINT batch_measurements_batch_id_fkey FOREIGN KEY(batch_id) REFERENCES batches (id) ON DELETE CASCADE, 
    CONSTRAINT batch_measurements_measured_by_fkey FOREIGN KEY(measured_by) REFERENCES users (id)
);

CREATE INDEX batch_measurements_batch_id_idx ON batch_measurements (batch_id);

CREATE INDEX batch_measurements_measured_by_idx ON batch_measurements (measured_by);

CREATE TABLE cogs_items (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    batch_id UUID NOT NULL, 
    item_type cogs_item_type NOT NULL, 
    description TEXT NOT NULL, 
    cost NUMERIC(10, 2) NOT NULL, 
    quantity NUMERIC(10, 3), 
    unit unit, 
    applied_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT cogs_items_pkey PRIMARY KEY (id), 
    CONSTRAINT cogs_items_quantity_has_unit_check CHECK ((quantity IS NULL) = (unit IS NULL)), 
    CONSTRAINT cogs_items_cost_nonnegative_check CHECK (cost >= 0 AND cost <> 'NaN'), 
    CONSTRAINT cogs_items_quantity_positive_check CHECK (quantity > 0 AND quantity <> 'NaN'), 
    CONSTRAINT cogs_items_batch_id_fkey FOREIGN KEY(batch_id) REFERENCES batches (id)
);

CREATE INDEX cogs_items_batch_id_idx ON cogs_items (batch_id);

CREATE TABLE packages (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    batch_id UUID NOT NULL, 
    package_date DATE NOT NULL, 
    volume_packaged_l NUMERIC(10, 3) NOT NULL, 
    -- squawk-ignore prefer-bigint-over-int -- millilitres in one bottle: thousands at most, int holds 2.1 billion; a measure, not an id or a running total
    bottle_size_ml INTEGER NOT NULL, 
    -- squawk-ignore prefer-bigint-over-int -- bottles filled in one packaging run: bounded by the batch's volume, never near int's 2.1 billion
    bottle_count INTEGER NOT NULL, 
    abv_at_packaging NUMERIC(4, 2), 
    notes TEXT, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT packages_pkey PRIMARY KEY (id), 
    CONSTRAINT packages_abv_at_packaging_range_check CHECK (abv_at_packaging >= 0 AND abv_at_packaging <= 100), 
    CONSTRAINT packages_bottle_count_positive_check CHECK (bottle_count > 0), 
    CONSTRAINT packages_bottle_size_ml_positive_check CHECK (bottle_size_ml > 0), 
    CONSTRAINT packages_volume_packaged_l_positive_check CHECK (volume_packaged_l > 0 AND volume_packaged_l <> 'NaN'), 
    CONSTRAINT packages_batch_id_fkey FOREIGN KEY(batch_id) REFERENCES batches (id)
);

CREATE INDEX packages_batch_id_idx ON packages (batch_id);

CREATE TABLE purchase_items (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    purchase_id UUID NOT NULL, 
    apple_variety_id UUID NOT NULL, 
    quantity NUMERIC(10, 3) NOT NULL, 
    unit unit NOT NULL, 
    quantity_kg NUMERIC(10, 3), 
    quantity_l NUMERIC(10, 3), 
    price_per_unit NUMERIC(8, 4), 
    total_cost NUMERIC(10, 2), 
    harvest_date DATE, 
    notes TEXT, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT purchase_items_pkey PRIMARY KEY (id), 
    CONSTRAINT purchase_items_volume_has_quantity_l_check CHECK (unit NOT IN ('L', 'gal') OR quantity_l IS NOT NULL), 
    CONSTRAINT purchase_items_weight_has_quantity_kg_check CHECK (unit NOT IN ('kg', 'lb', 'bushel') OR quantity_kg IS NOT NULL), 
    CONSTRAINT purchase_items_price_per_unit_nonnegative_check CHECK (price_per_unit >= 0 AND price_per_unit <> 'NaN'), 
    CONSTRAINT purchase_items_quantity_positive_check CHECK (quantity > 0 AND quantity <> 'NaN'), 
    CONSTRAINT purchase_items_quantity_kg_positive_check CHECK (quantity_kg > 0 AND quantity_kg <> 'NaN'), 
    CONSTRAINT purchase_items_quantity_l_positive_check CHECK (quantity_l > 0 AND quantity_l <> 'NaN'), 
    CONSTRAINT purchase_items_total_cost_nonnegative_check CHECK (total_cost >= 0 AND total_cost <> 'NaN'), 
    CONSTRAINT purchase_items_apple_variety_id_fkey FOREIGN KEY(apple_variety_id) REFERENCES apple_varieties (id), 
    CONSTRAINT purchase_items_purchase_id_fkey FOREIGN KEY(purchase_id) REFERENCES purchases (id) ON DELETE CASCADE
);

CREATE INDEX purchase_items_apple_variety_id_idx ON purchase_items (apple_variety_id);

CREATE INDEX purchase_items_purchase_id_idx ON purchase_items (purchase_id);

CREATE TABLE inventory (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    package_id UUID NOT NULL, 
    -- squawk-ignore prefer-bigint-over-int -- bottles of one package held at one location: bounded by that package's bottle_count, an int
    current_bottle_count INTEGER NOT NULL, 
    -- squawk-ignore prefer-bigint-over-int -- bounded by current_bottle_count (CHECK reserved_within_current), an int
    reserved_bottle_count INTEGER DEFAULT '0' NOT NULL, 
    location VARCHAR(200), 
    notes TEXT, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT inventory_pkey PRIMARY KEY (id), 
    CONSTRAINT inventory_current_bottle_count_nonnegative_check CHECK (current_bottle_count >= 0), 
    CONSTRAINT inventory_reserved_within_current_check CHECK (reserved_bottle_count <= current_bottle_count), 
    CONSTRAINT inventory_reserved_bottle_count_nonnegative_check CHECK (reserved_bottle_count >= 0), 
    CONSTRAINT inventory_package_id_fkey FOREIGN KEY(package_id) REFERENCES packages (id)
);

CREATE INDEX inventory_package_id_idx ON inventory (package_id);

CREATE TABLE inventory_transactions (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    inventory_id UUID NOT NULL, 
    transaction_type transaction_type NOT NULL, 
    -- squawk-ignore prefer-bigint-over-int -- bottles moved by one transaction: bounded by one package's stock; a change, not a running total
    quantity_change INTEGER NOT NULL, 
    transaction_date TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    reason TEXT, 
    created_by UUID, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    deleted_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT inventory_transactions_pkey PRIMARY KEY (id), 
    CONSTRAINT inventory_transactions_quantity_change_nonzero_check CHECK (quantity_change <> 0), 
    CONSTRAINT inventory_transactions_created_by_fkey FOREIGN KEY(created_by) REFERENCES users (id), 
    CONSTRAINT inventory_transactions_inventory_id_fkey FOREIGN KEY(inventory_id) REFERENCES inventory (id)
);

CREATE INDEX inventory_transactions_created_by_idx ON inventory_transactions (created_by);

CREATE INDEX inventory_transactions_inventory_id_idx ON inventory_transactions (inventory_id);

CREATE TRIGGER apple_varieties_set_updated_at BEFORE UPDATE ON apple_varieties FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER vendors_set_updated_at BEFORE UPDATE ON vendors FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER vessels_set_updated_at BEFORE UPDATE ON vessels FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER batches_set_updated_at BEFORE UPDATE ON batches FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER purchases_set_updated_at BEFORE UPDATE ON purchases FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER batch_costs_set_updated_at BEFORE UPDATE ON batch_costs FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER batch_measurements_set_updated_at BEFORE UPDATE ON batch_measurements FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER cogs_items_set_updated_at BEFORE UPDATE ON cogs_items FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER packages_set_updated_at BEFORE UPDATE ON packages FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER purchase_items_set_updated_at BEFORE UPDATE ON purchase_items FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER inventory_set_updated_at BEFORE UPDATE ON inventory FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER inventory_transactions_set_updated_at BEFORE UPDATE ON inventory_transactions FOR EACH ROW EXECUTE FUNCTION set_updated_at();

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.apple_varieties') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.apple_varieties'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'apple_varieties'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO apple_varieties (%s) SELECT %s FROM cidery_archive_0001.apple_varieties',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.apple_varieties;
        RAISE NOTICE 'restored % rows of apple_varieties from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.users') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.users'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'users'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO users (%s) SELECT %s FROM cidery_archive_0001.users',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.users;
        RAISE NOTICE 'restored % rows of users from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.vendors') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.vendors'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'vendors'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO vendors (%s) SELECT %s FROM cidery_archive_0001.vendors',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.vendors;
        RAISE NOTICE 'restored % rows of vendors from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.vessels') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.vessels'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'vessels'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO vessels (%s) SELECT %s FROM cidery_archive_0001.vessels',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.vessels;
        RAISE NOTICE 'restored % rows of vessels from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.audit_logs') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.audit_logs'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'audit_logs'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO audit_logs (%s) SELECT %s FROM cidery_archive_0001.audit_logs',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.audit_logs;
        RAISE NOTICE 'restored % rows of audit_logs from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.batches') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.batches'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'batches'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO batches (%s) SELECT %s FROM cidery_archive_0001.batches',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.batches;
        RAISE NOTICE 'restored % rows of batches from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.purchases') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.purchases'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'purchases'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO purchases (%s) SELECT %s FROM cidery_archive_0001.purchases',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.purchases;
        RAISE NOTICE 'restored % rows of purchases from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.batch_costs') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.batch_costs'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'batch_costs'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO batch_costs (%s) SELECT %s FROM cidery_archive_0001.batch_costs',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.batch_costs;
        RAISE NOTICE 'restored % rows of batch_costs from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.batch_measurements') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.batch_measurements'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'batch_measurements'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO batch_measurements (%s) SELECT %s FROM cidery_archive_0001.batch_measurements',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.batch_measurements;
        RAISE NOTICE 'restored % rows of batch_measurements from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.cogs_items') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.cogs_items'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'cogs_items'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO cogs_items (%s) SELECT %s FROM cidery_archive_0001.cogs_items',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.cogs_items;
        RAISE NOTICE 'restored % rows of cogs_items from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.packages') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.packages'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'packages'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO packages (%s) SELECT %s FROM cidery_archive_0001.packages',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.packages;
        RAISE NOTICE 'restored % rows of packages from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.purchase_items') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.purchase_items'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'purchase_items'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO purchase_items (%s) SELECT %s FROM cidery_archive_0001.purchase_items',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.purchase_items;
        RAISE NOTICE 'restored % rows of purchase_items from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.inventory') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.inventory'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'inventory'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO inventory (%s) SELECT %s FROM cidery_archive_0001.inventory',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.inventory;
        RAISE NOTICE 'restored % rows of inventory from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0001.inventory_transactions') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0001.inventory_transactions'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'inventory_transactions'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO inventory_transactions (%s) SELECT %s FROM cidery_archive_0001.inventory_transactions',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0001.inventory_transactions;
        RAISE NOTICE 'restored % rows of inventory_transactions from cidery_archive_0001', restored;
    END IF;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'cidery_archive_0001')
       AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n
                       ON n.oid = c.relnamespace WHERE n.nspname = 'cidery_archive_0001') THEN
        DROP SCHEMA cidery_archive_0001;
    END IF;
END
$$;

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num;

-- Record the checksum of revision 0001's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO alembic_version_checksums (revision, checksum) VALUES ('0001', 'cf087d6f9c6dbd515bad9606208e5696edbc0fa6bd06a875675d60a221ac69fe') ON CONFLICT (revision) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now();

COMMIT;

