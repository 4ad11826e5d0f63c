"""a load's time within its run and the database's clock

A load's ``pressed_at`` comes from the device that entered it: the pressing page
sends the phone's clock, so that a load saved offline keeps the time it was
weighed. ``press_add_load()`` took any time, so a tablet whose clock was reset
(a flat battery: the year 2000) or set a day wrong dated the load there, in the
run's records and the season's. The function now refuses a time more than ten
minutes after the database's clock, or more than ten minutes before the run's
start; the ten minutes are for clocks that drift. The check costs no round
trip: the function holds the run's row already.

The refusal is raised as PostgreSQL's ``datetime_field_overflow`` (22008) with
the bound in its message, and comes back through the function's existing
``database_error`` result, which an app of the previous revision still running
during the roll-out turns into a typed "invalid input" too; this revision's app
names the field (``pressed_at``).

Everything else is revision 0009's function, read from that revision; ``CREATE
OR REPLACE`` keeps the signature, the result and the 12-argument wrapper of
0007, and a call running meanwhile finishes with the definition it started with.

Reviewed by hand (autogenerate does not compare functions); the downgrade puts
0009's function back as that revision wrote it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

from alembic import op

from cidery.migrations.authoring import ops

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADD_LOAD_0009 = ops.earlier_text("0009", "ADD_LOAD")

# After the run's own checks, which read its row (and its start).
_AFTER_THE_RUN = """\
            figure := run.total_apple_weight_kg + p_weight_kg;
        END IF;
        IF refusal IS NOT NULL THEN
            RAISE SQLSTATE 'CDREF';
        END IF;
"""

_WITHIN_THE_RUN = """
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
"""

if ADD_LOAD_0009.count(_AFTER_THE_RUN) != 1:
    raise ValueError("expected the run's checks once in revision 0009's press_add_load")
ADD_LOAD = ADD_LOAD_0009.replace(_AFTER_THE_RUN, _AFTER_THE_RUN + _WITHIN_THE_RUN)


def upgrade() -> None:
    ops.set_timeouts()
    op.execute(ADD_LOAD)


def downgrade() -> None:
    ops.set_timeouts()
    op.execute(ADD_LOAD_0009)
