"""Connection strings: hiding their secrets, and naming what is wrong with a malformed one.

Every message, table cell or log line that may hold a connection string goes
through :func:`mask_secrets` (or :func:`describe_url`, for one URL). It hides a
password however it was given: in a URL's user info (percent-encoded or not,
with or without a scheme), as a query parameter, as a libpq ``key=value`` pair
(quoted or not), or as a SQL ``PASSWORD '...'`` literal, as driver errors and
``pg_stat_activity`` may echo them.

Masking errs towards hiding too much: when it cannot tell where a password
ends, it hides up to the last ``@`` of the URL, which may take the host with
it. Part of a password can only escape where the text is ambiguous: after an
unencoded ``&`` in a query parameter (the driver, too, reads the password as
ending there), or after whitespace in a URL quoted in free text
(:func:`describe_url`, given the URL alone, hides it whole).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

MASK = "***"

# libpq's connection keywords whose values are secrets; any other key ending in
# "password" (PGPASSWORD, db_password) is taken for one too.
SECRET_KEYWORDS = frozenset({"oauth_client_secret", "scram_client_key", "scram_server_key"})
_SECRET_KEY = r"\w*password|oauth_client_secret|scram_(?:client|server)_key"

# A URL with a scheme, up to the next whitespace.
_URL_WITH_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")
# A query parameter: in free text its value ends at whitespace, in a lone URL only at '&'.
_PARAMETER_IN_TEXT = re.compile(r"(?P<sep>[?&;])(?P<key>[^=&#\s]*)=(?P<value>[^&#\s]*)")
_PARAMETER_IN_URL = re.compile(r"(?P<sep>[?&;])(?P<key>[^=&#\s]*)=(?P<value>[^&]*)")
# ``user:password@host`` without a scheme, starting a word of free text.
_BARE_USER_INFO = re.compile(r"(?<![^\s'\"(<\[=,;])([^\s:/?#@'\"=]*):(?!//)\S+(?=@)")
# ``password=value`` in a libpq string (the value quoted libpq's way or not),
# ``'password': 'value'`` in a repr or JSON, and ``PASSWORD 'value'`` in SQL.
_KEY_VALUE = re.compile(
    rf"(?<![\w?&])(?P<key>{_SECRET_KEY})\s*=\s*"
    r"(?P<value>'(?:[^'\\]|\\[\s\S])*'?|(?:[^\s\\]|\\[\s\S])+)"
    rf"|(?P<quote>[\"'])(?P<dict_key>{_SECRET_KEY})(?P=quote)\s*:\s*"
    r"(?P<dict_value>\"(?:[^\"\\]|\\[\s\S])*\"?|'(?:[^'\\]|\\[\s\S])*'?|[^\s,}]+)"
    r"|(?P<sql_key>\bpassword)\s+(?P<sql_value>E?'(?:[^']|'')*'?)",
    re.IGNORECASE,
)


def mask_secrets(text: str) -> str:
    """``text`` with the secret of every connection string in it replaced by ``***``."""
    text = _URL_WITH_SCHEME.sub(lambda m: _mask_url(m.group(), in_free_text=True), text)
    text = _BARE_USER_INFO.sub(lambda m: f"{m.group(1)}:{MASK}", text)
    return _KEY_VALUE.sub(_mask_key_value, text)


def describe_url(url: str) -> str:
    """One connection URL, its secrets hidden, for messages, tables and logs.

    Unlike :func:`mask_secrets` this knows the whole text is one URL, so a
    password with whitespace in it is hidden whole too.
    """
    return mask_secrets(_mask_url(url, in_free_text=False))


def _mask_url(url: str, *, in_free_text: bool) -> str:
    scheme_end = url.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0
    head, rest = url[:start], url[start:]
    at = rest.rfind("@")
    if at >= 0:
        colon = rest.find(":", 0, at)
        # "user:@host" has no password to hide.
        if 0 <= colon < at - 1:
            rest = f"{rest[: colon + 1]}{MASK}{rest[at:]}"
    else:
        rest = _mask_port_like_password(rest)
    query = _PARAMETER_IN_TEXT if in_free_text else _PARAMETER_IN_URL
    return head + query.sub(_mask_query_parameter, rest)


def _mask_port_like_password(rest: str) -> str:
    # "postgresql://user:secret" (the '@host' forgotten) reads as host "user" and
    # port "secret": a "port" that is not a number may well be a password.
    authority = re.match(r"[^/?]*", rest)
    assert authority is not None
    text = authority.group()
    if text.startswith("["):
        return rest
    host, colon, port = text.partition(":")
    if not colon or not port or port.isdigit():
        return rest
    return f"{host}:{MASK}{rest[len(text) :]}"


def _mask_query_parameter(match: re.Match[str]) -> str:
    if match["value"] and _is_secret_keyword(unquote_plus(match["key"])):
        return f"{match['sep']}{match['key']}={MASK}"
    return match.group()


def _is_secret_keyword(name: str) -> bool:
    name = name.lower()
    return name in SECRET_KEYWORDS or name.endswith("password")


def _mask_key_value(match: re.Match[str]) -> str:
    if match["key"] is not None:
        return f"{match['key']}={MASK}"
    if match["dict_key"] is not None:
        quote = match["quote"]
        return f"{quote}{match['dict_key']}{quote}: {MASK}"
    return f"{match['sql_key']} {MASK}"


# --- what is wrong with a URL ------------------------------------------------------------

# How SQLAlchemy splits a URL (sqlalchemy.engine.url.make_url): the password
# ends at the first '@', the port runs to the next '/' or '?'. The checks
# below judge the parts SQLAlchemy will hand to the driver.
_URL_PARTS = re.compile(
    r"(?P<scheme>[\w+]+)://"
    r"(?:(?P<user>[^:/]*)(?::(?P<password>[^@]*))?@)?"
    r"(?:\[(?P<ipv6>[^/?]+)\]|(?P<host>[^/:?]+))?"
    r"(?::(?P<port>[^/?]*))?"
    r"(?:/(?P<database>[^?]*))?"
    r"(?:\?(?P<query>.*))?",
    re.DOTALL,
)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def url_problem(url: str) -> str | None:
    """What is wrong with a ``postgresql://`` URL, or None when nothing is.

    The wording never quotes the user info, so a password stays out of it
    even when the mistake is in the password.
    """
    if _CONTROL.search(url):
        return "contains a line break or another control character"
    parts = _URL_PARTS.fullmatch(url)
    if parts is None:
        return "is not a URL of the form postgresql://user:password@host:port/database"
    host = parts["ipv6"] or parts["host"] or ""
    if "@" in host:
        return "has more than one '@': write an '@' in the user name or password as %40"
    if host.startswith("["):
        return "has a '[' that does not enclose an IPv6 address"
    if parts["port"] is not None:
        if not host:
            return (
                "has no host before the ':' of its port "
                "(for a Unix socket, leave out the port or give ?host=/socket/directory)"
            )
        if not _is_port(parts["port"]):
            return "has a port that is not a number from 1 to 65535"
    encoded = {
        "user name": parts["user"],
        "password": parts["password"],
        "host": host,
        "database name": parts["database"],
        "query": parts["query"],
    }
    for part, text in encoded.items():
        problem = _encoding_problem(text)
        if problem:
            return f"has a bad percent-encoding in its {part}: {problem}"
    return _query_problem(parts["query"] or "")


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 5 and 1 <= int(text) <= 65535


def _encoding_problem(text: str | None) -> str | None:
    if not text:
        return None
    if _BAD_PERCENT.search(text):
        return "a '%' must be followed by two hex digits (write a '%' itself as %25)"
    try:
        unquote(text, errors="strict")
    except UnicodeDecodeError:
        return "the encoded bytes are not UTF-8"
    return None


def _libpq_keywords() -> frozenset[str]:
    # Asked of the driver only for a URL with options: every command masks and checks
    # URLs, including those that never load the driver.
    import psycopg

    return frozenset(option.keyword.decode() for option in psycopg.pq.Conninfo.get_defaults())


def _query_problem(query: str) -> str | None:
    known: frozenset[str] | None = None
    for field in query.split("&"):
        if not field:
            continue
        key, equals, value = field.partition("=")
        name = unquote_plus(key)
        if not equals or not value:
            return f"has the option {name!r} with no value"
        known = known or _libpq_keywords()
        if name not in known:
            return (
                f"has an unknown option {name!r} "
                "(the options are libpq's connection parameters, such as sslmode)"
            )
    return None
