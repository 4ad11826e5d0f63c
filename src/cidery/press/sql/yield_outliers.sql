-- Compiled from cidery.press.queries by `make sql`; do not edit.
SELECT press_runs.id, press_runs.vendor_id, vendors.name AS vendor_name, press_runs.vessel_id, press_runs.status, press_runs.start_time, press_runs.end_time, (SELECT count(*) AS count_1
FROM press_run_loads
WHERE press_run_loads.press_run_id = press_runs.id AND press_run_loads.deleted_at IS NULL) AS load_count, press_runs.total_apple_weight_kg, press_runs.total_juice_volume_l, press_runs.extraction_rate
FROM press_runs JOIN vendors ON vendors.id = press_runs.vendor_id
WHERE press_runs.deleted_at IS NULL AND press_runs.status = 'completed' AND (press_runs.extraction_rate < 0.40 OR press_runs.extraction_rate > 0.85) ORDER BY press_runs.start_time DESC, press_runs.id DESC
