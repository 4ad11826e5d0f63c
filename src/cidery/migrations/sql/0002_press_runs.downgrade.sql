BEGIN;

-- Running downgrade 0002 -> 0001

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM press_runs WHERE true) THEN
        IF to_regclass('cidery_archive_0002.press_runs') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0002.press_runs already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0002;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'press_runs'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0002.press_runs AS SELECT %s FROM press_runs WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0002.press_runs IS %L',
            format('%s rows of press_runs, archived by the downgrade of revision 0002 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of press_runs into cidery_archive_0002.press_runs', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM press_run_loads WHERE true) THEN
        IF to_regclass('cidery_archive_0002.press_run_loads') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0002.press_run_loads already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0002;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'press_run_loads'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0002.press_run_loads AS SELECT %s FROM press_run_loads WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0002.press_run_loads IS %L',
            format('%s rows of press_run_loads, archived by the downgrade of revision 0002 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of press_run_loads into cidery_archive_0002.press_run_loads', copied;
    END IF;
END
$$;

DROP TABLE press_run_loads;

DROP TABLE press_runs;

DROP TYPE press_run_status;

ALTER TABLE purchase_items DROP CONSTRAINT purchase_items_id_apple_variety_id_key;

UPDATE alembic_version SET version_num='0001' WHERE alembic_version.version_num = '0002';

-- Forget the checksum of revision 0002's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

DELETE FROM alembic_version_checksums WHERE revision = '0002';

COMMIT;

