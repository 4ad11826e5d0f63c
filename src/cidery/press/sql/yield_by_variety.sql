-- Compiled from cidery.press.queries by `make sql`; do not edit.
SELECT apple_varieties.name AS variety, sum(press_run_loads.weight_kg) AS kg, round(sum((press_runs.total_juice_volume_l * press_run_loads.weight_kg) / CAST(press_runs.total_apple_weight_kg AS NUMERIC(10, 3))), 3) AS litres
FROM press_run_loads JOIN press_runs ON press_runs.id = press_run_loads.press_run_id JOIN apple_varieties ON apple_varieties.id = press_run_loads.apple_variety_id
WHERE press_runs.status = 'completed' AND press_runs.deleted_at IS NULL AND press_run_loads.deleted_at IS NULL AND press_runs.total_apple_weight_kg > 0 GROUP BY apple_varieties.name ORDER BY apple_varieties.name
