BEGIN;

-- Running downgrade 0004 -> 0003

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

DROP FUNCTION press_add_load(uuid, uuid, numeric, unit, numeric, numeric, numeric, numeric, text, timestamptz, uuid, numeric);

DROP FUNCTION audit_diff(jsonb, jsonb);

DROP FUNCTION audit_snapshot(regclass, jsonb);

DROP FUNCTION audit_isoformat(timestamptz);

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0004';

-- Forget the checksum of revision 0004's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

DELETE FROM alembic_version_checksums WHERE revision = '0004';

COMMIT;

