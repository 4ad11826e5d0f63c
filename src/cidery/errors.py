"""Errors a user can cause and fix.

Everything raised as a :class:`CideryError` is shown by the CLI as one line and a
non-zero exit code; anything else is a bug and keeps its traceback. The errors carry
a stable ``code`` and nothing of a transport: the CLI maps them to exit statuses
(:mod:`cidery.cli.main`), an HTTP layer to its statuses.
"""


class CideryError(Exception):
    """A problem the user can act on (bad input, unreachable server, bad revision)."""

    code = "cidery_error"


class ConfigError(CideryError):
    code = "config_error"


class DatabaseUnavailable(CideryError):
    code = "database_unavailable"


class RevisionError(CideryError):
    code = "revision_error"
