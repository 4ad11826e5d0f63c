"""The project's own migration rules, checked on the SQL of each revision.

squawk (see ``.squawk.toml``) lints every statement for locks and rewrites;
these rules know what squawk does not: the whole revision, and the revisions
before it.

* ``require-foreign-key-index``: every foreign key a revision declares (in
  CREATE TABLE or ALTER TABLE … ADD) has an index whose leading key columns are
  exactly the key's columns (in any order), not partial, when the revision is
  done: one it creates, or one the earlier revisions left (deleting a parent
  row must not scan the child table);
* ``require-concurrent-index-on-existing-table``: an index on a table the
  revision does not create is built ``CONCURRENTLY`` (also a UNIQUE or
  PRIMARY KEY constraint added without ``USING INDEX``, which builds one);
* ``require-not-null-default-or-backfill``: a NOT NULL column added to an
  existing table has a DEFAULT (or is generated), and ``SET NOT NULL`` on an
  existing table follows an UPDATE of that table in the same revision (the
  backfill), unless the revision added the column with a DEFAULT.

A statement may break a rule on purpose: the exception is written beside it,
with why it is safe, as ``-- cidery-ignore RULE -- REASON`` (``RULE: REASON``
is accepted too), in a comment before the statement (after the previous one)
or inside it. Revisions write it with :func:`cidery.migrations.authoring.ops.lint_exception`.
An exception without a reason, for an unknown rule, or that excuses nothing
is itself reported, and so is a squawk ignore comment without its reason
(``-- squawk-ignore RULE -- REASON``).

Pure Python, no database: a tokenizer aware of quotes, dollar-quoted bodies
and comments splits the SQL into statements, and a small reader understands
the statements that matter here (CREATE/DROP TABLE, CREATE/DROP INDEX, ALTER
TABLE, UPDATE). A ``DO`` body is opaque except for the UPDATEs in it, which
count as backfills. Renames are not followed.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cidery.migrations.authoring.rules import (
    CONCURRENT_INDEX,
    FOREIGN_KEY_INDEX,
    IGNORE_PREFIX,
    NOT_NULL_BACKFILL,
    RULES,
)
from cidery.migrations.scripts import revisions_in_order, sql_file_paths

# What the exception comments themselves are held to; these cannot be excused.
EXCEPTION_REASON = "require-exception-reason"
UNKNOWN_RULE = "unknown-exception-rule"
UNUSED_EXCEPTION = "unused-exception"


@dataclass(frozen=True, order=True)
class Finding:
    """A rule a statement breaks: in ``revision``'s SQL ``file``, at ``line`` (1-based)."""

    revision: str
    rule: str
    message: str
    line: int
    file: str = ""

    def __str__(self) -> str:
        where = self.file or (f"revision {self.revision}" if self.revision else "sql")
        return f"{where}:{self.line}: {self.rule}: {self.message}"


@dataclass(frozen=True)
class RevisionSql:
    """One revision's committed SQL, for :func:`lint_history`."""

    revision: str
    upgrade: str
    downgrade: str = ""
    upgrade_file: str = ""
    downgrade_file: str = ""


class SqlSyntaxError(ValueError):
    """The SQL cannot be split into statements (an unterminated quote or comment)."""


# --- tokens and statements --------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # word, quoted, string, dollar, number, punct, op, comment
    text: str  # as written
    line: int  # 1-based

    @property
    def value(self) -> str:
        """Words folded to lower case, quoted identifiers unquoted; the rest as written."""
        if self.kind == "word":
            return self.text.lower()
        if self.kind == "quoted":
            return self.text[1:-1].replace('""', '"')
        return self.text


_WORD = re.compile(r"[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*")
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$")
_PARAM = re.compile(r"\$\d+")
_OPERATOR_CHARS = "+-*/<>=~!@#%^&|`?"
_PUNCT = "(),;[].:"


