"""Rows as the handlers read them on every update: frozen copies read with Core statements.

Loading a row as an ORM object (identity map, instrumented attributes, the unit of work at
commit) cost more than the statement that read it; the handlers only read these rows, and the
few that change one say so with an UPDATE of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlmodel import SQLModel

from models.conversations import ConversationState
from models.enums import Cycle, Role, Status, UnitKind
from models.tables import Assignment, ChannelAccount, Conversation, Officer, Task, Unit


class Identified(Protocol):
    """A row with an id: an ORM object or one of the snapshots below."""

    @property
    def id(self) -> int | None: ...


@dataclass(frozen=True)
class AccountSnapshot:
    """A `ChannelAccount` row."""

    id: int
    channel: str
    external_id: str
    display_name: str
    officer_id: int | None
    language: str
    created_at: datetime
    last_seen_at: datetime
    unreachable_since: datetime | None


@dataclass(frozen=True)
class OfficerSnapshot:
    """An `Officer` row."""

    id: int
    full_name: str
    unit_id: int
    role: Role
    active: bool
    preferred_channel: str | None
    created_at: datetime


@dataclass(frozen=True)
class UnitSnapshot:
    """A `Unit` row."""

    id: int
    code: str
    name: str
    kind: UnitKind
    province_code: str | None
    created_at: datetime


@dataclass(frozen=True)
class TaskSnapshot:
    """A `Task` row."""

    id: int
    code: str
    title: str
    description: str | None
    indicator: str | None
    target: float | None
    uom: str | None
    deadline: date
    cycle: Cycle
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AssignmentSnapshot:
    """An `Assignment` row."""

    id: int
    task_id: int
    unit_id: int
    status: Status
    percent: int
    indicator_value: float | None
    last_reported_at: datetime | None
    done_at: datetime | None
    created_at: datetime


Snapshot = TypeVar(
    "Snapshot",
    AccountSnapshot,
    OfficerSnapshot,
    UnitSnapshot,
    TaskSnapshot,
    AssignmentSnapshot,
    ConversationState,
)

TABLE_OF: dict[type[Any], type[SQLModel]] = {
    AccountSnapshot: ChannelAccount,
    OfficerSnapshot: Officer,
    UnitSnapshot: Unit,
    TaskSnapshot: Task,
    AssignmentSnapshot: Assignment,
    ConversationState: Conversation,  # read the same way, then moved by the handlers
}


_NAMES: dict[type[Any], tuple[str, ...]] = {
    snapshot: tuple(f.name for f in fields(snapshot)) for snapshot in TABLE_OF
}
_LABELS: dict[tuple[type[Any], str], tuple[str, ...]] = {}


def _names(snapshot: type[Any]) -> tuple[str, ...]:
    return _NAMES[snapshot]


def _labels(snapshot: type[Any], prefix: str) -> tuple[str, ...]:
    """The column labels of `snapshot` under `prefix`, in field order (made once)."""
    key = (snapshot, prefix)
    if key not in _LABELS:
        _LABELS[key] = tuple(prefix + name for name in _NAMES[snapshot])
    return _LABELS[key]


def columns_of(snapshot: type[Snapshot], prefix: str) -> list[sa.Label[Any]]:
    """The snapshot's columns of its table, labelled `prefix` + name (to share a SELECT)."""
    table = TABLE_OF[snapshot].__table__  # type: ignore[attr-defined]
    return [
        table.c[name].label(label)
        for name, label in zip(_names(snapshot), _labels(snapshot, prefix), strict=True)
    ]


def from_row(snapshot: type[Snapshot], row: Mapping[Any, Any], prefix: str) -> Snapshot | None:
    """The snapshot in `row` (columns labelled by `columns_of`); None where an outer join
    found no row."""
    if row[prefix + "id"] is None:
        return None
    return snapshot(*(row[label] for label in _labels(snapshot, prefix)))


def snapshot_of(snapshot: type[Snapshot], orm_object: SQLModel) -> Snapshot:
    """The snapshot of a row loaded as an ORM object."""
    return snapshot(*(getattr(orm_object, name) for name in _names(snapshot)))
