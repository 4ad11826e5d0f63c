BEGIN;

-- Running downgrade 0012 -> 0011

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

COMMIT;

SET lock_timeout = '5s';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.oid = to_regclass('press_runs_vendor_id_idx') AND NOT i.indisvalid) THEN
        DROP INDEX press_runs_vendor_id_idx;
    END IF;
END
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS press_runs_vendor_id_idx ON press_runs (vendor_id, status, start_time);

DROP INDEX CONCURRENTLY IF EXISTS press_runs_vendor_id_status_idx;

RESET lock_timeout;

BEGIN;

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

UPDATE alembic_version SET version_num='0011' WHERE alembic_version.version_num = '0012';

-- Forget the checksum of revision 0012's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

DELETE FROM alembic_version_checksums WHERE revision = '0012';

COMMIT;

