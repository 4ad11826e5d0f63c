BEGIN;

-- Running downgrade 0006 -> 0005

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM sign_in_throttles WHERE true) THEN
        IF to_regclass('cidery_archive_0006.sign_in_throttles') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0006.sign_in_throttles already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0006;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'sign_in_throttles'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0006.sign_in_throttles AS SELECT %s FROM sign_in_throttles WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0006.sign_in_throttles IS %L',
            format('%s rows of sign_in_throttles, archived by the downgrade of revision 0006 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of sign_in_throttles into cidery_archive_0006.sign_in_throttles', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM api_tokens WHERE true) THEN
        IF to_regclass('cidery_archive_0006.api_tokens') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0006.api_tokens already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0006;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'api_tokens'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0006.api_tokens AS SELECT %s FROM api_tokens WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0006.api_tokens IS %L',
            format('%s rows of api_tokens, archived by the downgrade of revision 0006 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of api_tokens into cidery_archive_0006.api_tokens', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM auth_sessions WHERE true) THEN
        IF to_regclass('cidery_archive_0006.auth_sessions') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0006.auth_sessions already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0006;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'auth_sessions'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0006.auth_sessions AS SELECT %s FROM auth_sessions WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0006.auth_sessions IS %L',
            format('%s rows of auth_sessions, archived by the downgrade of revision 0006 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of auth_sessions into cidery_archive_0006.auth_sessions', copied;
    END IF;
END
$$;

DO $$
DECLARE
    select_list text;
    copied bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM idempotency_keys WHERE true) THEN
        IF to_regclass('cidery_archive_0006.idempotency_keys') IS NOT NULL THEN
            RAISE EXCEPTION 'cidery_archive_0006.idempotency_keys already exists: an earlier rollback''s archive was never restored; migrate up to restore it, or drop it by hand';
        END IF;
        CREATE SCHEMA IF NOT EXISTS cidery_archive_0006;
        SELECT string_agg(CASE WHEN t.typtype = 'e'
                               THEN format('%1$I::text AS %1$I', a.attname)
                               ELSE format('%I', a.attname) END,
                          ', ' ORDER BY a.attnum)
          INTO select_list
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = 'idempotency_keys'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '' AND true;
        EXECUTE format('CREATE TABLE cidery_archive_0006.idempotency_keys AS SELECT %s FROM idempotency_keys WHERE true', select_list);
        GET DIAGNOSTICS copied = ROW_COUNT;
        EXECUTE format('COMMENT ON TABLE cidery_archive_0006.idempotency_keys IS %L',
            format('%s rows of idempotency_keys, archived by the downgrade of revision 0006 at %s; the next upgrade restores them', copied, now()));
        RAISE NOTICE 'archived % rows of idempotency_keys into cidery_archive_0006.idempotency_keys', copied;
    END IF;
END
$$;

DROP TABLE idempotency_keys;

DROP TABLE auth_sessions;

DROP TABLE api_tokens;

DROP TABLE sign_in_throttles;

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0006';

-- Forget the checksum of revision 0006's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

DELETE FROM alembic_version_checksums WHERE revision = '0006';

COMMIT;

