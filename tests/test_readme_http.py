"""The README's curl session runs as written against a real ``cidery serve``.

The server is the program itself, started as a subprocess on a free port over a
migrated and seeded database of the test's own; the block is run by bash with
``CIDERY_URL`` pointing at it, and must end with the run completed.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cidery.db.engine import make_engine, transaction
from cidery.models import PressRun, PressRunLoad
from cidery.models.enums import PressRunStatus

README = Path(__file__).resolve().parents[1] / "README.md"
CIDERY = Path(sys.executable).parent / "cidery"
# How long the server may take to answer /healthz, and the block to run.
START_WITHIN_S = 60
RUN_WITHIN_S = 120


def http_block() -> str:
    """The fenced ``sh`` block of the README's "The HTTP API" section."""
    section = README.read_text().split("\n## The HTTP API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "the HTTP API section has one sh block"
    return str(blocks[0])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_WITHIN_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"cidery serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    pytest.fail(f"cidery serve did not answer /healthz in {START_WITHIN_S} s:\n{log.read_text()}")


@pytest.fixture
def served(clone_url: str, cli_env: Callable[..., dict[str, str]], tmp_path: Path) -> Iterator[str]:
    """``cidery serve`` on a free port over a migrated, seeded database: its URL."""
    env = cli_env(clone_url)
    seeded = subprocess.run(
        [str(CIDERY), "db", "seed"], env=env, capture_output=True, text=True, timeout=120
    )
    assert seeded.returncode == 0, seeded.stderr
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(CIDERY), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_the_http_section_has_a_curl_session() -> None:
    block = http_block()
    assert "CIDERY_URL=${CIDERY_URL:-http://127.0.0.1:8000}" in block
    for path in ("/vendors?active=true", "/available-fruit?vendor_id=", "/vessels?available=true"):
        assert path in block


def test_the_curl_session_presses_a_run(
    served: str, clone_url: str, cli_env: Callable[..., dict[str, str]]
) -> None:
    if shutil.which("curl") is None:
        pytest.fail("the README's HTTP example needs curl: install it (apt-get install curl)")
    result = subprocess.run(
        ["bash", "-c", http_block()],
        env=cli_env(None, CIDERY_URL=served),
        capture_output=True,
        text=True,
        timeout=RUN_WITHIN_S,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:2]] == [["load", "1"], ["load", "2"]], lines
    done = re.fullmatch(r"run (\S+) completed 0\.\d+ L/kg", lines[-1])
    assert done is not None, result.stdout
    engine = make_engine(clone_url)
    try:
        with transaction(engine) as session:
            run = session.get(PressRun, uuid.UUID(done.group(1)))
            assert run is not None
            assert run.status == PressRunStatus.COMPLETED
            loads = session.scalars(
                select(PressRunLoad).where(
                    PressRunLoad.press_run_id == run.id, PressRunLoad.deleted_at.is_(None)
                )
            ).all()
            assert len(loads) == 2
    finally:
        engine.dispose()
