"""Masking connection-string secrets, property by property: whatever the password, in
each way a connection string can carry one, it does not survive :func:`mask_secrets`.

Each property checks the exact masked text too, so a password that happens to
occur in the rest of the text (a one-letter password "u") cannot hide a leak.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cidery.urls import MASK, describe_url, mask_secrets, url_problem

# Any text a password could be, but a NUL (no environment variable or C string holds one)
# and a lone surrogate (not UTF-8, so it cannot be percent-encoded).
passwords = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1
)
# What a password can be where whitespace ends it: in free text, or unquoted in libpq's syntax.
words = st.text(
    st.characters(exclude_categories=("Z", "Cc", "Cs"), exclude_characters="\x00\\"), min_size=1
)


def assert_masked(password: str, text: str, expected: str) -> None:
    assume(password not in expected)
    masked = mask_secrets(text)
    assert masked == expected
    assert password not in masked


@given(passwords)
def test_a_percent_encoded_password_in_a_url(password: str) -> None:
    url = f"postgresql://cidery:{quote(password, safe='')}@db.example.com:5432/cidery"
    assume(quote(password, safe="") not in "postgresql://cidery:***@db.example.com:5432/cidery")
    assert_masked(
        password,
        f"cannot connect to {url}: connection refused",
        f"cannot connect to postgresql://cidery:{MASK}@db.example.com:5432/cidery: "
        "connection refused",
    )


@given(words)
def test_a_password_as_typed_in_a_url_in_free_text(password: str) -> None:
    # '@', ':', '/', '?' and '#' included: the mask runs to the last '@'.
    assert_masked(
        password,
        f"DATABASE_URL postgresql+psycopg://cidery:{password}@db.example.com/cidery is wrong",
        f"DATABASE_URL postgresql+psycopg://cidery:{MASK}@db.example.com/cidery is wrong",
    )


@given(passwords)
def test_any_password_in_a_lone_url(password: str) -> None:
    # Whitespace too: describe_url knows the whole text is one URL.
    url = f"postgresql://cidery:{password}@db.example.com/cidery"
    expected = f"postgresql://cidery:{MASK}@db.example.com/cidery"
    assume(password not in expected)
    assert describe_url(url) == expected


@pytest.mark.parametrize("scheme", ["", "mysql://", "postgres+asyncpg://"])
@given(password=words)
def test_a_password_in_a_url_without_a_scheme_or_with_a_foreign_one(
    scheme: str, password: str
) -> None:
    # "cidery://x@host" would be a URL of scheme "cidery", user "x", and no password.
    assume(not password.startswith("//"))
    assert_masked(
        password,
        f"got '{scheme}cidery:{password}@db.example.com/cidery'",
        f"got '{scheme}cidery:{MASK}@db.example.com/cidery'",
    )
    assume(password not in f"{scheme}cidery:{MASK}@db.example.com/cidery")
    assert describe_url(f"{scheme}cidery:{password}@db.example.com/cidery") == (
        f"{scheme}cidery:{MASK}@db.example.com/cidery"
    )


@pytest.mark.parametrize("key", ["password", "sslpassword", "PASSWORD", "pass%77ord"])
@pytest.mark.parametrize("position", ["first", "last"])
@given(password=passwords)
def test_a_password_as_a_query_parameter(key: str, position: str, password: str) -> None:
    value = quote(password, safe="")
    query = (
        f"{key}={value}&sslmode=require"
        if position == "first"
        else f"sslmode=require&{key}={value}"
    )
    masked_query = query.replace(f"={value}", f"={MASK}", 1)
    assume(value not in masked_query)
    url = f"postgresql://cidery@db.example.com/cidery?{query}"
    expected = f"postgresql://cidery@db.example.com/cidery?{masked_query}"
    assert_masked(password, f"cannot connect to {url}", f"cannot connect to {expected}")
    assert describe_url(url) == expected


@given(words)
def test_a_password_in_a_libpq_key_value_string(password: str) -> None:
    # Unquoted, libpq reads a value to the next whitespace; a leading quote would quote it.
    assume(not password.startswith("'"))
    assert_masked(
        password,
        f"host=db.example.com password={password} dbname=cidery",
        f"host=db.example.com password={MASK} dbname=cidery",
    )


@given(passwords)
def test_a_quoted_password_in_a_libpq_key_value_string(password: str) -> None:
    quoted = "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"
    assert_masked(
        password,
        f"host=db.example.com password = {quoted} dbname=cidery",
        f"host=db.example.com password={MASK} dbname=cidery",
    )


@given(passwords)
def test_a_password_in_a_sql_literal(password: str) -> None:
    # As pg_stat_activity shows a blocking session's last query.
    literal = "'" + password.replace("'", "''") + "'"
    assert_masked(
        password,
        f"last query: ALTER ROLE cidery PASSWORD {literal} VALID UNTIL 'infinity'",
        f"last query: ALTER ROLE cidery PASSWORD {MASK} VALID UNTIL 'infinity'",
    )


@pytest.mark.parametrize(
    "text",
    [
        "postgresql+psycopg://postgres:@/cidery?host=/tmp/data",  # the embedded server's
        "postgresql://db.example.com:5432/cidery?sslmode=require",
        "postgresql://[::1]:5432/cidery",
        'password authentication failed for user "cidery"',
        'connection to server at "127.0.0.1", port 1 failed: Connection refused',
    ],
)
def test_text_without_a_secret_is_left_alone(text: str) -> None:
    assert mask_secrets(text) == text


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://u@localhost:5432/db", None),
        ("postgresql:///db", None),
        ("postgresql://u@/db?host=/var/run/postgresql", None),
        ("postgresql://u:p%40ss@[::1]:5432/d%C3%A9j%C3%A0?sslmode=require", None),
        ("postgresql://u@localhost:abc/db", "port"),
        ("postgresql://u@localhost:\uff11/db", "port"),  # int() takes a full-width digit
        ("postgresql://u@localhost:65536/db", "port"),
        ("postgresql://u@:5432/db", "no host"),
        ("postgresql://u:p@ss@localhost/db", "more than one '@'"),
        ("postgresql://u@[::1/db", "IPv6"),
        ("postgresql://u:p%2@localhost/db", "percent-encoding in its password"),
        ("postgresql://u@loc%zzalhost/db", "percent-encoding in its host"),
        ("postgresql://u@localhost/db?application_name=%ff", "not UTF-8"),
        ("postgresql://u@localhost/db?colour=red", "unknown option 'colour'"),
        ("postgresql://u@localhost/db?host=", "no value"),
        ("postgresql://u@localhost/db\r", "control character"),
    ],
)
def test_what_is_wrong_with_a_url(url: str, problem: str | None) -> None:
    found = url_problem(url)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
