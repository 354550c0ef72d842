"""The two queues in the database: the inbox of raw updates and the outbox of messages to send.

Every kind of outbox message is declared here once: an `OutboxKind`, one payload model that says
what the row carries, and the template of its unique key (one occurrence, one row, however
often planning runs). Both queues hand rows to workers under a lease, so a worker that dies
only delays its rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.enums import OutboxState
from models.messages import Reply
from models.prepared import Prepared, Statement
from models.sql import (
    insert_ignoring_conflict,
    insert_many_returning,
    insert_returning_id,
    insert_returning_id_committing,
    is_postgresql,
)
from models.tables import InboxUpdate, Outbox, SeenDelivery

log = logging.getLogger(__name__)


class OutboxKind(StrEnum):
    """What an outbox row is; its payload model below says what it carries."""

    REMINDER = "reminder"  # before a deadline
    OVERDUE = "overdue"  # a daily nudge after it
    ESCALATION = "escalation"  # to the unit lead, once the nudges ran out
    SNOOZE = "snooze"  # a reminder again on the next working morning
    DIGEST = "digest"  # to a bound group
    QUOTA = "quota"  # to the secretariat: a messenger's sending quota is spent
    REPLY = "reply"  # the answer to an update, stored with the change it reports

    @property
    def snoozable(self) -> bool:
        """Reminders carry a "remind me next working day" button."""
        return self in (OutboxKind.REMINDER, OutboxKind.OVERDUE, OutboxKind.SNOOZE)


class OutboxPayload(BaseModel):
    """What an outbox row carries, as stored in its JSON column."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: OutboxKind
    # The rest of the unique key after "kind:"; formatted with the fields, `channel` and `chat_id`.
    key_template: ClassVar[str]

    def key(self, *, channel: str, chat_id: str) -> str:
        """The row's unique key: the same occurrence always gets the same key."""
        values = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self).key_of(values, channel=channel, chat_id=chat_id)

    @classmethod
    def key_of(cls, values: Mapping[str, Any], *, channel: str, chat_id: str) -> str:
        """The key of the payload `cls(**values)` would be, without building it (planning
        checks tens of thousands of keys that are mostly queued already)."""
        kind: OutboxKind = cls.model_fields["kind"].default
        rest = cls.key_template.format(channel=channel, chat_id=chat_id, **values)
        return f"{kind.value}:{rest}"


class AssignmentNotice(OutboxPayload):
    """A message to one officer's chat account about one assignment falling due on `due`."""

    account_id: int
    assignment_id: int
    due: date
    period_start: date | None = None  # periodic tasks: the period the reminder is for


class ReminderPayload(AssignmentNotice):
    kind: Literal[OutboxKind.REMINDER] = OutboxKind.REMINDER
    key_template = "{assignment_id}:{account_id}:{days_before}:{due}"
    days_before: int


class OverduePayload(AssignmentNotice):
    kind: Literal[OutboxKind.OVERDUE] = OutboxKind.OVERDUE
    key_template = "{assignment_id}:{account_id}:{nudge}:{due}"
    nudge: int


class EscalationPayload(AssignmentNotice):
    kind: Literal[OutboxKind.ESCALATION] = OutboxKind.ESCALATION
    key_template = "{assignment_id}:{account_id}:{due}"


class SnoozePayload(AssignmentNotice):
    kind: Literal[OutboxKind.SNOOZE] = OutboxKind.SNOOZE
    key_template = "{snoozed}@{day}"
    snoozed: str = ""  # the key of the reminder snoozed (without "snooze:")
    day: date | None = None  # the working day it comes again


class DigestPayload(OutboxPayload):
    kind: Literal[OutboxKind.DIGEST] = OutboxKind.DIGEST
    key_template = "{channel}:{chat_id}:{at}"
    at: datetime  # the digest time it was queued for
    unit_id: int | None = None  # None: the whole province


class QuotaPayload(OutboxPayload):
    kind: Literal[OutboxKind.QUOTA] = OutboxKind.QUOTA
    key_template = "{exhausted}:{channel}:{chat_id}:{day}"  # once a day per group
    exhausted: str  # the messenger whose quota is spent
    description: str = Field(default="", max_length=200)
    day: date


class ReplyPayload(OutboxPayload):
    kind: Literal[OutboxKind.REPLY] = OutboxKind.REPLY
    key_template = "{channel}:{chat_id}:{delivery}:{index}"
    delivery: str  # the update it answers
    index: int  # its place among that update's replies
    reply: Reply
    answers_message: str | None = None  # the message it may edit (the first reply only)


