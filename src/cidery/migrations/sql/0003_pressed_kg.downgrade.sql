BEGIN;

-- Running downgrade 0003 -> 0002

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

COMMIT;

SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS press_runs_extraction_rate_idx;

DROP INDEX CONCURRENTLY IF EXISTS press_runs_vendor_id_start_time_idx;

DROP INDEX CONCURRENTLY IF EXISTS press_runs_start_time_idx;

RESET lock_timeout;

BEGIN;

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

DROP TRIGGER press_runs_release_fruit_on_delete ON press_runs;

DROP TRIGGER press_runs_release_fruit ON press_runs;

DROP FUNCTION press_runs_release_fruit();

DROP TRIGGER press_run_loads_draw_fruit ON press_run_loads;

DROP FUNCTION press_run_loads_draw_fruit();

DROP TRIGGER purchase_items_set_updated_at ON purchase_items;

CREATE TRIGGER purchase_items_set_updated_at BEFORE UPDATE ON purchase_items FOR EACH ROW EXECUTE FUNCTION set_updated_at();

ALTER TABLE purchase_items DROP CONSTRAINT purchase_items_pressed_kg_within_quantity_check;

ALTER TABLE purchase_items DROP CONSTRAINT purchase_items_pressed_kg_nonnegative_check;

ALTER TABLE purchase_items DROP COLUMN pressed_kg;

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0003';

-- Forget the checksum of revision 0003's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

DELETE FROM alembic_version_checksums WHERE revision = '0003';

COMMIT;