def tokenize(sql: str) -> list[Token]:
    """Split SQL into tokens, comments included; whitespace is dropped."""
    newlines = [i for i, c in enumerate(sql) if c == "\n"]

    def line_at(position: int) -> int:
        return bisect.bisect_right(newlines, position - 1) + 1

    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        start = i
        if c.isspace():
            i += 1
            continue
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
            tokens.append(Token("comment", sql[start:i], line_at(start)))
            continue
        if sql.startswith("/*", i):
            depth, i = 1, i + 2
            while depth:
                if i >= n:
                    raise SqlSyntaxError(f"line {line_at(start)}: unterminated /* comment")
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            tokens.append(Token("comment", sql[start:i], line_at(start)))
            continue
        if c == "'" or (c in "eE" and sql.startswith("'", i + 1)):
            escapes = c != "'"
            i = i + 2 if escapes else i + 1
            while True:
                if i >= n:
                    raise SqlSyntaxError(f"line {line_at(start)}: unterminated string")
                if escapes and sql[i] == "\\":
                    i += 2
                elif sql[i] == "'":
                    if sql.startswith("'", i + 1):
                        i += 2
                    else:
                        i += 1
                        break
                else:
                    i += 1
            tokens.append(Token("string", sql[start:i], line_at(start)))
            continue
        if c == '"':
            i += 1
            while True:
                end = sql.find('"', i)
                if end < 0:
                    raise SqlSyntaxError(f"line {line_at(start)}: unterminated quoted identifier")
                if sql.startswith('"', end + 1):
                    i = end + 2
                    continue
                i = end + 1
                break
            tokens.append(Token("quoted", sql[start:i], line_at(start)))
            continue
        if c == "$":
            tag = _DOLLAR_TAG.match(sql, i)
            if tag:
                end = sql.find(tag.group(), tag.end())
                if end < 0:
                    raise SqlSyntaxError(f"line {line_at(start)}: unterminated {tag.group()} body")
                i = end + len(tag.group())
                tokens.append(Token("dollar", sql[start:i], line_at(start)))
                continue
            param = _PARAM.match(sql, i)
            i = param.end() if param else i + 1
            tokens.append(Token("op", sql[start:i], line_at(start)))
            continue
        word = _WORD.match(sql, i)
        if word:
            i = word.end()
            tokens.append(Token("word", word.group(), line_at(start)))
            continue
        number = _NUMBER.match(sql, i)
        if number and number.group() != ".":
            i = number.end()
            tokens.append(Token("number", number.group(), line_at(start)))
            continue
        if c == ":" and sql.startswith("::", i):
            i += 2
            tokens.append(Token("op", "::", line_at(start)))
            continue
        if c in _PUNCT:
            i += 1
            tokens.append(Token("punct", c, line_at(start)))
            continue
        while (
            i < n
            and sql[i] in _OPERATOR_CHARS
            and not sql.startswith("--", i)
            and not sql.startswith("/*", i)
        ):
            i += 1
        if i == start:
            i += 1  # anything else (a psql backslash, say) stands alone
        tokens.append(Token("op", sql[start:i], line_at(start)))
    return tokens


@dataclass
class Statement:
    """The tokens of one statement (no comments, no ``;``) and the comments that belong to it:
    those after the previous statement (except on that statement's last line) and inside it."""

    tokens: list[Token]
    comments: list[Token]

    @property
    def line(self) -> int:
        return self.tokens[0].line if self.tokens else self.comments[0].line


def split_statements(sql: str) -> list[Statement]:
    """Statements in order; comments after the last one form a statement with no tokens."""
    statements: list[Statement] = []
    current = Statement([], [])
    last_end_line = 0
    for token in tokenize(sql):
        if token.kind == "comment":
            if statements and not current.tokens and token.line == last_end_line:
                statements[-1].comments.append(token)  # on the line of the previous ';'
            else:
                current.comments.append(token)
        elif token.kind == "punct" and token.text == ";":
            if current.tokens:
                statements.append(current)
                current = Statement([], [])
            last_end_line = token.line
        else:
            current.tokens.append(token)
    if current.tokens or current.comments:
        statements.append(current)
    return statements


# --- reading statements -----------------------------------------------------------------


