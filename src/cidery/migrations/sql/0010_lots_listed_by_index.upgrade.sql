BEGIN;

-- Running upgrade 0009 -> 0010

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

COMMIT;

SET lock_timeout = '5s';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.oid = to_regclass('press_run_batches_created_at_batch_id_idx') AND NOT i.indisvalid) THEN
        DROP INDEX press_run_batches_created_at_batch_id_idx;
    END IF;
END
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS press_run_batches_created_at_batch_id_idx ON press_run_batches (created_at, batch_id);

RESET lock_timeout;

BEGIN;

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009';

-- Record the checksum of revision 0010's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO alembic_version_checksums (revision, checksum) VALUES ('0010', 'b7b476a352259a162c642598f8e5f42677018192a9b57c9b0bacb8a484e88d23') ON CONFLICT (revision) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now();

COMMIT;

