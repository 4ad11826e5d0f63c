BEGIN;

-- Running upgrade 0011 -> 0012

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

COMMIT;

SET lock_timeout = '5s';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.oid = to_regclass('press_runs_vendor_id_status_idx') AND NOT i.indisvalid) THEN
        DROP INDEX press_runs_vendor_id_status_idx;
    END IF;
END
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS press_runs_vendor_id_status_idx ON press_runs (vendor_id, status, start_time DESC, id DESC);

DROP INDEX CONCURRENTLY IF EXISTS press_runs_vendor_id_idx;

RESET lock_timeout;

BEGIN;

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

UPDATE alembic_version SET version_num='0012' WHERE alembic_version.version_num = '0011';

-- Record the checksum of revision 0012's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO alembic_version_checksums (revision, checksum) VALUES ('0012', 'c9b4b084ef90ca6d69e484367dea9164dfe68bc26dcf3379f89d292cf3f6e336') ON CONFLICT (revision) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now();

COMMIT;

