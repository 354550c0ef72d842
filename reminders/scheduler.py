"""APScheduler 3 drives the outbox: a short interval job plans and sends; cron jobs queue the
digests. Every job is idempotent (unique outbox keys), so a missed or doubled run does no harm."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from models.db import SessionFactory, transaction
from reminders.outbox import OutboxSender, SendResult
from reminders.planning import Planner, queue_digests
from reminders.retention import purge

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """When the jobs run (from the settings, see `bot.app`)."""

    interval_seconds: int  # planning and sending
    digest_days: str  # cron day_of_week, e.g. "mon,thu"
    digest_time: time


class ReminderService:
    """Plans and sends; the scheduler calls it, and so can a test or a command."""

    def __init__(
        self,
        *,
        open_session: SessionFactory,
        planner: Planner,
        outbox: OutboxSender,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.open_session = open_session
        self.planner = planner
        self.outbox = outbox
        self.clock = clock
        self._lock = asyncio.Lock()
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @asynccontextmanager
    async def _job(self) -> AsyncIterator[None]:
        """Count a job as running, so a stopping process can wait for it to finish."""
        self._running += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._running -= 1
            if not self._running:
                self._idle.set()

    async def wait_idle(self) -> None:
        """Wait until no job is running."""
        await self._idle.wait()

    async def tick(self) -> SendResult:
        """Plan what is due around now, then send what is due."""
        async with self._job(), self._lock:  # one tick at a time here; other processes: claims
            now = self.clock()
            planned = await asyncio.to_thread(self.plan_once, now)
            result = await self.outbox.send_due(now=now)
            if planned or result.sent or result.failed or result.dropped:
                log.info("reminders: %d planned, %s", planned, result)
            return result

    def plan_once(self, now: datetime) -> int:
        """One planning pass, in its own transaction (each tick; the `tick` command)."""
        with transaction(self.open_session) as session:
            return self.planner.plan(session, now=now)

    async def purge(self) -> dict[str, int]:
        """Forget delivery ids, handled updates, expired images and old outbox rows."""
        now = self.clock()

        def run() -> dict[str, int]:
            with transaction(self.open_session) as session:
                return purge(session, now=now)

        async with self._job():
            removed = await asyncio.to_thread(run)
        log.info("retention: removed %s", removed)
        return removed

    async def digests(self) -> SendResult:
        """Queue this digest time's digests for every bound group, and send them."""
        async with self._job():
            now = self.clock()
            with transaction(self.open_session) as session:
                queued = queue_digests(session, now=now)
            log.info("digests: %d queued", queued)
            return await self.tick()


def build_scheduler(
    service: ReminderService, *, schedule: Schedule, zone: object
) -> AsyncIOScheduler:
    """The scheduler (not started) with the planning/sending job and the digest cron job.
    APScheduler is imported here: a process that does not schedule does not carry it."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = AsyncIOScheduler(timezone=zone)
    scheduler.add_job(
        service.tick,
        "interval",
        seconds=schedule.interval_seconds,
        id="reminders",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        service.digests,
        CronTrigger(
            day_of_week=schedule.digest_days,
            hour=schedule.digest_time.hour,
            minute=schedule.digest_time.minute,
            timezone=zone,
        ),
        id="digests",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        service.purge,
        CronTrigger(hour=2, minute=30, timezone=zone),
        id="retention",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
    return scheduler