class _Reader:
    """A cursor over a statement's tokens (or a part of them)."""

    def __init__(self, tokens: Sequence[Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self, ahead: int = 0) -> Token | None:
        position = self.at + ahead
        return self.tokens[position] if position < len(self.tokens) else None

    def is_word(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token is not None and token.kind == "word" and token.value in words

    def accept_any(self, *words: str) -> bool:
        """Consume one of ``words`` if it comes next."""
        if self.is_word(*words):
            self.at += 1
            return True
        return False

    def accept(self, *sequence: str) -> bool:
        """Consume the keywords ``sequence`` if they come next, all of them."""
        if all(self.is_word(word, ahead=k) for k, word in enumerate(sequence)):
            self.at += len(sequence)
            return True
        return False

    def is_punct(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "punct" and token.text == text

    def take(self) -> Token | None:
        token = self.peek()
        if token is not None:
            self.at += 1
        return token

    def name(self) -> str | None:
        """A possibly schema-qualified name; ``public.`` is dropped."""
        parts: list[str] = []
        while True:
            token = self.peek()
            if token is None or token.kind not in ("word", "quoted"):
                break
            parts.append(token.value)
            self.at += 1
            if not self.is_punct("."):
                break
            self.at += 1
        if not parts:
            return None
        if len(parts) > 1 and parts[0] == "public":
            parts = parts[1:]
        return ".".join(parts)

    def group(self) -> list[Token] | None:
        """The tokens inside the parenthesised group that comes next."""
        if not self.is_punct("("):
            return None
        depth, start = 0, self.at
        while (token := self.take()) is not None:
            if token.kind == "punct" and token.text == "(":
                depth += 1
            elif token.kind == "punct" and token.text == ")":
                depth -= 1
                if depth == 0:
                    return list(self.tokens[start + 1 : self.at - 1])
        return list(self.tokens[start + 1 :])

    def rest(self) -> list[Token]:
        return list(self.tokens[self.at :])


def _top_level(tokens: Sequence[Token]) -> list[Token]:
    """The tokens outside any parentheses."""
    depth, found = 0, []
    for token in tokens:
        if token.kind == "punct" and token.text == "(":
            depth += 1
        elif token.kind == "punct" and token.text == ")":
            depth -= 1
        elif depth == 0:
            found.append(token)
    return found


def _split_commas(tokens: Sequence[Token]) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "punct" and token.text in "([":
            depth += 1
        elif token.kind == "punct" and token.text in ")]":
            depth -= 1
        if depth == 0 and token.kind == "punct" and token.text == ",":
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part]


def _column_names(tokens: Sequence[Token]) -> tuple[str, ...]:
    return tuple(part[0].value for part in _split_commas(tokens))


def _words(tokens: Sequence[Token]) -> list[str]:
    return [t.value if t.kind == "word" else "" for t in tokens]


def _contains(words: Sequence[str], *sequence: str) -> bool:
    size = len(sequence)
    return any(tuple(words[i : i + size]) == sequence for i in range(len(words) - size + 1))


# --- the schema as far as the rules need it -----------------------------------------------


@dataclass(frozen=True)
class Index:
    table: str
    columns: tuple[str | None, ...]  # key columns in order; None for an expression
    partial: bool = False


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    name: str | None
    line: int


@dataclass
class Schema:
    """Tables and indexes (by name) left by the revisions read so far."""

    tables: set[str] = field(default_factory=set)
    indexes: dict[str, Index] = field(default_factory=dict)

    def copy(self) -> Schema:
        return Schema(set(self.tables), dict(self.indexes))

    def drop_table(self, table: str) -> None:
        self.tables.discard(table)
        self.indexes = {k: v for k, v in self.indexes.items() if v.table != table}

    def serves(self, key: ForeignKey) -> bool:
        size = len(key.columns)
        for index in self.indexes.values():
            leading = index.columns[:size]
            if (
                index.table == key.table
                and not index.partial
                and len(leading) == size
                and None not in leading
                and set(leading) == set(key.columns)
            ):
                return True
        return False


@dataclass
class _Revision:
    """What one revision's SQL does, statement by statement, while it is read."""

    schema: Schema
    created: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)
    backfilled: set[str] = field(default_factory=set)  # tables UPDATEd so far
    defaulted: set[tuple[str, str]] = field(default_factory=set)  # columns added with a DEFAULT
    foreign_keys: list[tuple[int, ForeignKey]] = field(default_factory=list)
    found: list[tuple[int, str, str, int]] = field(default_factory=list)  # stmt, rule, msg, line
    unnamed: int = 0

    def report(self, statement: int, rule: str, message: str, line: int) -> None:
        self.found.append((statement, rule, message, line))

    def add_index(self, name: str | None, index: Index) -> None:
        if name is None:
            self.unnamed += 1
            name = f"<unnamed {self.unnamed}>"
        self.schema.indexes[name] = index


def _read(statement: Statement, number: int, state: _Revision) -> None:
    reader = _Reader(statement.tokens)
    if reader.accept("create"):
        reader.accept("or", "replace")
        reader.accept_any("global", "local")
        reader.accept_any("temporary", "temp", "unlogged")
        if reader.accept("table"):
            _create_table(reader, number, state)
        elif reader.is_word("unique", "index"):
            _create_index(reader, statement, number, state)
    elif reader.accept("alter", "table"):
        _alter_table(reader, number, state)
    elif reader.accept("drop", "table"):
        reader.accept("if", "exists")
        for part in _split_commas(reader.rest()):
            name = _Reader(part).name()
            if name:
                state.schema.drop_table(name)
                state.dropped.add(name)
    elif reader.accept("drop", "index"):
        reader.accept("concurrently")
        reader.accept("if", "exists")
        for part in _split_commas(reader.rest()):
            name = _Reader(part).name()
            if name:
                state.schema.indexes.pop(name, None)
    elif reader.accept("update"):
        reader.accept("only")
        name = reader.name()
        if name:
            state.backfilled.add(name)
    elif reader.accept("do"):
        for token in reader.rest():
            if token.kind == "dollar":
                state.backfilled.update(_updated_tables(token.text))


_UPDATE_IN_BODY = re.compile(
    r"\bupdate\s+(?:only\s+)?((?:\"[^\"]+\"|[a-z_][a-z0-9_$]*)(?:\.(?:\"[^\"]+\"|[a-z_][a-z0-9_$]*))?)",
    re.IGNORECASE,
)


def _updated_tables(body: str) -> set[str]:
    tables = set()
    for match in _UPDATE_IN_BODY.finditer(body):
        name = _Reader(tokenize(match.group(1))).name()
        if name:
            tables.add(name)
    return tables


def _create_table(reader: _Reader, number: int, state: _Revision) -> None:
    reader.accept("if", "not", "exists")
    table = reader.name()
    if table is None:
        return
    state.created.add(table)
    state.dropped.discard(table)
    state.schema.tables.add(table)
    elements = reader.group()
    if elements is None:  # AS SELECT, PARTITION OF, OF type
        return
    for element in _split_commas(elements):
        first = element[0]
        if first.kind == "word" and first.value in (
            "constraint",
            "primary",
            "unique",
            "foreign",
            "check",
            "exclude",
        ):
            _table_constraint(_Reader(element), table, number, state)
        elif not (first.kind == "word" and first.value == "like"):
            _column(element, table, number, state, new_table=True)


def _table_constraint(reader: _Reader, table: str, number: int, state: _Revision) -> None:
    """``[CONSTRAINT name] PRIMARY KEY | UNIQUE | FOREIGN KEY …`` of ``table``."""
    first = reader.peek()
    line = first.line if first else 0
    name = reader.name() if reader.accept("constraint") else None
    primary = reader.accept("primary", "key")
    if primary or reader.accept("unique"):
        if not reader.accept("nulls", "not", "distinct"):
            reader.accept("nulls", "distinct")
        if reader.accept("using", "index"):  # ALTER TABLE only: the index becomes the constraint
            index_name = reader.name()
            index = state.schema.indexes.pop(index_name or "", None)
            if index is not None:
                state.add_index(name or index_name, index)
            return
        group = reader.group()
        if group is None:
            return
        columns = _column_names(group)
        if name is None:
            name = f"{table}_pkey" if primary else f"{table}_{'_'.join(columns)}_key"
        if table not in state.created:
            state.report(
                number,
                CONCURRENT_INDEX,
                f"this {'PRIMARY KEY' if primary else 'UNIQUE'} constraint builds an index on "
                f"{table}, which this revision does not create, without CONCURRENTLY: build it "
                "with ops.create_index_concurrently() in ops.outside_transaction(), then "
                "attach it with USING INDEX",
                line,
            )
        state.add_index(name, Index(table, columns))
    elif reader.accept("foreign", "key"):
        group = reader.group()
        if group is not None:
            key = ForeignKey(table, _column_names(group), name, line)
            state.foreign_keys.append((number, key))


_SERIAL = {"smallserial", "serial", "bigserial", "serial2", "serial4", "serial8"}


def _column(
    element: Sequence[Token], table: str, number: int, state: _Revision, *, new_table: bool
) -> None:
    """A column definition, in CREATE TABLE (``new_table``) or ALTER TABLE … ADD COLUMN."""
    column = element[0].value
    line = element[0].line
    words = _words(_top_level(element[1:]))
    not_null = _contains(words, "not", "null") or _contains(words, "primary", "key")
    has_default = bool({"default", "generated"} & set(words)) or bool(_SERIAL & set(words[:1]))
    if _contains(words, "primary", "key"):
        state.add_index(f"{table}_pkey", Index(table, (column,)))
    elif "unique" in words:
        state.add_index(f"{table}_{column}_key", Index(table, (column,)))
    if "references" in words:
        state.foreign_keys.append((number, ForeignKey(table, (column,), None, line)))
    if has_default and not new_table:
        state.defaulted.add((table, column))
    if not_null and not has_default and table not in state.created:
        state.report(
            number,
            NOT_NULL_BACKFILL,
            f"adds NOT NULL column {table}.{column} without a DEFAULT to a table this revision "
            "does not create: it fails once the table has rows. Give it a DEFAULT, or add it "
            f"nullable, backfill it (UPDATE {table} …) and then SET NOT NULL",
            line,
        )


def _create_index(reader: _Reader, statement: Statement, number: int, state: _Revision) -> None:
    unique = reader.accept("unique")
    reader.accept("index")
    concurrently = reader.accept("concurrently")
    reader.accept("if", "not", "exists")
    name = None if reader.is_word("on") else reader.name()
    if not reader.accept("on"):
        return
    reader.accept("only")
    table = reader.name()
    if table is None:
        return
    if reader.accept("using"):
        reader.take()
    group = reader.group()
    if group is None:
        return
    columns: list[str | None] = []
    for element in _split_commas(group):
        expression = element[0].kind not in ("word", "quoted") or (
            len(element) > 1 and element[1].kind == "punct" and element[1].text in "(."
        )
        columns.append(None if expression else element[0].value)
    partial = "where" in _words(_top_level(reader.rest()))
    state.add_index(name, Index(table, tuple(columns), partial))
    if not concurrently and table not in state.created:
        kind = "UNIQUE INDEX" if unique else "INDEX"
        state.report(
            number,
            CONCURRENT_INDEX,
            f"CREATE {kind} on {table}, which this revision does not create, without "
            f"CONCURRENTLY: writers to {table} wait for the whole build. Use "
            "ops.create_index_concurrently() inside ops.outside_transaction()",
            statement.line,
        )


def _alter_table(reader: _Reader, number: int, state: _Revision) -> None:
    reader.accept("if", "exists")
    reader.accept("only")
    table = reader.name()
    if table is None:
        return
    for action in _split_commas(reader.rest()):
        part = _Reader(action)
        if part.accept("add"):
            explicit_column = part.accept("column")
            part.accept("if", "not", "exists")
            constraint = part.is_word("constraint", "primary", "unique", "foreign", "check")
            if constraint and not explicit_column:
                _table_constraint(part, table, number, state)
            elif part.peek() is not None:
                _column(part.rest(), table, number, state, new_table=False)
        elif part.accept("alter"):
            part.accept("column")
            column = part.name()
            if column and part.accept("set", "not", "null"):
                _set_not_null(table, column, number, state, action[0].line)
        elif part.accept("drop", "constraint"):
            part.accept("if", "exists")
            name = part.name()
            if name:
                state.schema.indexes.pop(name, None)
        elif part.accept("drop"):
            part.accept("column")
            part.accept("if", "exists")
            column = part.name()
            if column is None:
                continue
            state.schema.indexes = {
                k: v
                for k, v in state.schema.indexes.items()
                if not (v.table == table and column in v.columns)
            }


def _set_not_null(table: str, column: str, number: int, state: _Revision, line: int) -> None:
    if table in state.created or table in state.backfilled or (table, column) in state.defaulted:
        return
    state.report(
        number,
        NOT_NULL_BACKFILL,
        f"SET NOT NULL on {table}.{column} with no backfill before it in this revision: "
        f"UPDATE {table} to fill the NULLs first (in batches if it is large), or add the "
        "column with a DEFAULT",
        line,
    )


# --- exception comments -----------------------------------------------------------------

_RULE_LIST = r"[a-z0-9][a-z0-9-]*(?:\s*,\s*[a-z0-9][a-z0-9-]*)*"
_CIDERY_IGNORE = re.compile(
    rf"^\s*{IGNORE_PREFIX}\b\s*(?P<rules>{_RULE_LIST})?\s*(?:(?:--|:)(?P<reason>.*))?$"
)
_SQUAWK_IGNORE = re.compile(r"^\s*(?P<kind>squawk-ignore(?:-file)?)\b(?P<rest>.*)$")


def _comment_body(comment: Token) -> str:
    text = comment.text
    return text[2:] if text.startswith("--") else text[2:-2]


@dataclass
class _Exception:
    statement: int
    rules: tuple[str, ...]
    line: int
    used: set[str] = field(default_factory=set)


def _exceptions(
    statements: Sequence[Statement], lines: Sequence[str], report: list[tuple[str, str, int]]
) -> list[_Exception]:
    """The ``cidery-ignore`` comments, by statement; malformed ones go to ``report``."""
    found: list[_Exception] = []
    for number, statement in enumerate(statements):
        for comment in statement.comments:
            body = _comment_body(comment)
            squawk = _SQUAWK_IGNORE.match(body)
            if squawk:
                _check_squawk_ignore(squawk.group("kind"), squawk.group("rest"), comment, report)
                if squawk.group("kind") == "squawk-ignore":
                    _check_squawk_placement(comment, lines, report)
                continue
            if not body.lstrip().startswith(IGNORE_PREFIX):
                continue
            match = _CIDERY_IGNORE.match(body)
            if match is None or not match.group("rules"):
                report.append(
                    (
                        UNKNOWN_RULE,
                        f"cannot read this exception: write `-- {IGNORE_PREFIX} RULE -- REASON`"
                        f" with RULE one of {', '.join(RULES)}",
                        comment.line,
                    )
                )
                continue
            rules = tuple(r.strip() for r in match.group("rules").split(","))
            unknown = [rule for rule in rules if rule not in RULES]
            if unknown:
                report.append(
                    (
                        UNKNOWN_RULE,
                        f"no rule {', '.join(unknown)}: the rules are {', '.join(RULES)}",
                        comment.line,
                    )
                )
            if not (match.group("reason") or "").strip():
                report.append(
                    (
                        EXCEPTION_REASON,
                        f"the exception to {', '.join(rules)} gives no reason: write "
                        f"`-- {IGNORE_PREFIX} {rules[0]} -- why this statement is safe`",
                        comment.line,
                    )
                )
            known = tuple(rule for rule in rules if rule in RULES)
            if known and statement.tokens:
                found.append(_Exception(number, known, comment.line))
            elif known:
                report.append(
                    (
                        UNUSED_EXCEPTION,
                        f"the exception to {', '.join(known)} is followed by no statement",
                        comment.line,
                    )
                )
    return found


def _check_squawk_ignore(
    kind: str, rest: str, comment: Token, report: list[tuple[str, str, int]]
) -> None:
    rules, _, reason = rest.partition("--")
    if ":" in rules:
        report.append(
            (
                EXCEPTION_REASON,
                f"squawk reads everything before ` -- ` as rule names: write `-- {kind} RULE "
                "-- REASON`, not `RULE: REASON`",
                comment.line,
            )
        )
    elif not reason.strip() or (kind == "squawk-ignore" and not rules.strip()):
        report.append(
            (
                EXCEPTION_REASON,
                f"this {kind} gives no {'reason' if rules.strip() else 'rule'}: write "
                f"`-- {kind} RULE -- why this statement is safe`",
                comment.line,
            )
        )


def _check_squawk_placement(
    comment: Token, lines: Sequence[str], report: list[tuple[str, str, int]]
) -> None:
    """squawk applies ``squawk-ignore`` to the line after the comment's only."""
    if not lines[comment.line - 1].lstrip().startswith(comment.text):
        return  # after code on its line: squawk applies it to that line
    following = lines[comment.line].strip() if comment.line < len(lines) else ""
    if not following or following.startswith(("--", "/*")):
        report.append(
            (
                UNUSED_EXCEPTION,
                "squawk applies this ignore comment to the next line only, and that line holds "
                "no statement: put it right above the line squawk reports (ops.lint_exception "
                "does), not through op.execute",
                comment.line,
            )
        )


# --- linting ----------------------------------------------------------------------------


def _lint(sql: str, revision: str, file: str, schema: Schema) -> tuple[list[Finding], Schema]:
    """Findings of one revision's SQL read on top of ``schema``, and the schema it leaves."""
    statements = split_statements(sql)
    state = _Revision(schema.copy())
    for number, statement in enumerate(statements):
        _read(statement, number, state)
    for number, key in state.foreign_keys:
        if key.table not in state.dropped and not state.schema.serves(key):
            named = f" {key.name}" if key.name else ""
            columns = ", ".join(key.columns)
            state.report(
                number,
                FOREIGN_KEY_INDEX,
                f"foreign key{named} ({columns}) of {key.table} has no index leading with "
                f"its columns: add one in this revision (CREATE INDEX … ON {key.table} "
                f"({columns}), CONCURRENTLY if {key.table} holds rows), or deleting a "
                f"parent row scans {key.table}",
                key.line,
            )

    meta: list[tuple[str, str, int]] = []
    exceptions = _exceptions(statements, sql.split("\n"), meta)
    findings = [Finding(revision, rule, message, line, file) for rule, message, line in meta]
    for number, rule, message, line in state.found:
        excuse = next(
            (e for e in exceptions if e.statement == number and rule in e.rules),
            None,
        )
        if excuse is None:
            findings.append(Finding(revision, rule, message, line, file))
        else:
            excuse.used.add(rule)
    for excuse in exceptions:
        for rule in excuse.rules:
            if rule not in excuse.used:
                findings.append(
                    Finding(
                        revision,
                        UNUSED_EXCEPTION,
                        f"the exception to {rule} excuses nothing in the statement after it: "
                        "remove it",
                        excuse.line,
                        file,
                    )
                )
    findings.sort(key=lambda f: (f.line, f.rule))
    return findings, state.schema


def lint_sql(sql: str, *, revision: str = "", file: str = "") -> list[Finding]:
    """Check one revision's SQL alone: every table it does not create counts as an
    existing one, and no index is known but those it creates."""
    return _lint(sql, revision, file, Schema())[0]


def lint_history(revisions: Iterable[RevisionSql]) -> list[Finding]:
    """Check revisions oldest first, each upgrade on top of the schema the ones before it
    left, and each downgrade on top of its own upgrade's."""
    findings: list[Finding] = []
    schema = Schema()
    for revision in revisions:
        found, upgraded = _lint(revision.upgrade, revision.revision, revision.upgrade_file, schema)
        findings += found
        if revision.downgrade:
            findings += _lint(
                revision.downgrade, revision.revision, revision.downgrade_file, upgraded
            )[0]
        schema = upgraded
    return findings


def lint_revisions() -> list[Finding]:
    """Check the committed SQL files of every revision (``migrations/sql``), oldest first."""

    def committed() -> Iterable[RevisionSql]:
        for script in revisions_in_order():
            up, down = sql_file_paths(script)
            yield RevisionSql(
                script.revision,
                _read_text(up),
                _read_text(down),
                up.name,
                down.name,
            )

    return lint_history(committed())


def _read_text(path: Path) -> str:
    return path.read_text() if path.exists() else ""
