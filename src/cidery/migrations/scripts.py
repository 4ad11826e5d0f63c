"""The revisions on disk: their order, their reviewed SQL, and Alembic's script directory.

Revision ids are four-digit sequence numbers (``0001``, ``0002`` …) and files
are named ``<rev>_<slug>.py``, so the history reads in order on disk. Beside
each revision lives its reviewed SQL (``sql/<rev>_<slug>.upgrade.sql`` and
``.downgrade.sql``), produced by Alembic's offline mode.

The order of the revisions, their head and the revision a database is at are read
without Alembic (:func:`revision_files`, :func:`current_revision`): ``cidery db status``
needs nothing more, and importing Alembic, which loads every revision module to learn
the same, took longer than the rest of the command. What needs Alembic — applying,
printing or generating revisions, their modules and docstrings — imports it inside the
function, and :func:`revisions_in_order` hands out Alembic's scripts in the order read
here, so there is one order of the revisions.

Nothing here takes the migration lock or changes a database: applying revisions
is :mod:`cidery.migrations.runner`'s job.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from cidery.config import DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT
from cidery.db.plain import on_sqlalchemy
from cidery.errors import RevisionError
from cidery.migrations import applied
from cidery.migrations.applied import VERSION_TABLE
from cidery.migrations.files import (
    MIGRATIONS_DIR,
    SQL_DIR,
    RevisionFile,
    head,
    location_of,
    revision_files,
    sql_file_paths,
)

# The names of cidery.migrations.files are handed out here too, with the rest.
__all__ = [
    "MAX_MESSAGE_LENGTH",
    "MIGRATIONS_DIR",
    "SQL_DIR",
    "VERSION_TABLE",
    "RevisionFile",
    "Timeouts",
    "alembic_errors",
    "current_revision",
    "docstring_text",
    "expected_sql",
    "generate",
    "head",
    "location_of",
    "make_config",
    "next_revision_id",
    "offline_sql",
    "one_line",
    "pending",
    "resolve",
    "revision_files",
    "revision_message",
    "revisions_in_order",
    "script_directory",
    "sql_file_paths",
    "write_sql_files",
]

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory

_REV_ID = re.compile(r"^\d{4}$")

# A revision's message is its title: the first line of its docstring, the slug of
# its file name, a row of `cidery db history`. Details belong in the docstring.
MAX_MESSAGE_LENGTH = 120


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None when it has none (no version table, or empty)."""
    return applied.current_revision(on_sqlalchemy(connection))


def pending(connection: Connection, script_location: Path = MIGRATIONS_DIR) -> list[str]:
    """Revisions the database has not applied yet, oldest first."""
    return applied.pending(current_revision(connection), script_location)


# --- Alembic --------------------------------------------------------------------------


def make_config(
    *,
    connection: Connection | None = None,
    url: str | None = None,
    timeouts: Timeouts | None = None,
    output: io.StringIO | None = None,
    script_location: Path = MIGRATIONS_DIR,
    allow_data_loss: bool = False,
    compare: bool = True,
) -> Config:
    """Alembic's configuration for one run.

    ``compare=False`` promises the run only applies or prints revisions (no
    autogenerate): ``env.py`` then leaves the models unloaded.
    """
    from alembic.config import Config

    cfg = Config(output_buffer=output)
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("truncate_slug_length", "40")
    timeouts = timeouts or Timeouts()
    cfg.attributes["lock_timeout"] = timeouts.lock_timeout
    cfg.attributes["statement_timeout"] = timeouts.statement_timeout
    # Read by cidery.migrations.authoring.archive: drop rows instead of archiving them.
    cfg.attributes["allow_data_loss"] = allow_data_loss
    cfg.attributes["compare"] = compare
    if connection is not None:
        cfg.attributes["connection"] = connection
    if url is not None:
        cfg.attributes["url"] = url
    return cfg


def script_directory(script_location: Path = MIGRATIONS_DIR) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(make_config(script_location=script_location))


def revisions_in_order(scripts: ScriptDirectory | None = None) -> list[Script]:
    """Alembic's script (module, docstring) of every revision, first to head, in the
    order :func:`revision_files` reads."""
    directory = scripts or script_directory()
    files = revision_files(Path(directory.dir))
    with alembic_errors():
        # Alembic runs every revision file: it must find the same revisions.
        loaded = {script.revision for script in directory.walk_revisions()}
        in_order = [directory.get_revision(f.revision) for f in files]
    if loaded != {f.revision for f in files}:
        raise RevisionError(
            f"the revision files declare {', '.join(sorted(f.revision for f in files))}, "
            f"but Alembic loads {', '.join(sorted(loaded))}"
        )
    return [script for script in in_order if script is not None]


def resolve(target: str, script_location: Path = MIGRATIONS_DIR) -> str:
    """Validate a revision argument (an id, ``head``, ``base`` or a relative ``-1``)."""
    if target in ("head", "heads", "base") or re.fullmatch(r"[+-]\d+", target):
        return target
    if target in {f.revision for f in revision_files(script_location)}:
        return target
    # Alembic also takes a unique prefix of an id.
    from alembic.util.exc import CommandError

    try:
        script = script_directory(script_location).get_revision(target)
    except CommandError as exc:
        raise RevisionError(f"unknown revision {target!r}") from exc
    if script is None:
        raise RevisionError(f"unknown revision {target!r}")
    return script.revision


