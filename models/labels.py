"""How statuses, unit kinds and cycles are named to people: English message ids, translated
where they are shown (`_(STATUS_LABELS[status])`)."""

from __future__ import annotations

from models.enums import Cycle, Role, Status, UnitKind


def N_(message: str) -> str:
    """Marks a message id for extraction (models/ imports nothing of ours, not even locales)."""
    return message


STATUS_LABELS: dict[Status, str] = {
    Status.NOT_STARTED: N_("Not started"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.WAITING: N_("Waiting for guidance"),
    Status.DONE: N_("Completed"),
    Status.OVERDUE: N_("Overdue"),
}

STATUS_ICONS: dict[Status, str] = {
    Status.NOT_STARTED: "⚪",
    Status.IN_PROGRESS: "🔵",
    Status.WAITING: "🟡",
    Status.DONE: "✅",
    Status.OVERDUE: "🔴",
}

UNIT_KIND_LABELS: dict[UnitKind, str] = {
    UnitKind.COMMUNE: N_("Commune"),
    UnitKind.WARD: N_("Ward"),
    UnitKind.SPECIAL_ZONE: N_("Special zone"),
    UnitKind.DEPARTMENT: N_("Department"),
}

CYCLE_LABELS: dict[Cycle, str] = {
    Cycle.ONCE: N_("Once"),
    Cycle.WEEKLY: N_("Weekly"),
    Cycle.MONTHLY: N_("Monthly"),
    Cycle.QUARTERLY: N_("Quarterly"),
}

ROLE_LABELS: dict[Role, str] = {
    Role.OFFICER: N_("Officer"),
    Role.LEAD: N_("Unit lead"),
    Role.SECRETARIAT: N_("Secretariat"),
    Role.ADMIN: N_("Administrator"),
}
