"""The web board as a user meets it: the real `python -m bot web` process, and Debian's chromium
driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import ROOT
from tests.telegram_harness import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECRET_KEY = "board-secret-key-for-tests-only-0123456789"


def needs_chromium() -> None:
    """Browser tests run wherever chromium is; CI installs it and insists (BOT_REQUIRE_BROWSER)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("BOT_REQUIRE_BROWSER"):
            pytest.fail(f"chromium is required here and missing at {CHROMIUM}")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")


class WebProcess:
    """`python -m bot web` on a free port, against the test's database."""

    def __init__(self, *, engine: Engine, workdir: Path, **settings: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"web-{time.monotonic_ns()}.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "BOT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "BOT_WEB_SECRET_KEY": SECRET_KEY,
            **{f"BOT_{k.upper()}": v for k, v in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WebProcess:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "web", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the web board did not start\n{self.output()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


@pytest.fixture
def web(engine: Engine, tmp_path: Path) -> Iterator[WebProcess]:
    server = WebProcess(engine=engine, workdir=tmp_path).start()
    yield server
    server.stop()
    output = server.output()
    print(f"--- web log ---\n{output}")
    assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One chromium per test module: Playwright's synchronous API keeps an event loop running
    while it lives, which later tests' `asyncio.run` must not meet."""
    needs_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
