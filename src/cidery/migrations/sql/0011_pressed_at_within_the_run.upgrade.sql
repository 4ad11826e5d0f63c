BEGIN;

-- Running upgrade 0010 -> 0011

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

CREATE OR REPLACE FUNCTION press_add_load(
    p_run_id uuid,
    p_item_id uuid,
    p_weight numeric,
    p_weight_unit unit,
    p_weight_kg numeric,
    p_gross_weight numeric,
    p_tare_weight numeric,
    p_juice_volume_l numeric,
    p_brix numeric,
    p_ph numeric,
    p_notes text,
    p_pressed_at timestamptz,
    p_actor uuid,
    p_max_total numeric
) RETURNS TABLE (
    refusal text,
    detail text,
    figure numeric,
    error_state text,
    error_constraint text,
    id uuid,
    press_run_id uuid,
    purchase_item_id uuid,
    apple_variety_id uuid,
    load_sequence integer,
    weight numeric(10, 3),
    weight_unit unit,
    weight_kg numeric(10, 3),
    juice_volume_l numeric(10, 3),
    brix numeric(4, 2),
    ph numeric(3, 2),
    notes text,
    pressed_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    deleted_at timestamptz,
    created_by uuid,
    updated_by uuid,
    gross_weight numeric(10, 3),
    tare_weight numeric(10, 3)
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    added press_run_loads;
    run press_runs;
    updated press_runs;
    line record;
    old_run jsonb;
    new_run jsonb;
BEGIN
    -- One block, so that whatever it did (locks included) is undone on the way out of a
    -- refusal or an error, as the client's savepoint undid it.
    BEGIN
        SELECT * INTO run FROM press_runs r
        WHERE r.id = p_run_id AND r.deleted_at IS NULL FOR UPDATE;
        IF NOT FOUND THEN
            refusal := 'run_not_found';
        ELSIF run.status <> 'in_progress' THEN
            refusal := 'run_not_in_progress';
            detail := run.status::text;
        ELSIF run.total_apple_weight_kg + p_weight_kg > p_max_total THEN
            refusal := 'run_total_too_large';
            figure := run.total_apple_weight_kg + p_weight_kg;
        END IF;
        IF refusal IS NOT NULL THEN
            RAISE SQLSTATE 'CDREF';
        END IF;

        -- The load's time, from the device that entered it: not after the database's
        -- clock nor before the run's start, give or take ten minutes of clock drift.
        IF p_pressed_at > now() + interval '10 minutes' THEN
            RAISE EXCEPTION '% is later than now (%): check the clock of the device that '
                            'entered the load',
                to_char(p_pressed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
                to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
                USING ERRCODE = 'datetime_field_overflow';
        ELSIF p_pressed_at < run.start_time - interval '10 minutes' THEN
            RAISE EXCEPTION '% is before the run started (%): check the clock of the device '
                            'that entered the load',
                to_char(p_pressed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
                to_char(run.start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
                USING ERRCODE = 'datetime_field_overflow';
        END IF;

        -- What is left of the line: bought, less pressed, less written off as waste.
        SELECT i.id, i.apple_variety_id, i.quantity_kg,
               i.quantity_kg - i.pressed_kg - i.written_off_kg AS remaining_kg, p.vendor_id,
               v.name AS vendor_name, v.is_active AS vendor_active
        INTO line
        FROM purchase_items i
        JOIN purchases p ON p.id = i.purchase_id
        JOIN vendors v ON v.id = p.vendor_id
        WHERE i.id = p_item_id AND i.deleted_at IS NULL AND p.deleted_at IS NULL
        FOR UPDATE OF i;
        IF NOT FOUND THEN
            refusal := 'line_not_found';
        ELSIF line.vendor_id <> run.vendor_id THEN
            refusal := 'vendor_mismatch';
        ELSIF NOT line.vendor_active THEN
            refusal := 'vendor_inactive';
            detail := line.vendor_name;
        ELSIF line.quantity_kg IS NULL THEN
            refusal := 'bought_by_volume';
        ELSIF p_weight_kg > line.remaining_kg THEN
            refusal := 'insufficient_fruit';
            figure := line.remaining_kg;
        END IF;
        IF refusal IS NOT NULL THEN
            RAISE SQLSTATE 'CDREF';
        END IF;

        INSERT INTO press_run_loads AS l (
            press_run_id, purchase_item_id, apple_variety_id, load_sequence, weight,
            weight_unit, weight_kg, gross_weight, tare_weight, juice_volume_l, brix, ph,
            notes, pressed_at, created_by, updated_by)
        VALUES (
            p_run_id, line.id, line.apple_variety_id,
            (SELECT coalesce(max(s.load_sequence), 0) + 1
             FROM press_run_loads s WHERE s.press_run_id = p_run_id),
            p_weight, p_weight_unit, p_weight_kg, p_gross_weight, p_tare_weight,
            p_juice_volume_l, p_brix, p_ph, p_notes, coalesce(p_pressed_at, now()),
            p_actor, p_actor)
        RETURNING l.* INTO added;

        UPDATE press_runs r
        SET total_apple_weight_kg = r.total_apple_weight_kg + p_weight_kg, updated_by = p_actor
        WHERE r.id = p_run_id
        RETURNING r.* INTO updated;

        old_run := jsonb_build_object(
            'id', (run).id,
            'vendor_id', (run).vendor_id,
            'vessel_id', (run).vessel_id,
            'status', (run).status,
            'start_time', audit_isoformat((run).start_time),
            'end_time', audit_isoformat((run).end_time),
            'total_apple_weight_kg', ((run).total_apple_weight_kg)::text,
            'juice_volume', ((run).juice_volume)::text,
            'juice_volume_unit', (run).juice_volume_unit,
            'total_juice_volume_l', ((run).total_juice_volume_l)::text,
            'extraction_rate', ((run).extraction_rate)::text,
            'labor_hours', ((run).labor_hours)::text,
            'worker_count', (run).worker_count,
            'notes', (run).notes,
            'created_at', audit_isoformat((run).created_at),
            'updated_at', audit_isoformat((run).updated_at),
            'deleted_at', audit_isoformat((run).deleted_at),
            'created_by', (run).created_by,
            'updated_by', (run).updated_by,
            'pomace_kg', ((run).pomace_kg)::text,
            'labor_rate', ((run).labor_rate)::text);
        new_run := jsonb_build_object(
            'id', (updated).id,
            'vendor_id', (updated).vendor_id,
            'vessel_id', (updated).vessel_id,
            'status', (updated).status,
            'start_time', audit_isoformat((updated).start_time),
            'end_time', audit_isoformat((updated).end_time),
            'total_apple_weight_kg', ((updated).total_apple_weight_kg)::text,
            'juice_volume', ((updated).juice_volume)::text,
            'juice_volume_unit', (updated).juice_volume_unit,
            'total_juice_volume_l', ((updated).total_juice_volume_l)::text,
            'extraction_rate', ((updated).extraction_rate)::text,
            'labor_hours', ((updated).labor_hours)::text,
            'worker_count', (updated).worker_count,
            'notes', (updated).notes,
            'created_at', audit_isoformat((updated).created_at),
            'updated_at', audit_isoformat((updated).updated_at),
            'deleted_at', audit_isoformat((updated).deleted_at),
            'created_by', (updated).created_by,
            'updated_by', (updated).updated_by,
            'pomace_kg', ((updated).pomace_kg)::text,
            'labor_rate', ((updated).labor_rate)::text);
        INSERT INTO audit_logs (table_name, record_id, operation, old_data, new_data, diff,
                                reason, changed_by)
        VALUES ('press_run_loads', (added).id, 'insert', NULL,
                jsonb_build_object(
            'id', (added).id,
            'press_run_id', (added).press_run_id,
            'purchase_item_id', (added).purchase_item_id,
            'apple_variety_id', (added).apple_variety_id,
            'load_sequence', (added).load_sequence,
            'weight', ((added).weight)::text,
            'weight_unit', (added).weight_unit,
            'weight_kg', ((added).weight_kg)::text,
            'juice_volume_l', ((added).juice_volume_l)::text,
            'brix', ((added).brix)::text,
            'ph', ((added).ph)::text,
            'notes', (added).notes,
            'pressed_at', audit_isoformat((added).pressed_at),
            'created_at', audit_isoformat((added).created_at),
            'updated_at', audit_isoformat((added).updated_at),
            'deleted_at', audit_isoformat((added).deleted_at),
            'created_by', (added).created_by,
            'updated_by', (added).updated_by,
            'gross_weight', ((added).gross_weight)::text,
            'tare_weight', ((added).tare_weight)::text), NULL, NULL, p_actor),
               ('press_runs', p_run_id, 'update', old_run, new_run,
                audit_diff(old_run, new_run), NULL, p_actor);
    EXCEPTION
        WHEN SQLSTATE 'CDREF' THEN
            -- A refusal: refusal, detail and figure keep what was set before the RAISE.
            added := NULL;
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS error_state = RETURNED_SQLSTATE,
                                    error_constraint = CONSTRAINT_NAME,
                                    detail = MESSAGE_TEXT;
            refusal := 'database_error';
            figure := NULL;
            added := NULL;
    END;
    RETURN QUERY SELECT refusal, detail, figure, error_state, error_constraint, (added).*;
END
$$;

UPDATE alembic_version SET version_num='0011' WHERE alembic_version.version_num = '0010';

-- Record the checksum of revision 0011's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO alembic_version_checksums (revision, checksum) VALUES ('0011', '1f4d416649340b366497dd237341da700d3878e35a8ed578e5864f63962d8128') ON CONFLICT (revision) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now();

COMMIT;

