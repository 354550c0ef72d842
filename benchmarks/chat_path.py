"""The chat path: CPU per handled Telegram update, throughput and idle memory of the real
`python -m bot run`, beside a bare aiogram bot (benchmarks/bare_aiogram_bot.py) on the same fake
Bot API.

    python benchmarks/chat_path.py --database-url sqlite:////tmp/hcm.db
    python benchmarks/chat_path.py --database-url postgresql+psycopg://…/bench_hcm --repeat 5

The data set is one province (Hồ Chí Minh: 168 units, 16,800 assignments, ~210,000 reports),
generated on first use by benchmarks/national_data.py; the bot runs on a scratch copy of it (a
file copy; on PostgreSQL `CREATE DATABASE … TEMPLATE`), so the reports and inbox rows of one
run do not weigh on the next and runs compare. USERS officers of as many units talk at once, in lockstep: each sends the next
step when the previous answer has arrived. Two workloads: the guided report (/baocao, the task,
the status, the percentage, a line of results, no blockers, no proposals, no evidence, save:
nine updates) and the quick report (`/baocao CODE 60% …`, one update). The bare bot receives
the same number of messages and button presses and answers each with one message or edit.
The per-chat pacing of one message a second is lowered and the overall one raised for both,
since the bare bot has none: what is measured is the work per update.

Each bot first walks every officer through one guided and one quick report unmeasured (a
warm-up: a steady bot has its database connections open and its caches filled; the first
connections' set-up alone was 3 % of a measured run's instructions on PostgreSQL), then the
measured walk. Printed: idle memory (VmRSS after start and three quiet seconds, before the
warm-up), CPU time (user + system) per update, updates per second, and the ratios to the bare
bot; with `--repeat N`, N alternating runs of both bots (each project run on its own scratch
copy) and the medians.

CPU time on a shared virtual machine varies from run to run (here by ±30 % for both bots, not
always together). `--instructions` runs both bots under valgrind's callgrind and counts the
instructions each executes per update instead: the same count run after run (±1 %), fifty
times slower to get (minutes).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.national_data import prepare, scratch_copies  # noqa: E402
from tests.fake_telegram import FakeTelegram, button_update, text_update  # noqa: E402
from tests.telegram_harness import TOKEN, BotProcess  # noqa: E402

USERS = 40
GUIDED_ROUNDS = 2
QUICK_ROUNDS = 5
TICKS = os.sysconf("SC_CLK_TCK")

# (what the officer does, what to press or type, a part of the answer that ends the step)
GUIDED = [
    ("text", "/baocao", "Bạn báo cáo nhiệm vụ nào"),
    ("task", "", "Tình trạng hiện nay"),
    ("button", "Đang thực hiện", "bao nhiêu phần trăm"),
    ("text", "60", "Đã thực hiện được những gì"),
    ("text", "Đã trình dự thảo kế hoạch thực hiện", "Có khó khăn"),
    ("button", "Không có vướng mắc", "kiến nghị"),
    ("button", "Không có kiến nghị", "minh chứng"),
    ("button", "Không có minh chứng", "kiểm tra lại báo cáo"),
    ("button", "Lưu", "Đã lưu"),
]


class Answers:
    """Every text each chat has been sent (or edited into), read from the fake's calls as they
    come, so waiting costs little of the CPU the bots share with this process."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.read = 0
        self.texts: dict[int, list[str]] = {}

    def refresh(self) -> None:
        with self.fake._lock:
            new = self.fake.calls[self.read :]
        finished = 0
        for call in new:
            if call.status == 0 and call.method != "getUpdates":
                break  # not answered yet: read again next time (a long poll may wait long)
            finished += 1
            if call.status == 200 and call.method in ("sendMessage", "editMessageText"):
                chat = int(call.params["chat_id"])
                self.texts.setdefault(chat, []).append(str(call.params["text"]))
        self.read += finished

    def count(self, chat: int) -> int:
        return len(self.texts.get(chat, []))

    def wait(self, done: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.refresh()
            if done():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer: {what}")
            time.sleep(0.002)


@dataclass
class Measure:
    idle_rss_mb: float
    updates: int
    cpu_seconds: float
    wall_seconds: float
    instructions: int | None = None  # under callgrind, while the updates were handled

    @property
    def instructions_per_update(self) -> float | None:
        return None if self.instructions is None else self.instructions / self.updates

    @property
    def cpu_ms_per_update(self) -> float:
        return 1000 * self.cpu_seconds / self.updates

    @property
    def per_second(self) -> float:
        return self.updates / self.wall_seconds


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


@dataclass(frozen=True)
class Officer:
    user_id: int  # on Telegram
    assignment_id: int  # an open task of the unit without an indicator: nine steps to report
    code: str  # its task's code


def officers(url: str) -> list[Officer]:
    """USERS officers of different units, each with a task to report on."""
    chosen = (
        "SELECT CAST(a.external_id AS BIGINT) AS user_id, MIN(s.id) AS assignment_id "
        "FROM officer o JOIN channelaccount a ON a.officer_id = o.id AND a.channel = 'telegram' "
        "JOIN assignment s ON s.unit_id = o.unit_id JOIN task t ON t.id = s.task_id "
        "WHERE o.role = 'officer' AND t.indicator IS NULL AND s.status != 'done' "
        "GROUP BY a.external_id ORDER BY 1 LIMIT :n"
    )
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                f"SELECT c.user_id, c.assignment_id, t.code FROM ({chosen}) c "
                "JOIN assignment s ON s.id = c.assignment_id JOIN task t ON t.id = s.task_id "
                "ORDER BY 1"
            ),
            {"n": USERS},
        ).all()
    engine.dispose()
    return [Officer(int(user), int(assignment), str(code)) for user, assignment, code in rows]


