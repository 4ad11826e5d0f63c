BEGIN;

-- Running downgrade 0001 -> 

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM apple_varieties WHERE true) THEN
        IF to_regclass('cidery_archive_0001.apple_varieties') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.apple_varieties already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'apple_varieties'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.apple_varieties AS SELECT %s FROM apple_varieties WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.apple_varieties IS %L',
            format('%s rows of apple_varieties, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of apple_varieties into cidery_archive_0001.apple_varieties', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM users WHERE true) THEN
        IF to_regclass('cidery_archive_0001.users') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.users already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'users'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.users AS SELECT %s FROM users WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.users IS %L',
            format('%s rows of users, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of users into cidery_archive_0001.users', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM vendors WHERE true) THEN
        IF to_regclass('cidery_archive_0001.vendors') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.vendors already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'vendors'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.vendors AS SELECT %s FROM vendors WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.vendors IS %L',
            format('%s rows of vendors, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of vendors into cidery_archive_0001.vendors', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM vessels WHERE true) THEN
        IF to_regclass('cidery_archive_0001.vessels') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.vessels already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'vessels'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.vessels AS SELECT %s FROM vessels WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.vessels IS %L',
            format('%s rows of vessels, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of vessels into cidery_archive_0001.vessels', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM audit_logs WHERE true) THEN
        IF to_regclass('cidery_archive_0001.audit_logs') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.audit_logs already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'audit_logs'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.audit_logs AS SELECT %s FROM audit_logs WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.audit_logs IS %L',
            format('%s rows of audit_logs, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of audit_logs into cidery_archive_0001.audit_logs', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM batches WHERE true) THEN
        IF to_regclass('cidery_archive_0001.batches') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.batches already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'batches'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.batches AS SELECT %s FROM batches WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.batches IS %L',
            format('%s rows of batches, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of batches into cidery_archive_0001.batches', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM purchases WHERE true) THEN
        IF to_regclass('cidery_archive_0001.purchases') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.purchases already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'purchases'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.purchases AS SELECT %s FROM purchases WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.purchases IS %L',
            format('%s rows of purchases, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of purchases into cidery_archive_0001.purchases', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM batch_costs WHERE true) THEN
        IF to_regclass('cidery_archive_0001.batch_costs') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.batch_costs already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'batch_costs'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.batch_costs AS SELECT %s FROM batch_costs WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.batch_costs IS %L',
            format('%s rows of batch_costs, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of batch_costs into cidery_archive_0001.batch_costs', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM batch_measurements WHERE true) THEN
        IF to_regclass('cidery_archive_0001.batch_measurements') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.batch_measurements already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'batch_measurements'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.batch_measurements AS SELECT %s FROM batch_measurements WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.batch_measurements IS %L',
            format('%s rows of batch_measurements, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of batch_measurements into cidery_archive_0001.batch_measurements', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM cogs_items WHERE true) THEN
        IF to_regclass('cidery_archive_0001.cogs_items') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.cogs_items already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'cogs_items'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.cogs_items AS SELECT %s FROM cogs_items WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.cogs_items IS %L',
            format('%s rows of cogs_items, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of cogs_items into cidery_archive_0001.cogs_items', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM packages WHERE true) THEN
        IF to_regclass('cidery_archive_0001.packages') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.packages already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'packages'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.packages AS SELECT %s FROM packages WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.packages IS %L',
            format('%s rows of packages, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of packages into cidery_archive_0001.packages', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM purchase_items WHERE true) THEN
        IF to_regclass('cidery_archive_0001.purchase_items') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.purchase_items already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'purchase_items'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.purchase_items AS SELECT %s FROM purchase_items WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.purchase_items IS %L',
            format('%s rows of purchase_items, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of purchase_items into cidery_archive_0001.purchase_items', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM inventory WHERE true) THEN
        IF to_regclass('cidery_archive_0001.inventory') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.inventory already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'inventory'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.inventory AS SELECT %s FROM inventory WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.inventory IS %L',
            format('%s rows of inventory, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of inventory into cidery_archive_0001.inventory', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM inventory_transactions WHERE true) THEN
        IF to_regclass('cidery_archive_0001.inventory_transactions') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0001.inventory_transactions already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0001;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'inventory_transactions'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0001.inventory_transactions AS SELECT %s FROM inventory_transactions WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0001.inventory_transactions IS %L',
            format('%s rows of inventory_transactions, archived by the downgrade of revision 0001 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of inventory_transactions into cidery_archive_0001.inventory_transactions', copied;
    END IF;
END
$$;

DROP TABLE inventory_transactions;

DROP TABLE inventory;

DROP TABLE purchase_items;

DROP TABLE packages;

DROP TABLE cogs_items;

DROP TABLE batch_measurements;

DROP TABLE batch_costs;

DROP TABLE purchases;

DROP TABLE batches;

DROP TABLE audit_logs;

DROP TABLE vessels;

DROP TABLE vendors;

DROP TABLE users;

DROP TABLE apple_varieties;

DROP FUNCTION set_updated_at();

DROP TYPE transaction_type;

DROP TYPE unit;

DROP TYPE cogs_item_type;

DROP TYPE batch_status;

DROP TYPE audit_operation;

DROP TYPE vessel_status;

DROP TYPE vessel_type;

DROP TYPE user_role;

DELETE FROM alembic_version WHERE alembic_version.version_num = '0001';

-- Forget the checksum of revision 0001's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

DELETE FROM alembic_version_checksums WHERE revision = '0001';

COMMIT;

