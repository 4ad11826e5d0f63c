"""The revisions on disk: Alembic's script directory, their order, their reviewed SQL.

Revision ids are four-digit sequence numbers (``0001``, ``0002`` …) and files
are named ``<rev>_<slug>.py``, so the history reads in order on disk. Beside
each revision lives its reviewed SQL (``sql/<rev>_<slug>.upgrade.sql`` and
``.downgrade.sql``), produced by Alembic's offline mode.

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

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine

from cidery.config import DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT
from cidery.errors import RevisionError

MIGRATIONS_DIR = Path(__file__).parent
SQL_DIR = MIGRATIONS_DIR / "sql"
_REV_ID = re.compile(r"^\d{4}$")

# A revision's message is its title: the first line of its docstring, the slug of
# its file name, a row of `cidery db history`. Details belong in the docstring.
MAX_MESSAGE_LENGTH = 120


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT


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
    return ScriptDirectory.from_config(make_config(script_location=script_location))


def revisions_in_order(scripts: ScriptDirectory | None = None) -> list[Script]:
    """Every revision from the first to the head."""
    scripts = scripts or script_directory()
    return list(reversed(list(scripts.walk_revisions("base", "heads"))))


def head(scripts: ScriptDirectory | None = None) -> str:
    heads = (scripts or script_directory()).get_heads()
    if len(heads) != 1:
        raise RevisionError(f"expected one head revision, found {len(heads)}: {', '.join(heads)}")
    return heads[0]


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def pending(connection: Connection, scripts: ScriptDirectory | None = None) -> list[Script]:
    """Revisions the database has not applied yet, oldest first."""
    current = current_revision(connection)
    in_order = revisions_in_order(scripts)
    if current is None:
        return in_order
    ids = [s.revision for s in in_order]
    if current not in ids:
        raise RevisionError(f"the database is at revision {current!r}, which this code lacks")
    return in_order[ids.index(current) + 1 :]


def resolve(target: str, script_location: Path = MIGRATIONS_DIR) -> str:
    """Validate a revision argument (an id, ``head``, ``base`` or a relative ``-1``)."""
    if target in ("head", "heads", "base") or re.fullmatch(r"[+-]\d+", target):
        return target
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
    try:
        yield
    except CommandError as exc:
        raise RevisionError(str(exc).strip().splitlines()[0]) from exc


def offline_sql(
    range_: str, timeouts: Timeouts | None = None, *, script_location: Path = MIGRATIONS_DIR
) -> str:
    """The SQL for ``FROM:TO`` (either may be ``base`` or ``head``), as a DBA would apply it."""
    if ":" not in range_:
        raise RevisionError(f"expected FROM:TO, e.g. 0001:0002 or 0002:0001, got {range_!r}")
    start, end = (part.strip() or "base" for part in range_.split(":", 1))
    start, end = resolve(start, script_location), resolve(end, script_location)
    order = ["base", *(s.revision for s in revisions_in_order(script_directory(script_location)))]
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


def _location(script: Script) -> Path:
    """The migrations directory a revision belongs to (its file is in ``versions/``)."""
    return Path(script.path).parent.parent


def sql_file_paths(script: Script) -> tuple[Path, Path]:
    stem = Path(script.path).stem
    sql_dir = _location(script) / "sql"
    return sql_dir / f"{stem}.upgrade.sql", sql_dir / f"{stem}.downgrade.sql"


def expected_sql(script: Script) -> tuple[str, str]:
    """The committed SQL a revision should have, generated with the default timeouts."""
    parent = script.down_revision
    if isinstance(parent, tuple):
        raise RevisionError(f"revision {script.revision} has several parents")
    start = parent or "base"
    location = _location(script)
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


def next_revision_id(scripts: ScriptDirectory | None = None) -> str:
    ids = [int(s.revision) for s in revisions_in_order(scripts) if _REV_ID.match(s.revision)]
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
    title = revision_message(message)
    scripts = script_directory(script_location)
    with engine.connect() as conn:
        behind = pending(conn, scripts)
        if behind:
            raise RevisionError(
                f"the database is not at head ({len(behind)} pending); run `cidery db migrate`"
            )
        cfg = make_config(connection=conn, script_location=script_location)
        with alembic_errors():
            result = command.revision(
                cfg, message=title, autogenerate=True, rev_id=next_revision_id(scripts)
            )
    if not isinstance(result, Script):
        raise RevisionError("autogenerate produced no single revision")
    write_sql_files(result)
    return result
