BEGIN;

-- Running downgrade 0010 -> 0009

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

COMMIT;

SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS press_run_batches_created_at_batch_id_idx;

RESET lock_timeout;

BEGIN;

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0010';

-- Forget the checksum of revision 0010's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

DELETE FROM alembic_version_checksums WHERE revision = '0010';

COMMIT;

