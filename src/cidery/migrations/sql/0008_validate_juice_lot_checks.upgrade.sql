BEGIN;

-- Running upgrade 0007 -> 0008

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

COMMIT;

SET lock_timeout = '5s';

-- squawk-ignore prefer-robust-stmts -- validating a constraint that is valid already does nothing: safe to re-run
ALTER TABLE press_run_loads VALIDATE CONSTRAINT press_run_loads_weigh_tag_complete_check;

-- squawk-ignore prefer-robust-stmts -- validating a constraint that is valid already does nothing: safe to re-run
ALTER TABLE press_run_loads VALIDATE CONSTRAINT press_run_loads_tare_weight_nonnegative_check;

-- squawk-ignore prefer-robust-stmts -- validating a constraint that is valid already does nothing: safe to re-run
ALTER TABLE press_run_loads VALIDATE CONSTRAINT press_run_loads_tare_below_gross_check;

-- squawk-ignore prefer-robust-stmts -- validating a constraint that is valid already does nothing: safe to re-run
ALTER TABLE press_run_loads VALIDATE CONSTRAINT press_run_loads_weight_is_net_of_tare_check;

-- squawk-ignore prefer-robust-stmts -- validating a constraint that is valid already does nothing: safe to re-run
ALTER TABLE press_runs VALIDATE CONSTRAINT press_runs_pomace_kg_positive_check;

-- squawk-ignore prefer-robust-stmts -- validating a constraint that is valid already does nothing: safe to re-run
ALTER TABLE press_runs VALIDATE CONSTRAINT press_runs_labor_rate_nonnegative_check;

-- squawk-ignore prefer-robust-stmts -- validating a constraint that is valid already does nothing: safe to re-run
ALTER TABLE purchase_items VALIDATE CONSTRAINT purchase_items_written_off_kg_nonnegative_check;

-- squawk-ignore prefer-robust-stmts -- validating a constraint that is valid already does nothing: safe to re-run
ALTER TABLE purchase_items VALIDATE CONSTRAINT purchase_items_fruit_within_quantity_check;

RESET lock_timeout;

BEGIN;

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007';

-- Record the checksum of revision 0008's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO alembic_version_checksums (revision, checksum) VALUES ('0008', 'c5b41f21a84490280622ad971377cbadf080f71022ea0c0bcb0a8b440bd491f4') ON CONFLICT (revision) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now();

COMMIT;

