BEGIN;

-- Running upgrade 0004 -> 0005

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

COMMIT;

SET lock_timeout = '5s';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.oid = to_regclass('press_run_loads_live_press_run_id_idx') AND NOT i.indisvalid) THEN
        DROP INDEX press_run_loads_live_press_run_id_idx;
    END IF;
END
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS press_run_loads_live_press_run_id_idx ON press_run_loads (press_run_id) WHERE deleted_at IS NULL;

RESET lock_timeout;

BEGIN;

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0004';

-- Record the checksum of revision 0005's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO alembic_version_checksums (revision, checksum) VALUES ('0005', '546ce23e5af6336f81a0eeebfa9fe889c530bd5ac01778666981a334df35ca3c') ON CONFLICT (revision) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now();

COMMIT;