AnyPayload = Annotated[
    ReminderPayload
    | OverduePayload
    | EscalationPayload
    | SnoozePayload
    | DigestPayload
    | QuotaPayload
    | ReplyPayload,
    Field(discriminator="kind"),
]
_PAYLOAD = TypeAdapter[AnyPayload](AnyPayload)


def payload_of(row: Outbox) -> AnyPayload | None:
    """The typed payload of a row; None (and a log line) if it cannot be read."""
    try:
        return _PAYLOAD.validate_python(row.payload)
    except ValidationError as error:
        log.warning("outbox row %s has an unreadable payload: %s", row.key, error.errors()[:1])
        return None


def enqueue(
    session: Session,
    payload: OutboxPayload,
    *,
    channel: str,
    chat_id: str,
    due_at: datetime,
    now: datetime,
    held_until: datetime | None = None,
) -> bool:
    """Write one message to send at `due_at`; False if this occurrence is already queued.
    `held_until`: the writer sends it itself, other senders leave it alone until then."""
    return (
        enqueued_id(
            session,
            payload,
            channel=channel,
            chat_id=chat_id,
            due_at=due_at,
            now=now,
            held_until=held_until,
        )
        is not None
    )


def enqueued_id(
    session: Session,
    payload: OutboxPayload,
    *,
    channel: str,
    chat_id: str,
    due_at: datetime,
    now: datetime,
    held_until: datetime | None = None,
    commits: bool = False,
) -> int | None:
    """`enqueue`, answering the new row's id (None if the occurrence was already queued).
    `commits`: the transaction's last change, committed with it where the driver allows
    (`models.sql.insert_returning_id_committing`)."""
    insert = insert_returning_id_committing if commits else insert_returning_id
    return insert(
        session,
        Outbox,
        key=payload.key(channel=channel, chat_id=chat_id),
        channel=channel,
        chat_id=chat_id,
        due_at=due_at,
        payload=payload.model_dump(mode="json"),
        state=OutboxState.PENDING,
        attempts=0,
        created_at=now,
        claimed_until=held_until,
    )


@dataclass(frozen=True)
class OutboxMessage:
    """An outbox row and the message it carries: enough to send it without reading the row
    again (the replies a process has just written, a row a sender has started)."""

    outbox_id: int
    key: str
    channel: str
    chat_id: str
    reply: Reply
    answers_message: str | None


def queue_replies(
    session: Session,
    *,
    channel: str,
    chat_id: str,
    delivery: str,
    replies: Sequence[Reply],
    answers_message: str | None,
    now: datetime,
    held_for: timedelta,
    commits: bool = False,
) -> list[OutboxMessage]:
    """The replies to one update as outbox rows, in the transaction of the change they report;
    this process holds them for `held_for` to send them at once, then any sender may.
    `commits`: they are the transaction's last changes; the last row's insert commits them
    all where the driver allows (`enqueued_id`). The session's commit must still follow."""
    payloads = [
        ReplyPayload(
            delivery=delivery,
            index=index,
            reply=reply,
            answers_message=answers_message if index == 0 else None,
        )
        for index, reply in enumerate(replies)
    ]
    queued: list[OutboxMessage] = []
    for index, payload in enumerate(payloads):
        key = payload.key(channel=channel, chat_id=chat_id)
        row_id = enqueued_id(
            session,
            payload,
            channel=channel,
            chat_id=chat_id,
            due_at=now,
            now=now,
            held_until=now + held_for,
            commits=commits and index == len(payloads) - 1,
        )
        if row_id is None:  # queued before (not expected: deliveries are handled once); a
            # read, which may come after the commit
            row_id = session.exec(select(Outbox.id).where(Outbox.key == key)).first()
        if row_id is not None:
            queued.append(
                OutboxMessage(
                    row_id, key, channel, chat_id, payload.reply, payload.answers_message
                )
            )
    return queued


def outbox_row(session: Session, *, payload: OutboxPayload, channel: str, chat_id: str) -> Outbox:
    """The row of this occurrence (it must have been queued)."""
    key = payload.key(channel=channel, chat_id=chat_id)
    return session.exec(select(Outbox).where(Outbox.key == key)).one()


def last_sent(
    session: Session, *, kind: OutboxKind, channel: str, chat_id: str
) -> datetime | None:
    """When a message of `kind` last reached this chat."""
    return session.exec(
        select(sa.func.max(Outbox.sent_at)).where(
            Outbox.channel == channel,
            Outbox.chat_id == chat_id,
            Outbox.state == OutboxState.SENT,
            col(Outbox.key).startswith(f"{kind.value}:"),
        )
    ).first()