@dataclass
class Callgrind:
    """Both bots under valgrind's callgrind, counting only while the updates are handled."""

    folder: Path
    counted: dict[int, int] = field(default_factory=dict)  # pid: instructions

    SLOWER = 50  # than without it, roughly: every wait is stretched by as much

    def launcher(self) -> list[str]:
        return [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={self.folder}/callgrind.%p",
        ]

    def count(self, pid: int, *, on: bool) -> None:
        switch = "on" if on else "off"
        subprocess.run(
            ["callgrind_control", "--instr", switch, str(pid)],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def instructions(self, pid: int) -> int:
        """The count of a process that has ended (callgrind writes it at exit)."""
        text = (self.folder / f"callgrind.{pid}").read_text()
        found = re.search(r"^totals: (\d+)", text, re.MULTILINE)
        assert found is not None, "callgrind wrote no totals"
        return int(found.group(1))


def walk(
    fake: FakeTelegram,
    answers: Answers,
    users: list[Officer],
    *,
    guided_rounds: int,
    quick_rounds: int,
    bare: bool,
    slower: int,
) -> int:
    """Every officer through `guided_rounds` guided reports, then `quick_rounds` quick ones,
    in lockstep; the number of updates sent."""
    updates = 0

    def step(action: str, value: str, expect: str) -> None:
        nonlocal updates
        answers.refresh()
        seen = {o.user_id: answers.count(o.user_id) for o in users}
        for officer in users:
            user = officer.user_id
            if action == "text":
                fake.push(text_update(user, value.replace("CODE", officer.code)))
            elif bare:
                fake.push(button_update(fake, user, ""))
            elif action == "task":  # the button of this task (it may be on a later page)
                fake.push(button_update(fake, user, "", data=f"rep:{officer.assignment_id}"))
            else:
                fake.push(button_update(fake, user, value))
        updates += len(users)

        def waiting() -> list[int]:
            return [
                o.user_id
                for o in users
                if not (texts := answers.texts.get(o.user_id, [])[seen[o.user_id] :])
                or (not bare and not any(expect in t for t in texts))
            ]

        try:
            answers.wait(
                lambda: not waiting(), f"{value or action} -> {expect}", timeout=120.0 * slower
            )
        except TimeoutError:
            late = waiting()
            last = answers.texts.get(late[0], [])[-2:]
            raise TimeoutError(
                f"{len(late)} still wait for {expect!r}; {late[0]}: {last}"
            ) from None

    for _ in range(guided_rounds):
        for action, value, expect in GUIDED:
            step(action, value, expect)
    for round_ in range(quick_rounds):
        step("text", f"/baocao CODE {50 + round_}% Đã hoàn thành bước {round_ + 1}", "Đã lưu")
    return updates


def drive(
    fake: FakeTelegram,
    pid: int,
    users: list[Officer],
    *,
    bare: bool,
    callgrind: Callgrind | None = None,
) -> Measure:
    """Idle memory after start, then a warm-up walk (one guided and one quick report each:
    the connections a steady bot holds are opened, its caches filled), then the measured
    walk."""
    answers = Answers(fake)
    slower = callgrind.SLOWER if callgrind else 1
    time.sleep(3 * (10 if callgrind else 1))  # quiet: what it holds when nobody writes
    idle = rss_mb(pid)
    walk(fake, answers, users, guided_rounds=1, quick_rounds=1, bare=bare, slower=slower)
    if callgrind:
        callgrind.count(pid, on=True)
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    updates = walk(
        fake,
        answers,
        users,
        guided_rounds=GUIDED_ROUNDS,
        quick_rounds=QUICK_ROUNDS,
        bare=bare,
        slower=slower,
    )
    measure = Measure(
        idle_rss_mb=idle,
        updates=updates,
        cpu_seconds=cpu_seconds(pid) - cpu_before,
        wall_seconds=time.monotonic() - started,
    )
    if callgrind:
        callgrind.count(pid, on=False)
    return measure


def first_new_update_id(engine: sa.Engine) -> int:
    """Above every update id the database has seen: a run on a database kept from an earlier
    run must not have its updates taken for Telegram's resends (and dropped)."""
    with engine.connect() as connection:
        seen = connection.execute(
            sa.text(
                "SELECT MAX(CAST(delivery_id AS BIGINT)) FROM inboxupdate "
                "WHERE channel = 'telegram'"
            )
        ).scalar()
    return max(1000, int(seen or 0) + 1)


def run_project(
    url: str, users: list[Officer], folder: Path, callgrind: Callgrind | None
) -> Measure:
    engine = sa.create_engine(url)
    fake = FakeTelegram(token=TOKEN, first_update_id=first_new_update_id(engine)).start()
    slow = {"telegram_request_timeout": "300", "reply_hold_seconds": "600"} if callgrind else {}
    bot = BotProcess(
        engine=engine,
        fake=fake,
        workdir=folder,
        telegram_per_chat_interval="0",
        telegram_global_per_second="100000",
        telegram_polling_timeout="1",
        **slow,
    ).start(launcher=callgrind.launcher() if callgrind else ())
    try:
        bot.wait_ready(timeout=60 * (callgrind.SLOWER if callgrind else 1))
        assert bot.process is not None
        measure = drive(fake, bot.process.pid, users, bare=False, callgrind=callgrind)
    finally:
        bot.stop()
        fake.stop()
        engine.dispose()
    if callgrind and bot.process is not None:
        measure.instructions = callgrind.instructions(bot.process.pid)
    return measure


def run_bare(users: list[Officer], callgrind: Callgrind | None) -> Measure:
    fake = FakeTelegram(token=TOKEN).start()
    launcher = callgrind.launcher() if callgrind else []
    process = subprocess.Popen(
        [*launcher, sys.executable, str(ROOT / "benchmarks" / "bare_aiogram_bot.py")],
        env={**os.environ, "BARE_TOKEN": TOKEN, "BARE_API_BASE": fake.base},
    )
    try:
        fake.wait_for(
            lambda: bool(fake.sent("getUpdates")),
            what="bare bot start",
            timeout=60 * (callgrind.SLOWER if callgrind else 1),
        )
        measure = drive(fake, process.pid, users, bare=True, callgrind=callgrind)
    finally:
        process.terminate()
        process.wait(20 * (callgrind.SLOWER if callgrind else 1))
        fake.stop()
    if callgrind:
        measure.instructions = callgrind.instructions(process.pid)
    return measure


def print_run(title: str, project: Measure, bare: Measure) -> tuple[float, float, float]:
    """One run's lines; its ratios (idle memory, CPU per update, throughput)."""
    counted = project.instructions_per_update is not None
    print(title)
    extra = f" {'M instructions/update':>22}" if counted else ""
    print(f"{'':24} {'idle MB':>8} {'CPU ms/update':>14} {'updates/s':>10}{extra}")
    for name, measure in (("python -m bot run", project), ("bare aiogram bot", bare)):
        instructions = measure.instructions_per_update
        print(
            f"{name:24} {measure.idle_rss_mb:8.0f} {measure.cpu_ms_per_update:14.2f}"
            f" {measure.per_second:10.0f}"
            + (f" {instructions / 1e6:22.2f}" if instructions is not None else "")
        )
    ratios = (
        project.idle_rss_mb / bare.idle_rss_mb,
        project.cpu_ms_per_update / bare.cpu_ms_per_update,
        project.per_second / bare.per_second,
    )
    extra = ""
    if project.instructions_per_update and bare.instructions_per_update:
        extra = f" {project.instructions_per_update / bare.instructions_per_update:22.2f}"
    print(
        f"{'ratio (project / bare)':24} {ratios[0]:8.2f} {ratios[1]:14.2f} {ratios[2]:10.2f}"
        + extra
    )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--province", default="Hồ Chí Minh")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per update under valgrind's callgrind (minutes)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of both bots, alternating (each bot on a fresh scratch copy); the medians",
    )
    arguments = parser.parse_args()
    engine = prepare(arguments.database_url, province=arguments.province)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    users = officers(url)
    names = tuple(f"chat{run}" for run in range(arguments.repeat))
    runs: list[tuple[Measure, Measure, tuple[float, float, float]]] = []
    with scratch_copies(url, names) as copies:
        for run, copy in enumerate(copies, start=1):
            with tempfile.TemporaryDirectory() as folder:
                callgrind = Callgrind(Path(folder)) if arguments.instructions else None
                project = run_project(copy, users, Path(folder), callgrind)
                bare = run_bare(users, callgrind)
            title = (
                f"{sa.make_url(url).get_backend_name()}: {len(users)} officers at once, "
                f"{project.updates} updates after a warm-up"
                + (" (under callgrind)" if callgrind else "")
                + (f", run {run} of {len(copies)}" if len(copies) > 1 else "")
            )
            runs.append((project, bare, print_run(title, project, bare)))
    if len(runs) > 1:
        print(f"medians of {len(runs)} runs")
        print(f"{'':24} {'idle MB':>8} {'CPU ms/update':>14} {'updates/s':>10}")
        projects = [project for project, _, _ in runs]
        bares = [bare for _, bare, _ in runs]
        for name, measures in (("python -m bot run", projects), ("bare aiogram bot", bares)):
            print(
                f"{name:24} {median(m.idle_rss_mb for m in measures):8.0f}"
                f" {median(m.cpu_ms_per_update for m in measures):14.2f}"
                f" {median(m.per_second for m in measures):10.0f}"
            )
        ratios = [run[2] for run in runs]
        print(
            f"{'ratio (project / bare)':24} {median(r[0] for r in ratios):8.2f}"
            f" {median(r[1] for r in ratios):14.2f} {median(r[2] for r in ratios):10.2f}"
            f"  (CPU ratio {min(r[1] for r in ratios):.2f}–{max(r[1] for r in ratios):.2f},"
            f" throughput ratio {min(r[2] for r in ratios):.2f}–{max(r[2] for r in ratios):.2f})"
        )


if __name__ == "__main__":
    main()
