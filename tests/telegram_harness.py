"""Running the real bot process against the fake Bot API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine

from tests.conftest import ROOT
from tests.fake_telegram import FakeTelegram

TOKEN = "4242:fake-token-for-tests-only"
WEBHOOK_SECRET = "s3cret-webhook-token_for-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotProcess:
    """`python -m bot run` as a child process, its output kept for the token check."""

    def __init__(
        self, *, engine: Engine, fake: FakeTelegram, workdir: Path, **settings: str
    ) -> None:
        self.fake = fake
        self.workdir = workdir
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "BOT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "BOT_TELEGRAM_TOKEN": TOKEN,
            "BOT_TELEGRAM_API_BASE": fake.base,
            "BOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "BOT_TELEGRAM_POLLING_TIMEOUT": "1",
            "BOT_TELEGRAM_REQUEST_TIMEOUT": "5",
            "BOT_TELEGRAM_PER_CHAT_INTERVAL": "0.01",
            "BOT_SCHEDULER_ENABLED": "false",  # reminders depend on the clock: their own tests
            **{f"BOT_{k.upper()}": v for k, v in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.killed = False  # on purpose, by a test
        self.log = workdir / f"bot-{time.monotonic_ns()}.log"
        self.port = free_port()

    def start(self, *args: str, launcher: Sequence[str] = ()) -> BotProcess:
        """`python -m bot run` with `args`, started through `launcher` if one is given (a
        profiler, valgrind)."""
        self.webhook = "--webhook" in args
        command = [*launcher, sys.executable, "-m", "bot", "run", *args]
        if "--webhook" in args:
            command += ["--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        """Ready once the command menu is registered (and, polling, the first getUpdates)."""
        self.fake.wait_for(
            lambda: len(self.fake.sent("setMyCommands")) >= 3 or self._died(),
            what="bot start",
            timeout=timeout,
        )
        assert not self._died(), self.output()
        if self.webhook:
            # The command menu is registered before the web server listens.
            self.fake.wait_for(
                lambda: self._listening() or self._died(), what="webhook server", timeout=30
            )
            assert not self._died(), self.output()

    def _listening(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                return True
        except OSError:
            return False

    def _died(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self) -> int:
        """SIGTERM, as a service manager would; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return int(self.process.returncode)

    def kill(self) -> None:
        """A crash: no goodbye, no cleanup."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)
        self.killed = True

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
