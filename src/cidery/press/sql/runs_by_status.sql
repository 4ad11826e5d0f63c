-- Compiled from cidery.press.queries by `make sql`; do not edit.
SELECT run_totals.status, run_totals.runs, coalesce(loads_by_status.loads, 0) AS loads, run_totals.kg, run_totals.litres
FROM (SELECT press_runs.status AS status, count(*) AS runs, coalesce(sum(press_runs.total_apple_weight_kg), 0) AS kg, coalesce(sum(press_runs.total_juice_volume_l), 0) AS litres
FROM press_runs
WHERE press_runs.deleted_at IS NULL GROUP BY press_runs.status) AS run_totals LEFT OUTER JOIN (SELECT press_runs.status AS status, count(*) AS loads
FROM press_run_loads JOIN press_runs ON press_runs.id = press_run_loads.press_run_id
WHERE press_run_loads.deleted_at IS NULL AND press_runs.deleted_at IS NULL GROUP BY press_runs.status) AS loads_by_status ON loads_by_status.status = run_totals.status ORDER BY run_totals.status