# ---- the outbox's senders ------------------------------------------------------------------


def _of_kind(kind: OutboxKind) -> Any:
    return col(Outbox.key).startswith(f"{kind.value}:")


def claim_due_outbox(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    only: OutboxKind | None = None,
) -> list[Outbox]:
    """Take up to `limit` due rows (of one kind) for this sender for `lease`; other senders
    skip them."""
    query = (
        select(Outbox)
        .where(Outbox.state == OutboxState.PENDING, col(Outbox.due_at) <= now)
        .order_by(col(Outbox.due_at), col(Outbox.id))
        .limit(limit)
    )
    if only is not None:
        query = query.where(_of_kind(only))
    return _take_with_lease(session, Outbox, query, now=now, lease=lease)


def drop_stale_outbox(session: Session, *, due_before: datetime) -> list[str]:
    """Give up on notices that waited past the grace period; returns their keys. Replies are
    never given up: late, "Saved ✅" still tells the officer the report is safe."""
    keys = list(
        session.exec(
            select(Outbox.key).where(
                Outbox.state == OutboxState.PENDING,
                col(Outbox.due_at) < due_before,
                sa.not_(_of_kind(OutboxKind.REPLY)),
            )
        ).all()
    )
    if keys:
        session.execute(
            sa.update(Outbox)
            .where(col(Outbox.key).in_(keys))
            .values(state=OutboxState.DROPPED, last_error="past the grace period")
        )
    return keys


def recover_interrupted_outbox(session: Session, *, now: datetime) -> int:
    """Rows left 'sending' by a sender that died: their outcome is unknown, so they are not
    sent again (a Bot API send has no idempotency key)."""
    result = session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.state) == OutboxState.SENDING,
            sa.or_(col(Outbox.claimed_until).is_(None), col(Outbox.claimed_until) < now),
        )
        .values(state=OutboxState.UNKNOWN, last_error="the sender stopped while sending")
    )
    return int(getattr(result, "rowcount", 0) or 0)


# ---- the inbox -----------------------------------------------------------------------------


def record_delivery(session: Session, *, channel: str, delivery_id: str, at: datetime) -> bool:
    """Remember an inbound delivery; False if it was handled before."""
    return insert_ignoring_conflict(
        session, SeenDelivery, channel=channel, delivery_id=delivery_id, received_at=at
    )


def take_delivery(
    session: Session,
    *,
    channel: str,
    delivery_id: str,
    chat_id: str,
    received_at: datetime,
    at: datetime,
) -> bool:
    """The handlers take a delivery, in the transaction of its change: True the first time,
    False if it was handled before. A delivery that came through the inbox is marked handled
    there, and that mark is the guard (one statement; on PostgreSQL a second worker on the
    same update waits for the first to commit, then finds it marked). Any other delivery is
    remembered among the deliveries seen.

    The transaction holds the chat from here on: on SQLite every transaction has the database
    to itself (`BEGIN IMMEDIATE`); on PostgreSQL an advisory lock on the chat, taken by the
    inbox mark's own statement (by one more for a delivery not from the inbox, none for one
    handled before), keeps other processes' updates of this chat waiting until this one
    commits. What the handlers read next (the conversation) is then as the chat's last
    update left it."""
    connection = session.connection()
    take, parameters = delivery_taking(
        session, channel=channel, delivery_id=delivery_id, chat_id=chat_id, at=at
    )
    if take.first(connection, parameters) is not None:
        return True
    if connection.execute(_IN_INBOX, parameters).first() is not None:
        return False  # marked before: handled, or set aside
    if take is _TAKE_INBOX_UPDATE_HOLDING_CHAT:
        _HOLD_CHAT.first(connection, parameters)
    return record_delivery(session, channel=channel, delivery_id=delivery_id, at=received_at)


def delivery_taking(
    session: Session, *, channel: str, delivery_id: str, chat_id: str, at: datetime
) -> Statement:
    """The first statement of `take_delivery` (the inbox mark, which on PostgreSQL also takes
    the chat's lock) with its values: for a transaction that begins with it
    (`models.prepared.begin_with`)."""
    values = {"of_channel": channel, "of_delivery": delivery_id, "handled_at": at, "error": None}
    if is_postgresql(session):
        return _TAKE_INBOX_UPDATE_HOLDING_CHAT, {**values, "chat": f"{channel}:{chat_id}"}
    return _TAKE_INBOX_UPDATE, values


