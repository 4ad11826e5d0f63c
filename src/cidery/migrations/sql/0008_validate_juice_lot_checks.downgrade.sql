BEGIN;

-- Running downgrade 0008 -> 0007

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

ALTER TABLE press_run_loads DROP CONSTRAINT press_run_loads_weigh_tag_complete_check;

ALTER TABLE press_run_loads ADD CONSTRAINT press_run_loads_weigh_tag_complete_check CHECK ((gross_weight IS NULL) = (tare_weight IS NULL)) NOT VALID;

ALTER TABLE press_run_loads DROP CONSTRAINT press_run_loads_tare_weight_nonnegative_check;

ALTER TABLE press_run_loads ADD CONSTRAINT press_run_loads_tare_weight_nonnegative_check CHECK (tare_weight >= 0 AND tare_weight <> 'NaN') NOT VALID;

ALTER TABLE press_run_loads DROP CONSTRAINT press_run_loads_tare_below_gross_check;

ALTER TABLE press_run_loads ADD CONSTRAINT press_run_loads_tare_below_gross_check CHECK (tare_weight < gross_weight) NOT VALID;

ALTER TABLE press_run_loads DROP CONSTRAINT press_run_loads_weight_is_net_of_tare_check;

ALTER TABLE press_run_loads ADD CONSTRAINT press_run_loads_weight_is_net_of_tare_check CHECK (weight = gross_weight - tare_weight) NOT VALID;

ALTER TABLE press_runs DROP CONSTRAINT press_runs_pomace_kg_positive_check;

ALTER TABLE press_runs ADD CONSTRAINT press_runs_pomace_kg_positive_check CHECK (pomace_kg > 0 AND pomace_kg <> 'NaN') NOT VALID;

ALTER TABLE press_runs DROP CONSTRAINT press_runs_labor_rate_nonnegative_check;

ALTER TABLE press_runs ADD CONSTRAINT press_runs_labor_rate_nonnegative_check CHECK (labor_rate >= 0 AND labor_rate <> 'NaN') NOT VALID;

ALTER TABLE purchase_items DROP CONSTRAINT purchase_items_written_off_kg_nonnegative_check;

ALTER TABLE purchase_items ADD CONSTRAINT purchase_items_written_off_kg_nonnegative_check CHECK (written_off_kg >= 0 AND written_off_kg <> 'NaN') NOT VALID;

ALTER TABLE purchase_items DROP CONSTRAINT purchase_items_fruit_within_quantity_check;

ALTER TABLE purchase_items ADD CONSTRAINT purchase_items_fruit_within_quantity_check CHECK (pressed_kg + written_off_kg <= coalesce(quantity_kg, 0)) NOT VALID;

UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0008';

-- Forget the checksum of revision 0008's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

DELETE FROM alembic_version_checksums WHERE revision = '0008';

COMMIT;

