"""What the runner logs: one INFO line per revision applied or undone, naming the
database without its password (the lock wait and retry lines are checked beside
the lock tests, in test_migration_safety.py)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.engine import make_url

from cidery.db.engine import make_engine
from cidery.migrations import runner, scripts

REVISIONS = [script.revision for script in scripts.revisions_in_order()]


def test_each_revision_applied_or_undone_is_one_line_without_the_password(
    empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = make_url(empty_url)
    # The embedded server trusts every connection, so a made-up password still connects.
    password = url.password or "never-in-a-log"
    engine = make_engine(url.set(password=password).render_as_string(hide_password=False))
    try:
        with caplog.at_level(logging.INFO, logger=runner.__name__):
            runner.upgrade(engine, "head")
            runner.downgrade(engine, "base")
    finally:
        engine.dispose()

    lines = [r.getMessage() for r in caplog.records if r.name == runner.__name__]
    # The last " on ": a revision title may say "on" too.
    steps = [line.rsplit(" on ", 1)[0] for line in lines]
    titles = {s.revision: s.doc for s in scripts.revisions_in_order()}
    assert steps == [
        *(f"applied revision {rev} ({titles[rev]})" for rev in REVISIONS),
        *(f"undid revision {rev} ({titles[rev]})" for rev in reversed(REVISIONS)),
    ]
    assert all(f"/{url.database}" in line for line in lines), lines
    # As the URL would carry it (CI's password is also its user name).
    assert f":{password}@" not in caplog.text
    assert ":***@" in caplog.text
