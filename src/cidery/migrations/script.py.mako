## The message goes through docstring_text: no quote, backslash or line break in it may
## end the docstring or add code to the revision.
<%! from cidery.migrations.scripts import docstring_text %>\
"""${docstring_text(message)}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
from cidery.migrations.authoring import ops

revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ops.set_timeouts()
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ops.set_timeouts()
    ${downgrades if downgrades else "pass"}
