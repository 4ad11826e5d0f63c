"""Every revision held to the same rules, with no test code of its own.

The tests are parametrized over :func:`cidery.migrations.scripts.revisions_in_order`, so
a new revision is covered the moment it exists. For each revision ``r`` with
parent ``p`` (``base`` for the first), on a database of the test's own:

(a) migrated to ``p`` and seeded with the sample cidery (:func:`cidery.sample.seed.seed`
    skips the steps whose tables ``p`` does not have), upgrading to ``r`` succeeds;
(b) at ``r``, with seed data, the row count and content hash of every table
    survive ``r`` → ``p`` → ``r``, and no ``cidery_archive_%`` schema is left:
    whatever the downgrade drops it archives, and the upgrade restores;
(c) the schema after ``r`` → ``p`` is exactly the parent's — that one lives in
    tests/test_migrations.py (``test_each_revision_downgrades_to_its_parent``,
    and ``test_upgrade_downgrade_upgrade_round_trip`` for the whole history),
    as does ``test_exactly_one_head``; they are not repeated here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.script import Script
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from cidery.db.engine import make_engine
from cidery.migrations import runner, scripts
from cidery.migrations.applied import IGNORED_TABLES
from cidery.sample.seed import SeedReport, seed

SCRIPTS = scripts.revisions_in_order()
IDS = [script.revision for script in SCRIPTS]

# A table's row count and an md5 of every row as text (every column, as PostgreSQL
# prints it), in an order that does not depend on the physical order of the rows.
FINGERPRINT = "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {} t"

Fingerprints = dict[str, tuple[int, str | None]]


def _parent(script: Script) -> str | None:
    parent = script.down_revision
    assert parent is None or isinstance(parent, str), f"{script.revision} is a merge revision"
    return parent


@pytest.fixture
def engine_of_its_own(empty_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_url)
    yield engine
    engine.dispose()


def _tables(conn: Connection) -> list[str]:
    """The cidery tables: those of ``public`` but the migrations' bookkeeping."""
    return list(
        conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND NOT (tablename = ANY(:ignored)) ORDER BY tablename"
            ),
            {"ignored": list(IGNORED_TABLES)},
        ).scalars()
    )


def _fingerprints(engine: Engine) -> Fingerprints:
    with engine.connect() as conn:
        quote = conn.dialect.identifier_preparer.quote_identifier
        return {
            table: (count, digest)
            for table in _tables(conn)
            for count, digest in [conn.execute(text(FINGERPRINT.format(quote(table)))).one()]
        }


def _archive_schemas(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'cidery\\_archive\\_%'")
            ).scalars()
        )


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return scripts.current_revision(conn)


def _seed(engine: Engine) -> SeedReport:
    with Session(engine) as session:
        report = seed(session)
        session.commit()
    return report


def _migrate_to_parent_and_seed(engine: Engine, parent: str | None) -> SeedReport:
    if parent is not None:
        runner.upgrade(engine, parent)
    assert _revision(engine) == parent
    return _seed(engine)


@pytest.mark.parametrize("script", SCRIPTS, ids=IDS)
def test_upgrade_applies_over_the_seeded_parent(script: Script, engine_of_its_own: Engine) -> None:
    parent = _parent(script)
    report = _migrate_to_parent_and_seed(engine_of_its_own, parent)
    if parent is not None:
        # The revision meets a database holding rows, as in production.
        assert sum(report.inserted.values()) > 0, report

    runner.upgrade(engine_of_its_own, script.revision)

    assert _revision(engine_of_its_own) == script.revision


@pytest.mark.parametrize("script", SCRIPTS, ids=IDS)
def test_rolling_back_and_upgrading_again_keeps_every_row(
    script: Script, engine_of_its_own: Engine
) -> None:
    parent = _parent(script)
    engine = engine_of_its_own
    _migrate_to_parent_and_seed(engine, parent)
    with engine.connect() as conn:
        parent_tables = set(_tables(conn))
    runner.upgrade(engine, script.revision)
    _seed(engine)  # the steps the parent lacked the tables for
    before = _fingerprints(engine)
    new_tables = set(before) - parent_tables
    if new_tables:
        # Otherwise the round trip of the revision's own tables would prove nothing.
        assert any(before[table][0] > 0 for table in new_tables), (
            f"the seed leaves every table {script.revision} adds empty ({sorted(new_tables)}): "
            "add a step to cidery.sample.seed for them"
        )

    runner.downgrade(engine, parent or "base")
    assert _revision(engine) == parent
    runner.upgrade(engine, script.revision)

    assert _revision(engine) == script.revision
    after = _fingerprints(engine)
    lost = {
        table: {"before": before.get(table), "after": after.get(table)}
        for table in before.keys() | after.keys()
        if before.get(table) != after.get(table)
    }
    assert not lost, f"rows changed by {script.revision} -> {parent or 'base'} -> back: {lost}"
    assert _archive_schemas(engine) == [], "the upgrade restores and drops every archive"
