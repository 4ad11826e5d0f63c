"""The migration linters: squawk on the committed SQL, and the project's own rules.

No database: squawk and :mod:`cidery.migrations.checks.lint` read SQL text, and the offline
Alembic context used for ``ops.lint_exception`` only writes it.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import op
from alembic.migration import MigrationContext
from alembic.operations import Operations

from cidery.migrations import scripts
from cidery.migrations.authoring import ops
from cidery.migrations.checks import lint
from cidery.migrations.checks.lint import (
    CONCURRENT_INDEX,
    EXCEPTION_REASON,
    FOREIGN_KEY_INDEX,
    NOT_NULL_BACKFILL,
    UNKNOWN_RULE,
    UNUSED_EXCEPTION,
    Finding,
    RevisionSql,
    lint_history,
    lint_sql,
)

ROOT = Path(__file__).resolve().parents[2]
SQUAWK = Path(sys.executable).parent / "squawk"
SQUAWK_CONFIG = ROOT / ".squawk.toml"
SCRIPTS = scripts.revisions_in_order()

# Dropping is what a downgrade is for (the archive keeps the rows): these rules
# are left out for downgrade files, every other rule holds them too.
DOWNGRADE_ALLOWS = (
    "ban-drop-table",
    "ban-drop-type",
    "ban-drop-function",
    "ban-drop-constraint",
    "ban-drop-column",
)


def squawk(paths: Sequence[Path], *extra: str) -> subprocess.CompletedProcess[str]:
    assert SQUAWK.exists(), (
        f"squawk is not installed next to {sys.executable}: pip install -e .[dev]"
    )
    return subprocess.run(
        [str(SQUAWK), "--config", str(SQUAWK_CONFIG), "--reporter", "gcc", *extra]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def rules_of(findings: Sequence[Finding]) -> list[str]:
    return [f.rule for f in findings]


# --- squawk -----------------------------------------------------------------------------


def test_squawk_passes_every_committed_upgrade() -> None:
    files = [scripts.sql_file_paths(s)[0] for s in SCRIPTS]
    result = squawk(files)
    assert result.returncode == 0, (
        "squawk finds problems in the committed upgrade SQL; fix the revision or write the "
        "exception beside the statement with ops.lint_exception(rule, reason):\n"
        + result.stdout
        + result.stderr
    )


def test_squawk_passes_every_committed_downgrade_but_for_its_drops() -> None:
    config = tomllib.loads(SQUAWK_CONFIG.read_text())
    # --exclude replaces the config file's list, so both are given.
    excluded = [*config.get("excluded_rules", []), *DOWNGRADE_ALLOWS]
    files = [scripts.sql_file_paths(s)[1] for s in SCRIPTS]
    result = squawk(files, f"--exclude={','.join(excluded)}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_squawk_runs_with_the_project_config(tmp_path: Path) -> None:
    """A blocking index on an existing table fails; what the config allows passes."""
    snippet = tmp_path / "snippet.sql"
    snippet.write_text(
        "BEGIN;\n"
        "SET LOCAL lock_timeout = '5s';\n"
        "SET LOCAL statement_timeout = '5min';\n"
        # excluded_rules: prefer-text-field
        "ALTER TABLE vendors ADD COLUMN code varchar(20);\n"
        # pg_version = 14: a constant DEFAULT needs no rewrite (it would before 11)
        "ALTER TABLE vendors ADD COLUMN audited boolean DEFAULT false;\n"
        "CREATE INDEX vendors_code_idx ON vendors (code);\n"
        "COMMIT;\n"
    )
    result = squawk([snippet])
    assert result.returncode != 0
    assert "require-concurrent-index-creation" in result.stdout, result.stdout + result.stderr
    assert "prefer-text-field" not in result.stdout
    assert "adding-field-with-default" not in result.stdout
    # The same file with the version squawk would otherwise assume for old servers:
    older = squawk([snippet], "--pg-version=10")
    assert "adding-field-with-default" in older.stdout, older.stdout + older.stderr


def test_squawk_config_sets_the_oldest_supported_postgresql() -> None:
    config = tomllib.loads(SQUAWK_CONFIG.read_text())
    assert config["pg_version"] == "14"


# --- ops.lint_exception -----------------------------------------------------------------


def offline(run: Callable[[], None]) -> str:
    """What the operations in ``run`` write as offline SQL."""
    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True},
    )
    with Operations.context(context):
        run()
    return buffer.getvalue()


def test_exception_comment_sits_above_its_column() -> None:
    def run() -> None:
        ops.lint_exception("prefer-bigint-over-int", "a handful", column="n")
        op.create_table(
            "t", sa.Column("id", sa.Uuid(), primary_key=True), sa.Column("n", sa.Integer)
        )
        op.create_table("u", sa.Column("m", sa.Integer))

    sql = offline(run)
    lines = sql.splitlines()
    n = next(i for i, line in enumerate(lines) if line.strip().startswith("n INTEGER"))
    assert lines[n - 1] == "    -- squawk-ignore prefer-bigint-over-int -- a handful"
    assert sql.count("squawk-ignore") == 1  # only the next statement carries it
    assert "\n\nCREATE TABLE u" in sql


def test_exception_comment_sits_right_above_its_statement(tmp_path: Path) -> None:
    """squawk honours what lint_exception writes, and only for the statement after it."""

    def run() -> None:
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.execute("SET LOCAL statement_timeout = '5min'")
        ops.lint_exception("require-concurrent-index-creation", "vendors is empty at this point")
        op.create_index("vendors_a_idx", "vendors", ["a"])
        op.create_index("vendors_b_idx", "vendors", ["b"])

    sql = offline(run)
    assert (
        "-- squawk-ignore require-concurrent-index-creation -- vendors is empty at this point\n"
        "CREATE INDEX vendors_a_idx ON vendors (a);"
    ) in sql
    excused, plain = tmp_path / "excused.sql", tmp_path / "plain.sql"
    excused.write_text(f"BEGIN;\n{sql}COMMIT;\n")
    plain.write_text(f"BEGIN;\n{sql.replace('-- squawk-ignore', '-- not')}COMMIT;\n")
    # Only the second index, the one without an exception, is reported.
    result = squawk([excused])
    assert result.stdout.count("require-concurrent-index-creation") == 1, result.stdout
    assert squawk([plain]).stdout.count("require-concurrent-index-creation") == 2


def test_exception_to_a_project_rule_is_a_cidery_ignore_comment() -> None:
    def run() -> None:
        ops.lint_exception(CONCURRENT_INDEX, "vendors: a few hundred rows, built in milliseconds")
        op.create_index("vendors_a_idx", "vendors", ["a"])

    sql = offline(run)
    assert f"-- cidery-ignore {CONCURRENT_INDEX} -- vendors: a few hundred rows" in sql
    assert lint_sql(sql) == []
    assert rules_of(lint_sql(sql.replace("cidery-ignore", "plain comment"))) == [CONCURRENT_INDEX]


def test_several_squawk_exceptions_on_one_line_are_merged() -> None:
    def run() -> None:
        ops.lint_exception("prefer-bigint-over-int", "small", column="n")
        ops.lint_exception("prefer-robust-stmts", "run once", column="n")
        op.create_table("t", sa.Column("n", sa.Integer))

    sql = offline(run)
    assert (
        "-- squawk-ignore prefer-bigint-over-int, prefer-robust-stmts -- "
        "prefer-bigint-over-int: small; prefer-robust-stmts: run once"
    ) in sql


def test_exception_online_writes_nothing() -> None:
    context = MigrationContext.configure(dialect_name="postgresql", opts={"as_sql": False})
    with Operations.context(context):
        ops.lint_exception("prefer-bigint-over-int", "a handful", column="n")
    assert "static_output" not in vars(context.impl)


@pytest.mark.parametrize(
    ("rule", "reason", "message"),
    [
        ("prefer-bigint-over-int", "  ", "needs its reason"),
        ("Prefer Bigint", "why", "lowercase words"),
    ],
)
def test_exception_needs_a_rule_and_a_reason(rule: str, reason: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        offline(lambda: ops.lint_exception(rule, reason))


def test_exception_for_a_column_the_statement_lacks_fails() -> None:
    def run() -> None:
        ops.lint_exception("prefer-bigint-over-int", "small", column="missing")
        op.create_table("t", sa.Column("n", sa.Integer))

    with pytest.raises(ValueError, match="no line defines column 'missing'"):
        offline(run)


# --- statement splitting ----------------------------------------------------------------


def test_split_keeps_semicolons_inside_quotes_bodies_and_comments() -> None:
    sql = (
        "SELECT 'a;b', E'it\\'s;', \"we;ird\" FROM t; -- after; the first\n"
        "/* a /* nested; */ comment */\n"
        "DO $body$ BEGIN PERFORM 1; END $body$;\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n"
        "SELECT $1::int\n"
        "  ;\n"
    )
    statements = lint.split_statements(sql)
    assert [s.tokens[0].value for s in statements] == ["select", "do", "create", "select"]
    assert [s.line for s in statements] == [1, 3, 4, 5]
    # The comment on the first statement's line is its own; the block comment is the next one's.
    assert [c.text for c in statements[0].comments] == ["-- after; the first"]
    assert statements[1].comments[0].text.startswith("/* a /* nested")


@pytest.mark.parametrize("sql", ["SELECT 'open", "SELECT 1 /* open", 'SELECT "open', "DO $$ x"])
def test_split_reports_an_unterminated_token(sql: str) -> None:
    with pytest.raises(lint.SqlSyntaxError, match="line 1: unterminated"):
        lint.split_statements(sql)


# --- require-foreign-key-index ----------------------------------------------------------

CHILD = "CREATE TABLE child (id uuid PRIMARY KEY, parent_id uuid NOT NULL, note text{});\n"


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE child (id uuid PRIMARY KEY, parent_id uuid REFERENCES parent (id));",
        CHILD.format(", CONSTRAINT child_parent_id_fkey FOREIGN KEY(parent_id) REFERENCES parent"),
        CHILD.format("") + "ALTER TABLE child ADD CONSTRAINT c FOREIGN KEY (parent_id) "
        "REFERENCES parent (id) NOT VALID;",
        CHILD.format("") + "ALTER TABLE child ADD COLUMN other_id uuid REFERENCES other (id);\n"
        "CREATE INDEX ON child (parent_id);",
        # indexes that do not serve the key
        CHILD.format(", FOREIGN KEY (parent_id) REFERENCES parent")
        + "CREATE INDEX ON child (note, parent_id);",
        CHILD.format(", FOREIGN KEY (parent_id) REFERENCES parent")
        + "CREATE INDEX ON child (parent_id) WHERE note IS NULL;",
        CHILD.format(", FOREIGN KEY (parent_id) REFERENCES parent")
        + "CREATE INDEX ON child ((parent_id::text));",
        CHILD.format(", FOREIGN KEY (parent_id) REFERENCES parent")
        + "CREATE INDEX ON child (note) INCLUDE (parent_id);",
        CHILD.format(", FOREIGN KEY (parent_id) REFERENCES parent")
        + "CREATE INDEX child_parent_id_idx ON child (parent_id);\n"
        "DROP INDEX child_parent_id_idx;",
    ],
)
def test_foreign_key_without_index_is_reported(sql: str) -> None:
    findings = lint_sql(sql)
    assert rules_of(findings) == [FOREIGN_KEY_INDEX], findings
    assert "has no index leading with its columns" in findings[0].message


@pytest.mark.parametrize(
    "sql",
    [
        CHILD.format(", FOREIGN KEY (parent_id) REFERENCES parent")
        + "CREATE INDEX child_parent_id_idx ON child (parent_id);",
        CHILD.format(", FOREIGN KEY (parent_id) REFERENCES parent")
        + "CREATE UNIQUE INDEX ON child USING btree (parent_id DESC, note) INCLUDE (id);",
        # the key is the primary key, or unique
        "CREATE TABLE detail (parent_id uuid PRIMARY KEY REFERENCES parent (id));",
        CHILD.format(", UNIQUE (parent_id), FOREIGN KEY (parent_id) REFERENCES parent"),
        # a composite key: its columns lead the index, in any order
        "CREATE TABLE pair (a uuid, b uuid, c uuid,"
        " CONSTRAINT pair_a_b_fkey FOREIGN KEY (a, b) REFERENCES other (x, y));\n"
        "CREATE INDEX pair_b_a_idx ON pair (b, a, c);",
        # a table the same revision drops again
        CHILD.format(", FOREIGN KEY (parent_id) REFERENCES parent") + "DROP TABLE child;",
    ],
)
def test_foreign_key_with_index_passes(sql: str) -> None:
    assert lint_sql(sql) == []


def test_foreign_key_may_use_an_index_of_an_earlier_revision() -> None:
    first = RevisionSql(
        "0001",
        "CREATE TABLE child (id uuid PRIMARY KEY, parent_id uuid);\n"
        "CREATE INDEX child_parent_id_idx ON child (parent_id);",
    )
    second = RevisionSql(
        "0002",
        "ALTER TABLE child ADD CONSTRAINT child_parent_id_fkey "
        "FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID;",
    )
    assert lint_history([first, second]) == []
    # Alone, the second revision cannot know the index.
    assert rules_of(lint_sql(second.upgrade)) == [FOREIGN_KEY_INDEX]
    # And an index an earlier revision dropped again does not count.
    dropped = RevisionSql("0001b", "DROP INDEX child_parent_id_idx;")
    findings = lint_history([first, dropped, second])
    assert [(f.revision, f.rule) for f in findings] == [("0002", FOREIGN_KEY_INDEX)]


# --- require-concurrent-index-on-existing-table -----------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX vendors_name_idx ON vendors (name);",
        "CREATE UNIQUE INDEX IF NOT EXISTS vendors_name_key ON public.vendors (lower(name));",
        "CREATE INDEX ON ONLY vendors USING gin (contact_info);",
        "ALTER TABLE vendors ADD CONSTRAINT vendors_code_key UNIQUE (code);",
        "ALTER TABLE vendors ADD PRIMARY KEY (id);",
    ],
)
def test_index_on_an_existing_table_without_concurrently_is_reported(sql: str) -> None:
    findings = lint_sql(sql)
    assert rules_of(findings) == [CONCURRENT_INDEX], findings
    assert "vendors, which this revision does not create" in findings[0].message


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX CONCURRENTLY vendors_name_idx ON vendors (name);",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS k ON vendors (id, name);\n"
        "ALTER TABLE vendors ADD CONSTRAINT k UNIQUE USING INDEX k;",
        "CREATE TABLE fresh (id uuid PRIMARY KEY, name text);\n"
        "CREATE INDEX fresh_name_idx ON fresh (name);\n"
        "ALTER TABLE fresh ADD CONSTRAINT fresh_name_key UNIQUE (name);",
        # the words inside quotes, comments and bodies are not statements
        "SELECT 'CREATE INDEX x ON vendors (name)'; -- CREATE INDEX y ON vendors (name)\n"
        "DO $$ BEGIN EXECUTE 'CREATE INDEX z ON vendors (name)'; END $$;",
    ],
)
def test_concurrent_index_or_new_table_passes(sql: str) -> None:
    assert lint_sql(sql) == []


# --- require-not-null-default-or-backfill -----------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE vendors ADD COLUMN code text NOT NULL;",
        "ALTER TABLE vendors ADD COLUMN IF NOT EXISTS code text CHECK (code IS NOT NULL) NOT NULL;",
        "ALTER TABLE vendors ADD kind text DEFAULT 'x' NOT NULL, ADD COLUMN code text NOT NULL;",
        "ALTER TABLE vendors ALTER COLUMN code SET NOT NULL;",
        "ALTER TABLE vendors ADD COLUMN code text;\nALTER TABLE vendors ALTER code SET NOT NULL;",
        # the backfill comes after SET NOT NULL, or fills another table
        "ALTER TABLE vendors ALTER COLUMN code SET NOT NULL;\nUPDATE vendors SET code = 'x';",
        "UPDATE purchases SET notes = '';\nALTER TABLE vendors ALTER COLUMN code SET NOT NULL;",
    ],
)
def test_not_null_without_default_or_backfill_is_reported(sql: str) -> None:
    findings = lint_sql(sql)
    assert rules_of(findings) == [NOT_NULL_BACKFILL], findings


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE vendors ADD COLUMN code text DEFAULT '' NOT NULL;",
        "ALTER TABLE vendors ADD COLUMN n bigint NOT NULL GENERATED ALWAYS AS IDENTITY;",
        "ALTER TABLE vendors ADD COLUMN n bigserial NOT NULL;",
        "ALTER TABLE vendors ADD COLUMN code text;\n"
        "UPDATE vendors SET code = upper(left(name, 3)) WHERE code IS NULL;\n"
        "ALTER TABLE vendors ALTER COLUMN code SET NOT NULL;",
        "ALTER TABLE vendors ADD COLUMN code text;\n"
        "DO $$ BEGIN LOOP\n"
        "  UPDATE public.vendors SET code = 'x' WHERE id IN (SELECT id FROM vendors\n"
        "    WHERE code IS NULL LIMIT 1000);\n"
        "  EXIT WHEN NOT FOUND; END LOOP; END $$;\n"
        "ALTER TABLE vendors ALTER COLUMN code SET NOT NULL;",
        "ALTER TABLE vendors ADD COLUMN code text DEFAULT 'x';\n"
        "ALTER TABLE vendors ALTER COLUMN code SET NOT NULL;",
        "CREATE TABLE fresh (id uuid);\n"
        "ALTER TABLE fresh ADD COLUMN code text NOT NULL, ALTER COLUMN id SET NOT NULL;",
        "ALTER TABLE vendors ALTER COLUMN code DROP NOT NULL;",
    ],
)
def test_not_null_with_default_or_backfill_passes(sql: str) -> None:
    assert lint_sql(sql) == []


# --- exceptions -------------------------------------------------------------------------

BAD_INDEX = "CREATE INDEX vendors_name_idx ON vendors (name);"


@pytest.mark.parametrize(
    ("comment", "unused"),
    [
        (f"-- cidery-ignore {CONCURRENT_INDEX} -- vendors holds a few hundred rows", 0),
        (f"-- cidery-ignore {CONCURRENT_INDEX}: vendors holds a few hundred rows", 0),
        # one rule of two excuses nothing here: that one is reported
        (f"/* cidery-ignore {NOT_NULL_BACKFILL}, {CONCURRENT_INDEX} -- small table */", 1),
    ],
)
def test_exception_with_a_reason_excuses_its_statement(comment: str, unused: int) -> None:
    findings = lint_sql(f"{comment}\n{BAD_INDEX}\n{BAD_INDEX.replace('name', 'city')}")
    # The exception covers the statement after it, not the next one.
    assert [(f.rule, f.line) for f in findings if f.rule != UNUSED_EXCEPTION] == [
        (CONCURRENT_INDEX, 3)
    ]
    assert rules_of(findings).count(UNUSED_EXCEPTION) == unused


def test_exception_inside_a_statement_excuses_it() -> None:
    sql = (
        "CREATE TABLE child (\n"
        "    id uuid PRIMARY KEY,\n"
        f"    -- cidery-ignore {FOREIGN_KEY_INDEX} -- child is a log, never deleted from\n"
        "    parent_id uuid REFERENCES parent (id)\n"
        ");"
    )
    assert lint_sql(sql) == []


@pytest.mark.parametrize(
    "comment",
    [
        f"-- cidery-ignore {CONCURRENT_INDEX}",
        f"-- cidery-ignore {CONCURRENT_INDEX} --   ",
        f"-- cidery-ignore {CONCURRENT_INDEX}:",
    ],
)
def test_exception_without_a_reason_is_reported(comment: str) -> None:
    findings = lint_sql(f"{comment}\n{BAD_INDEX}")
    assert rules_of(findings) == [EXCEPTION_REASON]
    assert findings[0].line == 1


@pytest.mark.parametrize(
    "comment",
    [
        "-- squawk-ignore require-concurrent-index-creation",
        "-- squawk-ignore require-concurrent-index-creation: vendors is small",
        "-- squawk-ignore-file prefer-robust-stmts",
        "-- squawk-ignore -- no rule",
    ],
)
def test_squawk_exception_without_a_reason_is_reported(comment: str) -> None:
    findings = lint_sql(f"{comment}\nCREATE INDEX CONCURRENTLY i ON vendors (name);")
    assert rules_of(findings) == [EXCEPTION_REASON], findings


def test_squawk_exception_with_a_reason_passes() -> None:
    sql = (
        "-- squawk-ignore require-concurrent-index-creation, prefer-robust-stmts -- small\n"
        "CREATE INDEX CONCURRENTLY i ON vendors (name);"
    )
    assert lint_sql(sql) == []


@pytest.mark.parametrize(
    "sql",
    [
        # what op.execute("-- squawk-ignore …") writes: squawk never applies it
        "-- squawk-ignore prefer-bigint-over-int -- small;\n\nCREATE TABLE t (n int);",
        "-- squawk-ignore prefer-bigint-over-int -- small\n-- more\nCREATE TABLE t (n int);",
        "CREATE TABLE t (n uuid);\n-- squawk-ignore prefer-bigint-over-int -- small",
    ],
)
def test_squawk_exception_not_right_above_a_line_is_reported(sql: str) -> None:
    findings = lint_sql(sql)
    assert rules_of(findings) == [UNUSED_EXCEPTION], findings
    assert "next line only" in findings[0].message


def test_squawk_exception_at_the_end_of_its_line_passes() -> None:
    assert (
        lint_sql("CREATE TABLE t (n int); -- squawk-ignore prefer-bigint-over-int -- small") == []
    )


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        (f"-- cidery-ignore no-such-rule -- why\n{BAD_INDEX}", UNKNOWN_RULE),
        (f"-- cidery-ignore {CONCURRENT_INDEX} because\n{BAD_INDEX}", UNKNOWN_RULE),
        (
            f"-- cidery-ignore {FOREIGN_KEY_INDEX} -- stale\n"
            "CREATE INDEX CONCURRENTLY i ON vendors (name);",
            UNUSED_EXCEPTION,
        ),
        (f"{BAD_INDEX.replace('name', 'x')}\n-- cidery-ignore {CONCURRENT_INDEX} -- late", None),
    ],
)
def test_unknown_or_unused_exception_is_reported(sql: str, rule: str | None) -> None:
    findings = lint_sql(sql)
    if rule is None:  # after the last statement: excuses nothing, and the index is reported
        assert sorted(rules_of(findings)) == sorted([CONCURRENT_INDEX, UNUSED_EXCEPTION])
    else:
        assert rule in rules_of(findings), findings


def test_ordinary_comments_are_not_exceptions() -> None:
    sql = "-- Running upgrade 0001 -> 0002\n-- on cidery-ignore: docs/migrations.md\nSELECT 1;"
    assert lint_sql(sql) == []


def test_finding_reads_like_a_compiler_message() -> None:
    [finding] = lint_sql(BAD_INDEX, revision="0003", file="0003_x.upgrade.sql")
    assert finding == Finding("0003", CONCURRENT_INDEX, finding.message, 1, "0003_x.upgrade.sql")
    assert str(finding).startswith(
        f"0003_x.upgrade.sql:1: {CONCURRENT_INDEX}: CREATE INDEX on vendors"
    )
    assert str(lint_sql(BAD_INDEX, revision="0003")[0]).startswith("revision 0003:1: ")


# --- the committed revisions ------------------------------------------------------------


def test_committed_revisions_pass_the_project_rules() -> None:
    findings = lint.lint_revisions()
    assert findings == [], "\n".join(str(f) for f in findings)


def test_project_rules_read_the_committed_revisions() -> None:
    """The rules see what the revisions do (else passing would prove nothing)."""
    schema = lint.Schema()
    for script in SCRIPTS:
        state = lint._Revision(schema.copy())
        sql = scripts.sql_file_paths(script)[0].read_text()
        for number, statement in enumerate(lint.split_statements(sql)):
            lint._read(statement, number, state)
        assert state.created, script.revision
        schema = state.schema
    assert {"press_runs", "press_run_loads", "purchase_items"} <= schema.tables
    composite = lint.ForeignKey(
        "press_run_loads", ("purchase_item_id", "apple_variety_id"), None, 0
    )
    assert schema.serves(composite)
    assert schema.indexes["purchase_items_id_apple_variety_id_key"].columns == (
        "id",
        "apple_variety_id",
    )
