"""Sending what the outbox holds: claim due rows, send each through the channels, record how it
went.

A row is held by its sender, then marked `sending` (and committed) right before its first
request leaves, after any wait for the rate limiter. A sender killed while waiting leaves the
row pending: another sender sends it once the hold runs out. A sender killed after the request
left leaves at most that one row `sending`; it is recorded as `unknown` after the lease, never
sent twice (a Bot API send has no idempotency key), while the rest of its batch is claimed
again and delivered. A clear failure is retried
with backoff; a permanent one is recorded; a row past the grace period is dropped, not sent late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session, col

from models.db import SessionFactory, transaction
from models.enums import OutboxState
from models.messages import (
    OutcomeUnknown,
    PermanentFailure,
    QuotaExceeded,
    Reply,
    TemporaryFailure,
)
from models.prepared import Prepared, Statement, run_together
from models.queue import (
    OutboxKind,
    OutboxMessage,
    ReplyPayload,
    claim_due_outbox,
    drop_stale_outbox,
    payload_of,
    recover_interrupted_outbox,
)
from models.tables import Outbox
from reminders.group_commit import GroupCommit
from reminders.planning import queue_quota_notices

log = logging.getLogger(__name__)


class Sender(Protocol):
    """What the channel adapters offer the outbox: send one reply to one chat."""

    async def send(
        self,
        *,
        channel: str,
        chat_id: str,
        reply: Reply,
        answers_message: str | None = None,
        leaving: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Send one message; call `leaving` right before its first request goes out."""
        ...


# Builds the message for a row at send time (so figures and language are current); None when
# there is nothing left to say (the task was done in the meantime).
Renderer = Callable[[Session, Outbox, datetime], Reply | None]


@dataclass
class SendResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    dropped: int = 0


@dataclass(frozen=True)
class Delivery:
    """A message this sender is sending: its row's attempts when the sender started it are
    the sender's mark (another sender taking the row over bumps them)."""

    message: OutboxMessage
    attempt: int


@dataclass(frozen=True)
class _Starting:
    """A message about to leave: its row goes from pending to sending, if it is still this
    sender's (its attempts as the sender left them; 0: a fresh row, started here)."""

    outbox_id: int
    attempt: int
    until: datetime

    def statement(self) -> Statement:
        if self.attempt == 0:
            return _START_FRESH, {"row_id": self.outbox_id, "until": self.until}
        return _START, {"row_id": self.outbox_id, "attempt": self.attempt, "until": self.until}


@dataclass(frozen=True)
class _Finishing:
    """How a message went: its row's new state, with the error, the time (of sending, for a
    message sent) and, for one to try again, when."""

    outbox_id: int
    state: OutboxState
    at: datetime
    error: str | None = None
    retry_at: datetime | None = None

    @property
    def sent(self) -> bool:
        return self.state == OutboxState.SENT and self.error is None and self.retry_at is None

    def values(self) -> dict[str, object]:
        values: dict[str, object] = {
            "state": self.state,
            "last_error": self.error[:500] if self.error else None,
        }
        if self.state == OutboxState.SENT:
            values["sent_at"] = self.at
        if self.retry_at is not None:
            values |= {"due_at": self.retry_at, "claimed_until": None}
        return values


# Written for every message sent: built once, their values bound per call, a statement a mark
# (a batch of marks goes to the database in one round trip on PostgreSQL: `_write_marks`).
# A row a sender took from the outbox (`_start` counted its attempt) starts as that sender
# left it; a fresh reply of this process starts with its first attempt counted.
_START = Prepared(
    sa.update(Outbox)
    .where(
        col(Outbox.id) == sa.bindparam("row_id"),
        col(Outbox.state) == OutboxState.PENDING,
        col(Outbox.attempts) == sa.bindparam("attempt"),
    )
    .values(state=OutboxState.SENDING, claimed_until=sa.bindparam("until"))
    .returning(col(Outbox.id))
)
_START_FRESH = Prepared(
    sa.update(Outbox)
    .where(
        col(Outbox.id) == sa.bindparam("row_id"),
        col(Outbox.state) == OutboxState.PENDING,
        col(Outbox.attempts) == 0,
    )
    .values(state=OutboxState.SENDING, claimed_until=sa.bindparam("until"), attempts=1)
    .returning(col(Outbox.id))
)
_SENT = Prepared(
    sa.update(Outbox)
    .where(col(Outbox.id) == sa.bindparam("row_id"))
    .values(state=OutboxState.SENT, last_error=None, sent_at=sa.bindparam("at"))
)
_FINISH = Prepared(sa.update(Outbox).where(col(Outbox.id) == sa.bindparam("row_id")))  # SET: given


