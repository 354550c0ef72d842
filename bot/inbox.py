"""The inbox: every update is written to the database before it is acknowledged, then handled.

A webhook answers 200 only once the update is stored, and polling asks for the next batch (which
confirms the last one to Telegram) only after the batch is stored; so a crash never loses an
update. The worker that stores an update holds it from that moment and hands it straight to the
handlers, without reading it back; the inbox is swept only for what others left: updates left
unhandled by a crash are handled after the restart, before anything new (or, once the dead
worker's lease on them runs out, by another worker). Updates of one chat are handled one at a
time, in the order they came; different chats go in parallel.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from models.db import SessionFactory, transaction
from models.queue import claim_inbox, mark_inbox_handled, store_inbox_many

log = logging.getLogger(__name__)

Payload = dict[str, Any]
Parsed = TypeVar("Parsed")  # what a channel reads a payload into


class UnreadableUpdate(Exception):
    """A stored update its channel cannot make sense of (a shape it does not know)."""


class Inbox(Generic[Parsed]):
    """Stores a channel's raw updates and feeds them, per chat in order, to `process`, with
    what the channel had read them into when it stored them (None for one read back)."""

    def __init__(
        self,
        *,
        channel: str,
        open_session: SessionFactory,
        process: Callable[[Payload, Parsed | None], Awaitable[bool]],
        chat_of: Callable[[Payload], str],
        batch: int = 100,
        idle_check: float = 5.0,
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.channel = channel
        self.open_session = open_session
        self.process = process
        self.chat_of = chat_of
        self.batch = batch
        self.idle_check = idle_check
        self.lease = lease
        self._swept = asyncio.Event()  # the first sweep (what a crash left) has been started
        self._in_flight: set[str] = set()
        self._chat_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task[None]] = set()

    async def put(self, delivery_id: str, payload: Payload, parsed: Parsed | None = None) -> bool:
        """Store one update (False if it is a resend) and start handling it."""
        [stored] = await self.put_many([(delivery_id, payload, parsed)])
        return stored

    async def put_many(self, updates: Sequence[tuple[str, Payload, Parsed | None]]) -> list[bool]:
        """Store a batch of updates in one transaction (each False if it is a resend), held
        by this worker, and start handling them, each with what the channel read it into
        (not read again). Waits for `run` to have taken up what a crash left, so that a
        chat's older updates go first."""
        await self._swept.wait()
        stored = await asyncio.to_thread(self._store, updates)
        for (delivery_id, payload, parsed), new in zip(updates, stored, strict=True):
            if new:
                self._start(delivery_id, payload, parsed)
        return stored

    def _store(self, updates: Sequence[tuple[str, Payload, Parsed | None]]) -> list[bool]:
        at = datetime.now(UTC)
        with transaction(self.open_session) as session:
            return store_inbox_many(
                session,
                channel=self.channel,
                updates=[(delivery_id, payload) for delivery_id, payload, _parsed in updates],
                at=at,
                held_until=at + self.lease,
            )

    def _start(self, delivery_id: str, payload: Payload, parsed: Parsed | None) -> None:
        """Handle an update this worker holds, after the chat's earlier ones."""
        if delivery_id in self._in_flight:
            return
        self._in_flight.add(delivery_id)
        task = asyncio.create_task(self._handle(delivery_id, payload, parsed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self) -> None:
        """Sweep the inbox for updates nobody holds (a crash left them, or a dead worker's
        lease ran out) and handle them, until cancelled; the first sweep comes before any
        update this worker stores."""
        try:
            while True:
                try:
                    rows = await asyncio.to_thread(self._pending)
                except SQLAlchemyError as error:
                    log.warning(
                        "%s inbox unreadable (%s); again shortly",
                        self.channel,
                        type(error).__name__,
                    )
                    await asyncio.sleep(1.0)
                    continue
                for delivery_id, payload in rows:
                    self._start(delivery_id, payload, None)
                if len(rows) < self.batch:
                    self._swept.set()
                    await asyncio.sleep(self.idle_check)
                else:
                    await asyncio.sleep(0)
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def drain(self) -> None:
        """Wait for the updates being handled now."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _pending(self) -> list[tuple[str, Payload]]:
        with transaction(self.open_session) as session:
            rows = claim_inbox(
                session,
                channel=self.channel,
                now=datetime.now(UTC),
                lease=self.lease,
                limit=self.batch,
            )
            return [(row.delivery_id, row.payload) for row in rows]

    async def _handle(self, delivery_id: str, payload: Payload, parsed: Parsed | None) -> None:
        # Tasks are created in arrival order and the lock is FIFO: a chat's updates keep their order.
        async with self._chat_locks[self.chat_of(payload)]:
            error: str | None = None
            try:
                if await self.process(payload, parsed):
                    # Marked handled in the handlers' own transaction, with the change.
                    self._in_flight.discard(delivery_id)
                    return
            except asyncio.CancelledError:
                raise
            except OperationalError as problem:
                # The database is away for a moment: left unmarked, the update is offered
                # again once this worker's lease on it runs out.
                log.warning(
                    "%s update %s waits for the database (%s)",
                    self.channel,
                    delivery_id,
                    type(problem).__name__,
                )
                self._in_flight.discard(delivery_id)
                return
            except UnreadableUpdate as problem:
                # Set aside once, with one line: not tried again, not a traceback per try.
                error = f"unreadable: {problem}"
                log.warning("%s update %s set aside: %s", self.channel, delivery_id, error)
            except Exception as problem:
                # A handler bug must not stop the inbox nor loop on the same update forever.
                error = f"{type(problem).__name__}: {problem}"
                log.exception("%s update %s set aside", self.channel, delivery_id)
            try:
                await asyncio.to_thread(self._mark_handled, delivery_id, error)
            except SQLAlchemyError:
                # Left unmarked, it is offered again; the handlers' delivery record stops a redo.
                log.warning("%s update %s handled but not marked", self.channel, delivery_id)
        self._in_flight.discard(delivery_id)

    def _mark_handled(self, delivery_id: str, error: str | None) -> None:
        with transaction(self.open_session) as session:
            mark_inbox_handled(
                session,
                channel=self.channel,
                delivery_id=delivery_id,
                at=datetime.now(UTC),
                error=error,
            )