@contextmanager
def alembic_errors() -> Iterator[None]:
    """Alembic's own complaints (a bad range, several heads) as one-line revision errors."""
    from alembic.util.exc import CommandError

    try:
        yield
    except CommandError as exc:
        raise RevisionError(str(exc).strip().splitlines()[0]) from exc


def offline_sql(
    range_: str, timeouts: Timeouts | None = None, *, script_location: Path = MIGRATIONS_DIR
) -> str:
    """The SQL for ``FROM:TO`` (either may be ``base`` or ``head``), as a DBA would apply it."""
    from alembic import command

    if ":" not in range_:
        raise RevisionError(f"expected FROM:TO, e.g. 0001:0002 or 0002:0001, got {range_!r}")
    start, end = (part.strip() or "base" for part in range_.split(":", 1))
    start, end = resolve(start, script_location), resolve(end, script_location)
    order = ["base", *(f.revision for f in revision_files(script_location))]
    position = {rev: i for i, rev in enumerate(order)}
    position["head"] = position["heads"] = len(order) - 1
    if start not in position or end not in position:
        raise RevisionError("relative revisions are not allowed in an SQL range")
    buffer = io.StringIO()
    cfg = make_config(
        output=buffer,
        timeouts=timeouts,
        url="postgresql+psycopg://",
        script_location=script_location,
        compare=False,
    )
    with alembic_errors():
        if position[end] > position[start]:
            command.upgrade(cfg, f"{start}:{end}" if start != "base" else end, sql=True)
        elif position[end] < position[start]:
            command.downgrade(cfg, f"{start}:{end}", sql=True)
        else:
            raise RevisionError(f"{range_!r} is an empty range")
    return buffer.getvalue()


def expected_sql(script: Script) -> tuple[str, str]:
    """The committed SQL a revision should have, generated with the default timeouts."""
    parent = script.down_revision
    if isinstance(parent, tuple):
        raise RevisionError(f"revision {script.revision} has several parents")
    start = parent or "base"
    location = location_of(script)
    return (
        offline_sql(f"{start}:{script.revision}", script_location=location),
        offline_sql(f"{script.revision}:{start}", script_location=location),
    )


def write_sql_files(script: Script) -> tuple[Path, Path]:
    up_path, down_path = sql_file_paths(script)
    up, down = expected_sql(script)
    up_path.parent.mkdir(exist_ok=True)
    up_path.write_text(up)
    down_path.write_text(down)
    return up_path, down_path


def next_revision_id(script_location: Path = MIGRATIONS_DIR) -> str:
    ids = [int(f.revision) for f in revision_files(script_location) if _REV_ID.match(f.revision)]
    return f"{max(ids, default=0) + 1:04d}"


def one_line(message: str) -> str:
    """``message`` as a revision title: one line, printable characters, single spaces.

    Line breaks, tabs and other control or invisible characters become spaces,
    and runs of spaces one.
    """
    printable = "".join(ch if ch.isprintable() else " " for ch in message)
    return " ".join(printable.split())


def docstring_text(message: str) -> str:
    """:func:`one_line` of ``message``, escaped to sit inside a triple-quoted docstring.

    ``script.py.mako`` renders the message through this: with every backslash
    and double quote escaped, no message can end the docstring early, start an
    escape sequence Python rejects, or add a line of code to the revision.
    Python reads the escapes back, so the revision's ``__doc__`` (and Alembic's
    ``Script.doc``) is exactly the one-line message.
    """
    return one_line(message).replace("\\", "\\\\").replace('"', '\\"')


def revision_message(message: str) -> str:
    """The title a new revision gets for ``message``, or a one-line error."""
    title = one_line(message)
    if not any(ch.isalnum() for ch in title):
        raise RevisionError("a revision needs a message, e.g. -m 'add press runs'")
    if len(title) > MAX_MESSAGE_LENGTH:
        raise RevisionError(
            f"a revision message is one line of at most {MAX_MESSAGE_LENGTH} characters "
            f"(this one has {len(title)}): put the details in the revision's docstring"
        )
    return title


def generate(engine: Engine, message: str, *, script_location: Path = MIGRATIONS_DIR) -> Script:
    """Autogenerate the next revision from the models and write its SQL files."""
    from alembic import command
    from alembic.script import Script

    title = revision_message(message)
    with engine.connect() as conn:
        behind = pending(conn, script_location)
        if behind:
            raise RevisionError(
                f"the database is not at head ({len(behind)} pending); run `cidery db migrate`"
            )
        cfg = make_config(connection=conn, script_location=script_location)
        with alembic_errors():
            result = command.revision(
                cfg, message=title, autogenerate=True, rev_id=next_revision_id(script_location)
            )
    if not isinstance(result, Script):
        raise RevisionError("autogenerate produced no single revision")
    write_sql_files(result)
    return result
