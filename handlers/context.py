"""What every handler receives: the delivery, the account, its officer, a session, a translator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from locales import Translator
from models.conversations import ConversationState, end_conversation
from models.enums import Role
from models.messages import Choice, Inbound, Reply
from models.snapshots import AccountSnapshot, OfficerSnapshot, UnitSnapshot
from reminders.calendar import WorkCalendar


@dataclass(frozen=True)
class HandlerConfig:
    """The settings conversations depend on (built from the settings, see `bot.app`)."""

    calendar: WorkCalendar  # the province's working days, and its time zone
    default_language: str  # of new chat accounts
    invite_ttl: timedelta
    evidence_max_bytes: int
    reply_hold: timedelta  # a reply is this process's to send for this long, then anyone's
    web_base_url: str | None  # where the web board is reached from outside, if anywhere

    @property
    def zone(self) -> ZoneInfo:
        return self.calendar.zone


@dataclass
class Context:
    session: Session
    inbound: Inbound
    account: AccountSnapshot
    officer: OfficerSnapshot | None
    unit: UnitSnapshot | None
    config: HandlerConfig
    # The account's conversation in this chat: as read with the account when the update
    # began (`models.accounts.sender_for`), then as this update opened or ended it.
    current_conversation: ConversationState | None = field(repr=False)

    @property
    def t(self) -> Translator:
        return Translator(self.account.language, self.config.zone)

    @property
    def now(self) -> datetime:
        return self.inbound.received_at

    @property
    def today(self) -> date:
        return self.now.astimezone(self.config.zone).date()

    @property
    def unit_id(self) -> int:
        """The officer's unit (only handlers for linked accounts ask for it)."""
        if self.unit is None or self.unit.id is None:
            raise RuntimeError("this handler needs an account linked to an officer")
        return self.unit.id

    @property
    def unit_name(self) -> str:
        return self.unit.name if self.unit else ""

    @property
    def linked_officer(self) -> OfficerSnapshot:
        if self.officer is None:
            raise RuntimeError("this handler needs an account linked to an officer")
        return self.officer

    def conversation(self) -> ConversationState | None:
        """This account's flow in progress in this chat, if any."""
        return self.current_conversation

    def conversation_is(self, conversation: ConversationState | None) -> None:
        """This update opened (or ended) the chat's conversation: it is what is read next."""
        self.current_conversation = conversation

    def end_conversation(self, conversation: ConversationState) -> None:
        """Forget the conversation and any evidence it staged but never saved."""
        end_conversation(self.session, conversation)
        self.conversation_is(None)

    def has_role(self, *roles: Role) -> bool:
        return self.officer is not None and self.officer.role in roles

    def reply(
        self,
        text: str,
        choices: Sequence[Choice] = (),
        *,
        expects_number: bool = False,
        may_edit: bool = False,
    ) -> Reply:
        return Reply(
            text=text,
            choices=tuple(choices),
            expects_number=expects_number,
            may_edit=may_edit,
            language=self.t.language,
        )
