BEGIN;

-- Running downgrade 0005 -> 0004

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

COMMIT;

SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS press_run_loads_live_press_run_id_idx;

RESET lock_timeout;

BEGIN;

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0005';

-- Forget the checksum of revision 0005's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

DELETE FROM alembic_version_checksums WHERE revision = '0005';

COMMIT;

