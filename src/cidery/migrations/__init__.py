"""Everything about changing the schema, shipped inside the package so an installed cidery
can migrate: the runner (:mod:`.runner`), the checksum table (:mod:`.bookkeeping`), the
checks behind ``cidery db check|lint|smoke`` (:mod:`.checks`), the helpers revisions use
(:mod:`.authoring`), Alembic's environment (``env.py``) and the revisions with their
reviewed SQL (``versions/``, ``sql/``).

Revisions 0001 and 0002 were written when the authoring helpers lived here as
``cidery.migrations.archive`` and ``cidery.migrations.ops``; a revision's file is
checksummed and never edited, so those names stay importable from this package.
"""

from cidery.migrations.authoring import archive, ops

__all__ = ["archive", "ops"]
