"""SQLModel tables: the province's units, its officers, their tasks and every report ever made."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.enums import Cycle, GroupPurpose, OutboxState, Role, Status, UnitKind
from models.types import UTCDateTime, enum_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class UnitBase(SQLModel):
    code: str = Field(max_length=20, unique=True, index=True)
    name: str = Field(max_length=255)
    kind: UnitKind = Field(sa_type=enum_column(UnitKind))
    province_code: str | None = Field(default=None, max_length=10)


class Unit(UnitBase, table=True):
    """A commune, ward, special zone or provincial department that receives tasks."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _created()


class Officer(SQLModel, table=True):
    """A person with a role, belonging to one unit."""

    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(max_length=255)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: Role = Field(sa_type=enum_column(Role))
    active: bool = True
    # Where reminders go when the officer has accounts on several messengers (None: last used).
    preferred_channel: str | None = Field(default=None, max_length=20)
    created_at: datetime = _created()


class ChannelAccount(SQLModel, table=True):
    """One messenger identity (Telegram user, Zalo user, terminal name); may be linked to an officer.

    Messenger ids are kept as text: Telegram's exceed 32 bits and Zalo's are hex strings.
    """

    __table_args__ = (sa.UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    external_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=255)
    officer_id: int | None = Field(default=None, foreign_key="officer.id", index=True)
    language: str = Field(default="vi", max_length=5)
    created_at: datetime = _created()
    last_seen_at: datetime = _created()
    # Set when the messenger says the person blocked the bot; cleared when they write again.
    unreachable_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Invite(SQLModel, table=True):
    """A one-time code that links the first chat account presenting it to an officer."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True, index=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_account_id: int | None = Field(default=None, foreign_key="channelaccount.id")


class TaskBase(SQLModel):
    code: str = Field(max_length=32, unique=True, index=True)
    title: str = Field(max_length=500)
    description: str | None = Field(default=None, sa_type=sa.Text)
    indicator: str | None = Field(default=None, max_length=255)
    target: float | None = None
    uom: str | None = Field(default=None, max_length=50)
    deadline: date
    cycle: Cycle = Field(default=Cycle.ONCE, sa_type=enum_column(Cycle))


class Task(TaskBase, table=True):
    """A task of the steering committee, optionally with a numeric indicator."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Assignment(SQLModel, table=True):
    """A task handed to one unit, with the figures of its latest report kept at hand."""

    __table_args__ = (sa.UniqueConstraint("task_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    status: Status = Field(default=Status.NOT_STARTED, sa_type=enum_column(Status))
    percent: int = 0
    indicator_value: float | None = None
    last_reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When a report first said "done" (None while it is not done): the weekly trend counts it.
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created()


class Report(SQLModel, table=True):
    """One progress report. A correction is a new row that supersedes the one it corrects."""

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="channelaccount.id")
    status: Status = Field(sa_type=enum_column(Status))
    percent: int
    indicator_value: float | None = None
    result: str | None = Field(default=None, sa_type=sa.Text)
    blockers: str | None = Field(default=None, sa_type=sa.Text)
    proposals: str | None = Field(default=None, sa_type=sa.Text)
    version: int = 1
    supersedes_id: int | None = Field(default=None, foreign_key="report.id", unique=True)
    # Indexed: the digest and the board read "what is new since …".
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True
    )

    # The digest lists the newest blockers and proposals; few reports carry one, so an index of
    # only those finds ten at once instead of walking a week of reports that have none. Both
    # are partial (`WHERE blockers IS NOT NULL`, …), made so by migration 0010: written here
    # as `sqlite_where=`/`postgresql_where=`, the condition would load both dialects into
    # every process at import (the PostgreSQL one, with its drivers' modules, 2.8 MB of a
    # bot on SQLite).
    __table_args__ = (
        sa.Index("ix_report_blockers_created_at", "created_at"),
        sa.Index("ix_report_proposals_created_at", "created_at"),
    )


