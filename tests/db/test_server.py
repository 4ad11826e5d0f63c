"""The embedded server: a data directory it cannot use is named in one line with the
real cause (tests/cli/test_cli.py has those even root cannot use)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cidery.db import server
from cidery.errors import DatabaseUnavailable

NOBODY = 65534


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
