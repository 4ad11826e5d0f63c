BEGIN;

-- Running downgrade 0001 -> 

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

DROP TABLE inventory_transactions;

DROP TABLE inventory;

DROP TABLE purchase_items;

DROP TABLE packages;

DROP TABLE cogs_items;

DROP TABLE batch_measurements;

DROP TABLE batch_costs;

DROP TABLE purchases;

DROP TABLE batches;

DROP TABLE audit_logs;

DROP TABLE vessels;

DROP TABLE vendors;

DROP TABLE users;

DROP TABLE apple_varieties;

DROP FUNCTION set_updated_at();

DROP TYPE transaction_type;

DROP TYPE unit;

DROP TYPE cogs_item_type;

DROP TYPE batch_status;

DROP TYPE audit_operation;

DROP TYPE vessel_status;

DROP TYPE vessel_type;

DROP TYPE user_role;

DELETE FROM alembic_version WHERE alembic_version.version_num = '0001';

COMMIT;

