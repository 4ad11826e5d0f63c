"""The revisions as files: their order and their committed SQL, read without Alembic.

What needs no database and no Alembic lives here, for the commands that must start
fast (``cidery db status``, and ``cidery db migrate`` of an empty database,
:mod:`cidery.migrations.fresh`): nothing here imports SQLAlchemy.
:mod:`cidery.migrations.scripts` hands the same names out with the rest.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cidery.errors import RevisionError

MIGRATIONS_DIR = Path(__file__).parent
SQL_DIR = MIGRATIONS_DIR / "sql"

# One runner at a time: every migrate and rollback holds this session-level advisory
# lock from before it reads the current revision until it is done.
MIGRATION_LOCK_KEY = 0x63696465  # "cide"


class Revision(Protocol):
    """A revision's file: an Alembic ``Script`` or a :class:`RevisionFile`."""

    @property
    def path(self) -> str | Path: ...


# --- the revisions, read from their files ----------------------------------------------

# The files Alembic takes for revisions: every ``*.py`` of ``versions/`` but
# ``__init__.py`` and editors' lock files (``.#…``).
_REVISION_FILE = re.compile(r"(?!\.#|__init__).*\.py")
# A revision's identity, on lines of their own as script.py.mako writes them:
# ``revision: str = "0002"`` and ``down_revision: str | None = "0001"``.
_DECLARATION = re.compile(r"^(revision|down_revision)\b[^=\n]*=([^\n]*)$", re.MULTILINE)


@dataclass(frozen=True)
class RevisionFile:
    """A revision as its file declares it, read without running the file."""

    revision: str
    down_revision: str | None
    path: Path


def _read_revision(path: Path) -> RevisionFile:
    declared: dict[str, object] = {}
    for name, value in _DECLARATION.findall(path.read_text(encoding="utf-8")):
        if name in declared:
            continue
        try:
            declared[name] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            raise RevisionError(f"{path.name}: {name} is not a literal revision id") from None
    revision = declared.get("revision")
    if not isinstance(revision, str):
        raise RevisionError(f'{path.name} declares no revision id (revision: str = "…")')
    if "down_revision" not in declared:
        raise RevisionError(f"{path.name} declares no down_revision")
    parent = declared["down_revision"]
    if parent is not None and not isinstance(parent, str):
        raise RevisionError(f"revision {revision} has several parents")
    return RevisionFile(revision, parent, path)


def revision_files(script_location: Path = MIGRATIONS_DIR) -> list[RevisionFile]:
    """Every revision from the first to the head, read from the files without running them.

    The history is one line: two heads, two files with one id, or a revision that does
    not descend from the first is a :class:`~cidery.errors.RevisionError`.
    """
    found = [
        _read_revision(path)
        for path in sorted((script_location / "versions").iterdir())
        if _REVISION_FILE.fullmatch(path.name) and path.is_file()
    ]
    ids = [f.revision for f in found]
    repeated = sorted({rev for rev in ids if ids.count(rev) > 1})
    if repeated:
        raise RevisionError(f"several files declare revision {', '.join(repeated)}")
    children: dict[str | None, list[RevisionFile]] = {}
    for f in found:
        children.setdefault(f.down_revision, []).append(f)
    heads = [rev for rev in ids if rev not in children]
    if len(heads) != 1:
        raise RevisionError(
            f"expected one head revision, found {len(heads)}"
            + (f": {', '.join(heads)}" if heads else "")
        )
    in_order: list[RevisionFile] = []
    parent: str | None = None
    while parent in children:
        following = children[parent]
        if len(following) > 1:
            names = ", ".join(f.revision for f in following)
            raise RevisionError(f"revisions {names} all follow {parent or 'base'}")
        in_order.append(following[0])
        parent = following[0].revision
    if len(in_order) != len(found):
        stray = sorted(set(ids) - {f.revision for f in in_order})
        raise RevisionError(f"revision(s) {', '.join(stray)} do not descend from the first")
    return in_order


def head(script_location: Path = MIGRATIONS_DIR) -> str:
    return revision_files(script_location)[-1].revision


def location_of(script: Revision) -> Path:
    """The migrations directory a revision belongs to (its file is in ``versions/``)."""
    return Path(script.path).parent.parent


def sql_file_paths(script: Revision) -> tuple[Path, Path]:
    stem = Path(script.path).stem
    sql_dir = location_of(script) / "sql"
    return sql_dir / f"{stem}.upgrade.sql", sql_dir / f"{stem}.downgrade.sql"
