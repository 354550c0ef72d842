"""The closed vocabularies of the domain: statuses, roles, unit kinds, reporting cycles."""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    COMMUNE = "commune"
    WARD = "ward"
    SPECIAL_ZONE = "special_zone"
    DEPARTMENT = "department"


class Role(StrEnum):
    OFFICER = "officer"
    LEAD = "lead"
    SECRETARIAT = "secretariat"
    ADMIN = "admin"


class Cycle(StrEnum):
    ONCE = "once"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class Status(StrEnum):
    """What an officer can report; `OVERDUE` is derived from the deadline and never stored."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    DONE = "done"
    OVERDUE = "overdue"


REPORTABLE_STATUSES: tuple[Status, ...] = (
    Status.NOT_STARTED,
    Status.IN_PROGRESS,
    Status.WAITING,
    Status.DONE,
)


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


class GroupPurpose(StrEnum):
    """What a bound group chat is for: the secretariat's digests, or one unit's."""

    SECRETARIAT = "secretariat"
    UNIT = "unit"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    DROPPED = "dropped"