def store_inbox_many(
    session: Session,
    *,
    channel: str,
    updates: Sequence[tuple[str, dict[str, Any]]],
    at: datetime,
    held_until: datetime,
) -> list[bool]:
    """Keep a batch of raw updates (a getUpdates answer) in one statement, held by the worker
    storing them until `held_until`; for each, False if it was stored before (a resend)."""
    rows = [
        {
            "channel": channel,
            "delivery_id": delivery_id,
            "payload": payload,
            "received_at": at,
            "claimed_until": held_until,
        }
        for delivery_id, payload in updates
    ]
    stored = set(insert_many_returning(session, InboxUpdate, rows, returned="delivery_id"))
    return [delivery_id in stored for delivery_id, _payload in updates]


def store_inbox(
    session: Session,
    *,
    channel: str,
    delivery_id: str,
    payload: dict[str, Any],
    at: datetime,
    held_until: datetime | None = None,
) -> bool:
    """Keep a raw update until it is handled; False if it was stored before (a resend).
    `held_until`: the worker storing it handles it, others leave it alone until then."""
    return insert_ignoring_conflict(
        session,
        InboxUpdate,
        channel=channel,
        delivery_id=delivery_id,
        payload=payload,
        received_at=at,
        claimed_until=held_until,
    )


def claim_inbox(
    session: Session, *, channel: str, now: datetime, lease: timedelta, limit: int
) -> list[InboxUpdate]:
    """Unhandled updates nobody holds, oldest first, now held by this worker for `lease`."""
    query = (
        select(InboxUpdate)
        .where(InboxUpdate.channel == channel, col(InboxUpdate.handled_at).is_(None))
        .order_by(col(InboxUpdate.received_at), col(InboxUpdate.delivery_id))
        .limit(limit)
    )
    return _take_with_lease(session, InboxUpdate, query, now=now, lease=lease)


def mark_inbox_handled(
    session: Session, *, channel: str, delivery_id: str, at: datetime, error: str | None = None
) -> None:
    """Done with an update; with `error`, it was set aside (the handlers could not take it)."""
    # Core, not the ORM's bulk UPDATE: no loaded row to keep in step, and a third of the cost.
    session.connection().execute(
        _MARK_INBOX_HANDLED,
        {
            "of_channel": channel,
            "of_delivery": delivery_id,
            "handled_at": at,
            "error": error[:500] if error else None,
        },
    )


# Written for every update: built once, its values bound per call.
_OF_DELIVERY = (
    col(InboxUpdate.channel) == sa.bindparam("of_channel"),
    col(InboxUpdate.delivery_id) == sa.bindparam("of_delivery"),
)
_MARK_INBOX_HANDLED = sa.update(InboxUpdate).where(*_OF_DELIVERY)
_UNHANDLED_OF_DELIVERY = sa.update(InboxUpdate).where(
    *_OF_DELIVERY, col(InboxUpdate.handled_at).is_(None)
)
_TAKE_INBOX_UPDATE = Prepared(  # the first statement of every update
    _UNHANDLED_OF_DELIVERY.returning(col(InboxUpdate.delivery_id))
)
# PostgreSQL's transaction-scoped advisory lock on a chat ("channel:chat id", hashed), in a
# key space of its own (the two-number form; the first number says "chats").
CHAT_LOCKS = 1
_CHAT_LOCK = sa.func.pg_advisory_xact_lock(
    sa.literal(CHAT_LOCKS), sa.func.hashtext(sa.bindparam("chat", type_=sa.String))
)
_TAKE_INBOX_UPDATE_HOLDING_CHAT = Prepared(  # evaluated for the row taken, if one is
    _UNHANDLED_OF_DELIVERY.returning(col(InboxUpdate.delivery_id), _CHAT_LOCK.label("chat_held"))
)
_HOLD_CHAT = Prepared(sa.select(_CHAT_LOCK.label("chat_held")))
_IN_INBOX = sa.select(sa.literal(1)).where(*_OF_DELIVERY)


# ---- leases --------------------------------------------------------------------------------

_Leased = TypeVar("_Leased", InboxUpdate, Outbox)


def _take_with_lease(
    session: Session,
    table: type[_Leased],
    query: SelectOfScalar[_Leased],
    *,
    now: datetime,
    lease: timedelta,
) -> list[_Leased]:
    """The rows of `query` that nobody holds, now held by this worker until `now + lease`.

    On PostgreSQL the rows are locked with SKIP LOCKED, so two workers never take the same row
    at the same moment; SQLite's single writer (BEGIN IMMEDIATE) gives the same guarantee.
    """
    claimed_until = col(table.claimed_until)
    query = query.where(sa.or_(claimed_until.is_(None), claimed_until < now))
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query).all())
    for row in rows:
        row.claimed_until = now + lease
        session.add(row)
    session.flush()
    return rows
