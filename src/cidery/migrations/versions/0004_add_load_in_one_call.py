"""add_load in one call: press_add_load(), and audit snapshots formatted in SQL

``press.add_load`` was seven statements and a savepoint, each a round trip
from the client; it is now one call of ``press_add_load(...)``, which does the
same work in the same order inside the server:

* locks the live run (``FOR UPDATE``) and checks that it is in progress and
  that its total stays within ``max_total`` (what numeric(10,3) holds);
* locks the live purchase line (``FOR UPDATE OF`` the line, as before: run
  first, then line, so it cannot deadlock with the other press calls) and
  checks its grower, that the grower is active, that the line was bought by
  weight and that it has the fruit;
* inserts the load with the next number of the run (each statement of a
  plpgsql function takes a fresh snapshot under READ COMMITTED, so the number
  is read after the run's lock is held, as it was from the client), adds it
  to the run's total, and writes the two audit rows.

The whole body is one block with an exception handler (a subtransaction
inside the server): a refusal (``run_not_found``, ``run_not_in_progress``,
``run_total_too_large``, ``line_not_found``, ``vendor_mismatch``,
``vendor_inactive``, ``bought_by_volume``, ``insufficient_fruit``) is raised
inside it and returned with the figure the caller's error reports; an error
raised by the database (a CHECK, a foreign key, a lock timeout, a
serialisation failure) is returned as ``database_error`` with its message
(``detail``), SQLSTATE and constraint (``error_state``, ``error_constraint``).
Either way the block's writes and locks are undone and the caller's
transaction goes on, as the savepoint the client used to send guaranteed. A
cancelled statement (``statement_timeout``, a cancel request) is not caught:
it ends the caller's transaction, as a cancel should.

The audit rows hold the rows as :func:`cidery.audit.to_json` writes them:
``audit_snapshot(table, to_jsonb(row))`` turns numeric values into their text
(``to_jsonb`` would store a JSON number) and timestamps into Python's
``isoformat()`` (``to_jsonb`` trims the microseconds' trailing zeros), by the
column's type in the catalog, so a column added later is formatted too;
``audit_diff(old, new)`` is the ``diff`` of :func:`cidery.audit.entry`.
Timestamps are written in the session's time zone, as the driver reads them.

The load comes back as columns of the result, one per column of
press_run_loads, declared in the function's signature rather than as the
table's row type: the row type would make the table depend on the function
(``DROP TABLE`` refused), and a column added to the loads must be added here
too, which the service's tests notice (the load it returns has one field per
column).

Reviewed by hand after autogenerate (which finds nothing: functions are not
models); the downgrade drops the three functions, and the client of 0003
sends the seven statements again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

from cidery.migrations.authoring import ops

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# datetime.isoformat(): microseconds only when there are some, the offset as +HH:MM.
AUDIT_ISOFORMAT = """\
CREATE FUNCTION audit_isoformat(value timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT to_char(value, 'YYYY-MM-DD"T"HH24:MI:SS')
    || CASE WHEN extract(microseconds FROM value) % 1000000 = 0 THEN ''
            ELSE to_char(value, '.US') END
    || to_char(value, 'TZH:TZM')
$$"""

# jsonb keeps a numeric's scale (100.000), so its text is what str(Decimal) gives.
AUDIT_SNAPSHOT = """\
CREATE FUNCTION audit_snapshot(source regclass, data jsonb) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT jsonb_object_agg(
    j.key,
    CASE
        WHEN jsonb_typeof(j.value) = 'null' THEN j.value
        WHEN a.atttypid = 'numeric'::regtype THEN to_jsonb(j.value #>> '{}')
        WHEN a.atttypid = 'timestamptz'::regtype
            THEN to_jsonb(audit_isoformat((j.value #>> '{}')::timestamptz))
        ELSE j.value
    END)
FROM jsonb_each(data) AS j
LEFT JOIN pg_attribute AS a ON a.attrelid = source AND a.attname = j.key
$$"""

# Every key whose value changed, as [old, new], updated_at aside; {} when none did.
AUDIT_DIFF = """\
CREATE FUNCTION audit_diff(old jsonb, new jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_array(coalesce(old -> n.key, 'null'), n.value)),
                '{}')
FROM jsonb_each(new) AS n
WHERE n.key <> 'updated_at' AND (old -> n.key) IS DISTINCT FROM n.value
$$"""

ADD_LOAD = """\
CREATE FUNCTION press_add_load(
    p_run_id uuid,
    p_item_id uuid,
    p_weight numeric,
    p_weight_unit unit,
    p_weight_kg numeric,
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
    updated_by uuid
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

        SELECT i.id, i.apple_variety_id, i.quantity_kg, i.pressed_kg, p.vendor_id,
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
        ELSIF p_weight_kg > line.quantity_kg - line.pressed_kg THEN
            refusal := 'insufficient_fruit';
            figure := line.quantity_kg - line.pressed_kg;
        END IF;
        IF refusal IS NOT NULL THEN
            RAISE SQLSTATE 'CDREF';
        END IF;

        INSERT INTO press_run_loads AS l (
            press_run_id, purchase_item_id, apple_variety_id, load_sequence, weight,
            weight_unit, weight_kg, juice_volume_l, brix, ph, notes, pressed_at,
            created_by, updated_by)
        VALUES (
            p_run_id, line.id, line.apple_variety_id,
            (SELECT coalesce(max(s.load_sequence), 0) + 1
             FROM press_run_loads s WHERE s.press_run_id = p_run_id),
            p_weight, p_weight_unit, p_weight_kg, p_juice_volume_l, p_brix, p_ph, p_notes,
            coalesce(p_pressed_at, now()), p_actor, p_actor)
        RETURNING l.* INTO added;

        UPDATE press_runs r
        SET total_apple_weight_kg = r.total_apple_weight_kg + p_weight_kg, updated_by = p_actor
        WHERE r.id = p_run_id
        RETURNING r.* INTO updated;

        old_run := audit_snapshot('press_runs', to_jsonb(run));
        new_run := audit_snapshot('press_runs', to_jsonb(updated));
        INSERT INTO audit_logs (table_name, record_id, operation, old_data, new_data, diff,
                                reason, changed_by)
        VALUES ('press_run_loads', (added).id, 'insert', NULL,
                audit_snapshot('press_run_loads', to_jsonb(added)), NULL, NULL, p_actor),
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
$$"""


def upgrade() -> None:
    ops.set_timeouts()
    op.execute(AUDIT_ISOFORMAT)
    op.execute(AUDIT_SNAPSHOT)
    op.execute(AUDIT_DIFF)
    op.execute(ADD_LOAD)


def downgrade() -> None:
    ops.set_timeouts()
    op.execute(
        "DROP FUNCTION press_add_load(uuid, uuid, numeric, unit, numeric, numeric, "
        "numeric, numeric, text, timestamptz, uuid, numeric)"
    )
    op.execute("DROP FUNCTION audit_diff(jsonb, jsonb)")
    op.execute("DROP FUNCTION audit_snapshot(regclass, jsonb)")
    op.execute("DROP FUNCTION audit_isoformat(timestamptz)")