class Evidence(SQLModel, table=True):
    """A photo or document attached to a report; held against a conversation until confirmed."""

    id: int | None = Field(default=None, primary_key=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    conversation_id: int | None = Field(
        default=None, foreign_key="conversation.id", index=True, ondelete="SET NULL"
    )
    kind: str = Field(max_length=20)
    file_name: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    data: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = _created()


class Conversation(SQLModel, table=True):
    """Where one account stands in a guided flow in one chat; survives restarts and workers."""

    __table_args__ = (sa.UniqueConstraint("channel", "chat_id", "account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=64)
    account_id: int = Field(foreign_key="channelaccount.id", index=True)
    flow: str = Field(max_length=40)
    step: str = Field(max_length=40)
    token: str = Field(max_length=16)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = _created()


class ChatMenu(SQLModel, table=True):
    """The last numbered menu shown in a chat without buttons, so a typed number maps back
    (and, after a wrong number, its options can be shown again)."""

    channel: str = Field(primary_key=True, max_length=20)
    chat_id: str = Field(primary_key=True, max_length=64)
    choices: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # data behind 1, 2, …
    labels: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # what 1, 2, … read
    updated_at: datetime = _created()


class SeenDelivery(SQLModel, table=True):
    """An inbound delivery already handled; a resent update with the same id is ignored."""

    channel: str = Field(primary_key=True, max_length=20)
    delivery_id: str = Field(primary_key=True, max_length=128)
    received_at: datetime = _created()


class Outbox(SQLModel, table=True):
    """A message to send later (reminder, escalation, digest), unique per occurrence."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    state: OutboxState = Field(default=OutboxState.PENDING, sa_type=enum_column(OutboxState))
    # A sender that claimed the row; another may take it once this passes (the first one died).
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created()


class GroupBinding(SQLModel, table=True):
    """A group chat bound to the secretariat or to one unit, for group commands and digests."""

    __table_args__ = (sa.UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=64)
    title: str = Field(default="", max_length=255)
    purpose: GroupPurpose = Field(sa_type=enum_column(GroupPurpose))
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    bound_by_account_id: int | None = Field(default=None, foreign_key="channelaccount.id")
    bound_at: datetime = _created()


class BindCode(SQLModel, table=True):
    """A one-time code the secretariat makes so a group can be bound with `/bind CODE`."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True, index=True)
    purpose: GroupPurpose = Field(sa_type=enum_column(GroupPurpose))
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class InboxUpdate(SQLModel, table=True):
    """A raw update written before the webhook answers, handled afterwards (and after a crash)."""

    channel: str = Field(primary_key=True, max_length=20)
    delivery_id: str = Field(primary_key=True, max_length=128)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    received_at: datetime = _created()
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # The worker handling it holds it until then; after that (it died) another may take it.
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why the handlers could not take it: it is set aside (handled_at set), not tried again.
    error: str | None = Field(default=None, max_length=500)


class PublicMedia(SQLModel, table=True):
    """An image served at a public URL, for messengers that take photos only by URL (Zalo)."""

    id: str = Field(primary_key=True, max_length=64)  # unguessable
    content_type: str = Field(max_length=100)
    data: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CodeAttempt(SQLModel, table=True):
    """A wrong invite or group code typed in a chat, to stop guessing and to show the
    secretariat who tries (the code itself is not kept)."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    sender_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    kind: str = Field(max_length=20)  # "invite" or "group"
    at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class MessengerAccount(SQLModel, table=True):
    """What a messenger says of this bot when it starts (getMe): its name, and whether it can
    be in group chats (a Zalo bot may not: then no digest is promised to a Zalo group)."""

    channel: str = Field(primary_key=True, max_length=20)
    name: str = Field(default="", max_length=255)
    can_join_groups: bool = True
    checked_at: datetime = _created()


class WebLogin(SQLModel, table=True):
    """A one-time link to the web board, made by the bot (`/web`) or the command line. Only a
    hash of its token is kept; it works once, for minutes."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in browser: its cookie carries this id (signed). Revoking the officer, logging
    out or the end of its time ends it."""

    id: str = Field(primary_key=True, max_length=64)  # unguessable
    officer_id: int = Field(foreign_key="officer.id", index=True)
    csrf: str = Field(max_length=64)  # every form carries it
    language: str = Field(default="vi", max_length=5)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
