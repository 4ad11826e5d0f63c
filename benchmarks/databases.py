"""The scratch databases the benchmarks run in, made and dropped on the configured server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from benchmarks.writes import libpq_url_of


@contextmanager
def scratch_database(url: str, name: str) -> Iterator[str]:
    """A new, empty database ``name`` on the server of ``url``; dropped afterwards."""
    identifier = sql.Identifier(name)
    with psycopg.connect(libpq_url_of(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq_url_of(url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
