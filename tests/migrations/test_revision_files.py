"""The revisions read from their files, without Alembic, are Alembic's revisions.

``cidery db status`` learns the order of the revisions, the head and the revision a
database is at without importing Alembic (:func:`scripts.revision_files`,
:func:`scripts.current_revision`); migrating, printing SQL and generating still run
through Alembic. These tests hold the two readings to one history, and show that a
history that is not one line is refused in one line.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from cidery.errors import RevisionError
from cidery.migrations import scripts


def test_the_files_name_the_revisions_alembic_loads_in_its_order() -> None:
    files = scripts.revision_files()
    walked = list(reversed(list(scripts.script_directory().walk_revisions("base", "heads"))))
    assert [f.revision for f in files] == [s.revision for s in walked]
    assert [f.down_revision for f in files] == [s.down_revision for s in walked]
    assert [f.path for f in files] == [Path(s.path) for s in walked]
    assert [s.revision for s in scripts.revisions_in_order()] == [f.revision for f in files]
    assert scripts.head() == files[-1].revision


def _copy(tmp_path: Path) -> Path:
    location = tmp_path / "migrations"
    shutil.copytree(scripts.MIGRATIONS_DIR, location, ignore=shutil.ignore_patterns("__pycache__"))
    return location


def _revision(location: Path, revision: str, parent: str | None, slug: str = "probe") -> None:
    body = f'"""{slug}"""\n\nrevision: str = {revision!r}\ndown_revision: str | None = {parent!r}\n'
    (location / "versions" / f"{revision}_{slug}.py").write_text(body)


def test_a_new_revision_file_is_the_head(tmp_path: Path) -> None:
    location = _copy(tmp_path)
    parent, revision = scripts.head(location), scripts.next_revision_id(location)
    _revision(location, revision, parent)
    assert scripts.head(location) == revision
    assert scripts.revision_files(location)[-1].down_revision == parent
    assert [s.revision for s in scripts.revisions_in_order(scripts.script_directory(location))][
        -1
    ] == revision


def _loop(location: Path) -> None:
    _revision(location, "9002", "9003", "one")
    _revision(location, "9003", "9002", "other")


def _no_id(location: Path) -> None:
    (location / "versions" / "9004_no_id.py").write_text("x = 1\n")


def _merge(location: Path) -> None:
    merged = "revision = '9005'\ndown_revision = ('9000', '0001')\n"
    (location / "versions" / "9005_merge.py").write_text(merged)


# Each on top of the shipped revisions and a revision 9000 after them.
BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "two heads": (
        lambda loc: _revision(loc, "9001", "0001"),
        "expected one head revision, found 2",
    ),
    "one id twice": (lambda loc: _revision(loc, "9000", None, "again"), "several files declare"),
    "an unknown parent": (lambda loc: _revision(loc, "9001", "8999"), "found 2"),
    "a loop": (_loop, "revision\\(s\\) 9002, 9003 do not descend from the first"),
    "no id": (_no_id, "9004_no_id.py declares no revision id"),
    "a merge": (_merge, "revision 9005 has several parents"),
}


@pytest.mark.parametrize(("make", "said"), BROKEN.values(), ids=BROKEN.keys())
def test_a_history_that_is_not_one_line_is_refused_in_one_line(
    tmp_path: Path, make: Callable[[Path], None], said: str
) -> None:
    location = _copy(tmp_path)
    _revision(location, "9000", scripts.head(location))
    make(location)
    with pytest.raises(RevisionError, match=said) as raised:
        scripts.revision_files(location)
    assert "\n" not in str(raised.value)


def test_current_revision_reads_alembics_version_table(connection: Connection) -> None:
    assert scripts.current_revision(connection) == scripts.head()
    assert scripts.pending(connection) == []
    connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert scripts.current_revision(connection) == "0001"
    assert scripts.pending(connection) == [f.revision for f in scripts.revision_files()][1:]
    connection.execute(text("INSERT INTO alembic_version VALUES ('0002')"))
    with pytest.raises(RevisionError, match="2 revisions applied side by side"):
        scripts.current_revision(connection)


def test_a_database_without_revisions_has_none(empty_url: str) -> None:
    from cidery.db.engine import make_engine

    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            assert scripts.current_revision(conn) is None
            assert scripts.pending(conn) == [f.revision for f in scripts.revision_files()]
            # Looking did not end the transaction: the connection still answers.
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
