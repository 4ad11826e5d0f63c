"""The environment the tests run the ``cidery`` program (or ``python -m benchmarks``) in.

Tests ask for it through the ``cli_env`` fixture; a module-level helper that
cannot take a fixture calls :func:`cli_environment` itself.
"""

from __future__ import annotations

import os
from pathlib import Path


def cli_environment(database_url: str | None, data_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment without a developer's cidery settings, then the test's own.

    ``data_dir`` is the subprocess's own CIDERY_DATA_DIR: nothing a test runs
    may touch a developer's embedded server. Output is plain (no colour, no
    terminal size), so tests can read it; ``extra`` adds or overrides variables.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "COLUMNS", "LINES") and not key.startswith("CIDERY_")
    }
    env["CIDERY_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(NO_COLOR="1", TERM="dumb")
    env.update(extra)
    return env
