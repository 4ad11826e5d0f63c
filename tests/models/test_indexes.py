"""Every foreign key is backed by an index, so deleting a parent never scans the child."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from cidery.migrations.checks.catalog import unindexed_foreign_keys


def test_every_foreign_key_is_indexed(connection: Connection) -> None:
    missing = unindexed_foreign_keys(connection)
    assert missing == [], (
        "add an index whose leading columns are the key's columns (index=True on the "
        "column, or a composite Index starting with it): " + ", ".join(missing)
    )


@pytest.fixture
def parent(connection: Connection) -> str:
    """A scratch schema with a parent table, created inside the rolled-back transaction."""
    connection.execute(
        text(
            "CREATE SCHEMA scratch;"
            "CREATE TABLE scratch.parent (a int, b int, PRIMARY KEY (a, b), UNIQUE (a));"
        )
    )
    return "scratch"


def _child(connection: Connection, *ddl: str) -> list[str]:
    connection.execute(
        text(
            "CREATE TABLE scratch.child (id int PRIMARY KEY, a int, b int, note text,"
            " CONSTRAINT child_a_fkey FOREIGN KEY (a) REFERENCES scratch.parent (a));"
            + "".join(f"{statement};" for statement in ddl)
        )
    )
    return unindexed_foreign_keys(connection, "scratch")


def test_detects_an_unindexed_foreign_key(connection: Connection, parent: str) -> None:
    assert _child(connection) == ["child.child_a_fkey"]
    # The public schema is not affected by what happens in another one.
    assert unindexed_foreign_keys(connection) == []


def test_detects_one_in_public_too(connection: Connection) -> None:
    connection.execute(
        text("CREATE TABLE zz_notes (id int PRIMARY KEY, vendor_id uuid REFERENCES vendors (id))")
    )
    assert unindexed_foreign_keys(connection) == ["zz_notes.zz_notes_vendor_id_fkey"]
    connection.execute(text("CREATE INDEX ON zz_notes (vendor_id)"))
    assert unindexed_foreign_keys(connection) == []


@pytest.mark.parametrize(
    "index",
    [
        "CREATE INDEX ON scratch.child (a)",
        "CREATE INDEX ON scratch.child (a, note)",  # leading column
        "CREATE UNIQUE INDEX ON scratch.child (a) INCLUDE (note)",
        "CREATE INDEX ON scratch.child USING hash (a)",
    ],
)
def test_an_index_leading_with_the_key_serves_it(
    connection: Connection, parent: str, index: str
) -> None:
    assert _child(connection, index) == []


@pytest.mark.parametrize(
    "index",
    [
        "CREATE INDEX ON scratch.child (note, a)",  # the key is not the leading column
        "CREATE INDEX ON scratch.child (a) WHERE note IS NULL",  # partial
        "CREATE INDEX ON scratch.child ((a + 0))",  # an expression, not the column
        "CREATE INDEX ON scratch.child (note) INCLUDE (a)",  # INCLUDE columns are not searchable
    ],
)
def test_an_index_that_cannot_serve_the_key_does_not_count(
    connection: Connection, parent: str, index: str
) -> None:
    assert _child(connection, index) == ["child.child_a_fkey"]


def test_composite_key_needs_all_its_columns_leading(connection: Connection, parent: str) -> None:
    composite = (
        "ALTER TABLE scratch.child ADD CONSTRAINT child_a_b_fkey"
        " FOREIGN KEY (a, b) REFERENCES scratch.parent (a, b)"
    )
    assert _child(connection, composite, "CREATE INDEX ON scratch.child (a)") == [
        "child.child_a_b_fkey"
    ]
    # Any order of the key's columns will do for equality lookups.
    connection.execute(text("CREATE INDEX ON scratch.child (b, a)"))
    assert unindexed_foreign_keys(connection, "scratch") == []
