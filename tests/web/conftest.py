"""The pages under test: the real app served by uvicorn on a free port, driven by Debian's
Chromium through Playwright, at a phone's size.

The server runs in a thread of the test process on the API tests' database (each test
makes its own grower and fruit). Chromium is never downloaded: the tests use
``/usr/bin/chromium`` and fail, never skip, when it is missing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from cidery.api.app import create_app
from cidery.api.settings import ApiSettings
from tests.api.conftest import (  # noqa: F401  (fixtures shared with the API tests)
    PASSWORD,
    account,
    api_engine,
    api_url,
    fruit,
)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def base_url(api_url: str) -> Iterator[str]:  # noqa: F811
    """The app served over real HTTP by uvicorn, in a thread; its address."""
    app = create_app(ApiSettings(database_url=api_url, pool_size=4))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start under uvicorn")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Debian's Chromium at {CHROMIUM}: "
            "run 'apt-get install chromium' (make test does it as root)",
            pytrace=False,
        )
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


def new_page(
    browser: Browser, base_url: str, viewport: dict[str, int] = PHONE, **options: Any
) -> Page:
    context = browser.new_context(
        base_url=base_url, viewport=viewport, is_mobile=True, has_touch=True, **options
    )
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A fresh phone-sized browser context (no cookies) and a page in it."""
    tab = new_page(browser, base_url)
    yield tab
    tab.context.close()