class TakenOver(Exception):
    """Another sender took the row while this one waited (its hold ran out): it sends it."""


def retry_delay(attempts: int, *, reply: bool = False) -> timedelta:
    """1, 2, 4 … minutes, at most an hour; a reply, someone waits for it: 5, 10, 20 … seconds,
    at most a minute."""
    if reply:
        return timedelta(seconds=min(60, 5 * 2 ** (attempts - 1)))
    return timedelta(minutes=min(60, 2 ** (attempts - 1)))


class OutboxSender:
    def __init__(
        self,
        *,
        open_session: SessionFactory,
        sender: Sender,
        render: Renderer,
        grace: timedelta,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 50,
        max_attempts: int = 5,
    ) -> None:
        self.open_session = open_session
        self.sender = sender
        self.render = render
        self.grace = grace
        self.lease = lease
        self.batch = batch
        self.max_attempts = max_attempts
        self._marks = GroupCommit(self._write_marks)

    async def send_due(self, *, now: datetime, only: OutboxKind | None = None) -> SendResult:
        """Send every row (of one kind) due by `now`, batch after batch."""
        result = SendResult()
        claimed = await asyncio.to_thread(self._prepare_and_claim, now, result, only)
        while claimed:
            for outbox_id in claimed:
                await self._send_one(outbox_id, now, result)
            claimed = await asyncio.to_thread(self._claim, now, only)
        return result

    async def send_rows(self, replies: Sequence[OutboxMessage]) -> SendResult:
        """Send rows this process wrote and holds (the replies to an update), in order. Their
        content is known, so nothing is read back: the row is taken and marked `sending` in
        one statement right before the first request leaves, as any row is."""
        result = SendResult()
        for message in replies:
            await self._deliver(
                Delivery(message, attempt=1), datetime.now(UTC), result, fresh=True
            )
        return result

    def _prepare_and_claim(
        self, now: datetime, result: SendResult, only: OutboxKind | None
    ) -> list[int]:
        with transaction(self.open_session) as session:
            if recovered := recover_interrupted_outbox(session, now=now):
                log.warning(
                    "%d message(s) were being sent when a sender stopped: outcome unknown, not resent",
                    recovered,
                )
            result.unknown += recovered
            stale = drop_stale_outbox(session, due_before=now - self.grace)
        for key in stale:
            log.info("dropped %s: not sent within the grace period", key)
        result.dropped += len(stale)
        return self._claim(now, only)

    def _claim(self, now: datetime, only: OutboxKind | None) -> list[int]:
        with transaction(self.open_session) as session:
            rows = claim_due_outbox(
                session, now=now, lease=self.lease, limit=self.batch, only=only
            )
            return [row.id for row in rows if row.id is not None]

    def _start(self, outbox_id: int, now: datetime) -> Delivery | None:
        """Render the row and hold it for this sender, in one committed transaction; None if
        there is nothing left to say (then it is dropped). `TakenOver` if it is no longer
        waiting (another sender took it after this one's hold ran out)."""
        with transaction(self.open_session) as session:
            row = session.get(Outbox, outbox_id)
            assert row is not None
            if row.state != OutboxState.PENDING:
                raise TakenOver(outbox_id)
            reply = self.render(session, row, now)
            row.attempts += 1  # also this sender's mark: another taking the row over bumps it
            session.add(row)
            if reply is None:
                row.state, row.last_error = OutboxState.DROPPED, "nothing left to say"
                return None
            payload = payload_of(row)
            answers = payload.answers_message if isinstance(payload, ReplyPayload) else None
            message = OutboxMessage(outbox_id, row.key, row.channel, row.chat_id, reply, answers)
            return Delivery(message, attempt=row.attempts)

    async def _mark_sending(self, delivery: Delivery, now: datetime, *, fresh: bool) -> None:
        """The first request is about to leave: from now on the message may arrive, so a
        crash leaves it `sending` (then unknown), never to be sent twice. `TakenOver` if
        another sender started it meanwhile. `fresh`: a row this process just wrote and holds,
        not started yet (no attempts): it is started here too."""
        starting = _Starting(
            delivery.message.outbox_id,
            attempt=0 if fresh else delivery.attempt,
            until=now + self.lease,
        )
        if not await self._marks(starting):
            raise TakenOver(delivery.message.outbox_id)

    async def _finish(
        self,
        outbox_id: int,
        state: OutboxState,
        *,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        await self._marks(_Finishing(outbox_id, state, now, error, retry_at))

    def _write_marks(self, marks: Sequence[_Starting | _Finishing]) -> list[bool]:
        """The marks of every message that started or finished meanwhile, in the order they
        came, as one transaction (on PostgreSQL one round trip: `run_together`); for each,
        whether it applied (a start: the row was still this sender's)."""
        statements: list[Statement] = []
        for mark in marks:
            if isinstance(mark, _Starting):
                statements.append(mark.statement())
            elif mark.sent:
                statements.append((_SENT, {"row_id": mark.outbox_id, "at": mark.at}))
            else:
                statements.append((_FINISH, {"row_id": mark.outbox_id, **mark.values()}))
        with transaction(self.open_session) as session:
            answers = run_together(session.connection(), statements)
        return [
            not isinstance(mark, _Starting) or bool(rows)
            for mark, rows in zip(marks, answers, strict=True)
        ]

    async def _send_one(self, outbox_id: int, now: datetime, result: SendResult) -> None:
        try:
            delivery = await asyncio.to_thread(self._start, outbox_id, now)
        except TakenOver:
            return
        if delivery is None:
            result.dropped += 1
            return
        await self._deliver(delivery, now, result, fresh=False)

    async def _deliver(
        self, delivery: Delivery, now: datetime, result: SendResult, *, fresh: bool
    ) -> None:
        message = delivery.message
        outbox_id = message.outbox_id
        try:
            await self.sender.send(
                channel=message.channel,
                chat_id=message.chat_id,
                reply=message.reply,
                answers_message=message.answers_message,
                leaving=lambda: self._mark_sending(delivery, now, fresh=fresh),
            )
        except TakenOver:
            log.info("%s was taken over by another sender", message.key)
        except QuotaExceeded as error:
            await asyncio.to_thread(self._tell_of_quota, error, now)
            await self._retry_later(delivery, error, now, result)
        except TemporaryFailure as error:
            await self._retry_later(delivery, error, now, result)
        except PermanentFailure as error:
            await self._finish(outbox_id, OutboxState.FAILED, now=now, error=str(error))
            result.failed += 1
            log.warning("%s cannot be delivered: %s", message.key, error)
        except OutcomeUnknown as error:
            await self._finish(outbox_id, OutboxState.UNKNOWN, now=now, error=str(error))
            result.unknown += 1
        else:
            await self._finish(outbox_id, OutboxState.SENT, now=now)
            result.sent += 1

    async def _retry_later(
        self, delivery: Delivery, error: TemporaryFailure, now: datetime, result: SendResult
    ) -> None:
        attempts, key, outbox_id = (
            delivery.attempt,
            delivery.message.key,
            delivery.message.outbox_id,
        )
        if attempts >= self.max_attempts:
            await self._finish(outbox_id, OutboxState.FAILED, now=now, error=str(error))
            result.failed += 1
            log.error("%s failed %d times; giving up: %s", key, attempts, error)
            return
        await self._finish(
            outbox_id,
            OutboxState.PENDING,
            now=now,
            error=str(error),
            retry_at=now
            + retry_delay(attempts, reply=key.startswith(f"{OutboxKind.REPLY.value}:")),
        )
        result.retried += 1

    def _tell_of_quota(self, error: QuotaExceeded, now: datetime) -> None:
        with transaction(self.open_session) as session:
            queue_quota_notices(
                session, exhausted=error.channel, description=error.description, now=now
            )
