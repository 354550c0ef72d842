"""The runner of guided flows: a flow is a declared sequence of steps, each with its question and
its validation; the runner asks, takes answers, goes back, skips, edits and cancels.

A flow's answers so far (its draft, a pydantic model) live in the `Conversation` row between
messages, under the flow's name, so a restart or a second worker continues where the person
is. Buttons inside a flow carry the conversation's current token: a button of an earlier
message is recognised as such instead of answering the wrong question.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from handlers.choices import main_menu
from handlers.context import Context
from models.conversations import ConversationState, drop_staged_evidence, save_conversation
from models.messages import Attachment, Choice, Reply

# Navigation values, and the slash commands that pick them (where a typed number would be read
# as an answer, Back/Skip/Cancel are offered as these commands).
BACK, SKIP, CANCEL = "back", "skip", "cancel"
NAVIGATION_COMMANDS: dict[str, dict[str, str]] = {
    BACK: {"vi": "quaylai", "en": "back"},
    SKIP: {"vi": "boqua", "en": "skip"},
    CANCEL: {"vi": "huy", "en": "cancel"},
}
NAVIGATION_BY_COMMAND = {
    name: value for value, names in NAVIGATION_COMMANDS.items() for name in names.values()
}


class FlowDraft(BaseModel):
    """The answers so far; each flow extends it with its own fields."""

    editing: bool = False  # the person came from the summary to change one answer


Draft = TypeVar("Draft", bound=FlowDraft)


@dataclass
class FlowState(Generic[Draft]):
    """One turn of a flow: the context, the conversation row and the draft."""

    ctx: Context
    conversation: ConversationState
    draft: Draft


State = TypeVar("State", bound=FlowState[Any])


@dataclass(frozen=True)
class Answer:
    """What the person sent at a step: a picked option (token removed) or typed text."""

    text: str
    choice: str | None
    attachments: tuple[Attachment, ...] = ()


class Invalid(Exception):
    """The answer does not fit the step; the message (translated) says why."""


@dataclass(frozen=True)
class Stay:
    """The answer was taken but the step goes on (another page, another file)."""

    notice: str = ""


@dataclass(frozen=True)
class GoTo:
    """Jump to a named step (editing one answer from the summary)."""

    step: str


@dataclass(frozen=True)
class ShowEditMenu:
    """Offer the answers that can be changed."""


@dataclass(frozen=True)
class Finish:
    """The person confirmed: the flow stores its result."""


# What a step's `accept` decides after taking an answer; None means "on to the next step".
Outcome = Stay | GoTo | ShowEditMenu | Finish | None


def _always(_state: Any) -> bool:
    return True


@dataclass(frozen=True)
class Step(Generic[State]):
    name: str
    label: str  # message id, shown in the edit menu
    ask: Callable[[State], Reply]
    accept: Callable[[State, Answer], Outcome]
    applies: Callable[[State], bool] = _always
    answered: Callable[[State], bool] = _always  # after an edit: still valid?
    editable: bool = True  # offered in the edit menu


class Flow(Generic[State]):
    """A guided flow: its steps in order, how its state is loaded and what finishing does."""

    name: ClassVar[str]  # the `Conversation.flow` it is stored under
    steps: tuple[Step[State], ...]
    summary_step: ClassVar[str | None] = None  # where an edit returns to

    # ---- what each flow provides -----------------------------------------------------------

    def load(self, ctx: Context, conversation: ConversationState) -> State | list[Reply]:
        """The state of a stored conversation, or the replies that end it (it cannot go on)."""
        raise NotImplementedError

    def finish(self, state: State) -> list[Reply]:
        """Store what the flow collected; the conversation is over."""
        raise NotImplementedError

    def take_files(self, state: State, attachments: tuple[Attachment, ...]) -> str | None:
        """Files sent at a step that does not ask for them: a notice, or None (not taken)."""
        return None

    # ---- the runner ------------------------------------------------------------------------

    def step(self, name: str) -> Step[State]:
        return next(s for s in self.steps if s.name == name)

    def current(self, state: State) -> Step[State]:
        return next((s for s in self.steps if s.name == state.conversation.step), self.steps[0])

    def open(self, ctx: Context, draft: FlowDraft) -> ConversationState:
        """A new conversation for this flow, replacing any unfinished one in the chat; it is
        stored by its first `save` (`begin_at`), with the question it asks. It takes over the
        row of the one it replaces (an UPDATE, not a DELETE and an INSERT), whose staged files
        are dropped; the buttons of the old one stay refused (every question has a new token)."""
        old = ctx.conversation()
        if old is not None:
            drop_staged_evidence(ctx.session, old)
        conversation = ConversationState(
            id=old.id if old is not None else None,
            channel=ctx.inbound.channel,
            chat_id=ctx.inbound.chat_id,
            account_id=ctx.account.id,
            flow=self.name,
            step=self.steps[0].name,
            token="",
            data=draft.model_dump(mode="json"),
            updated_at=ctx.now,
        )
        ctx.conversation_is(conversation)
        return conversation

    def begin_at(self, state: State, step: Step[State]) -> list[Reply]:
        """Ask the first question (of `step`) and keep the state."""
        replies = self.go_to(state, step)
        self.save(state)
        return replies

    def resume(
        self,
        ctx: Context,
        conversation: ConversationState,
        *,
        text: str,
        choice: str | None,
        attachments: tuple[Attachment, ...],
    ) -> list[Reply]:
        """Take the answer to the current step and ask the next question."""
        _ = ctx.t
        loaded = self.load(ctx, conversation)
        if isinstance(loaded, list):
            return loaded
        state = loaded
        step = self.current(state)
        value = None
        if choice is not None:
            token, _sep, value = choice.partition(":")
            if token != conversation.token:
                return [
                    ctx.reply(
                        _("That button belongs to an earlier message. Here is where we are:")
                    ),
                    step.ask(state),
                ]
        if value == CANCEL:
            return self.cancel(ctx, conversation)
        if value == BACK:
            return self._back(state, step)
        if attachments:
            notice = self.take_files(state, attachments)
            if notice is not None:
                self.save(state)
                return [ctx.reply(notice), step.ask(state)]
        try:
            outcome = step.accept(state, Answer(text=text, choice=value, attachments=attachments))
        except Invalid as problem:
            return [ctx.reply(f"⚠️ {problem}"), step.ask(state)]
        return self._follow(state, step, outcome)

    def _back(self, state: State, step: Step[State]) -> list[Reply]:
        previous = self.previous_step(state)
        replies = self.go_to(state, previous) if previous else [step.ask(state)]
        self.save(state)
        return replies

    def _follow(self, state: State, step: Step[State], outcome: Outcome) -> list[Reply]:
        """Where an accepted answer leads."""
        match outcome:
            case Finish():
                return self.finish(state)
            case ShowEditMenu():
                return [self.edit_menu(state)]
            case Stay(notice=notice):
                replies = [*([state.ctx.reply(notice)] if notice else []), step.ask(state)]
            case GoTo(step=name):
                state.draft.editing = True
                replies = self.go_to(state, self.step(name))
            case None:
                replies = self.go_to(state, self.next_step(state))
        self.save(state)
        return replies

    def ask_again(self, ctx: Context, conversation: ConversationState) -> list[Reply]:
        """The current step's question, once more."""
        loaded = self.load(ctx, conversation)
        if isinstance(loaded, list):
            return loaded
        return [self.current(loaded).ask(loaded)]

    def cancel(self, ctx: Context, conversation: ConversationState) -> list[Reply]:
        """Drop the unfinished flow; nothing of it was saved."""
        ctx.end_conversation(conversation)
        return [ctx.reply(ctx.t("Cancelled. Nothing was saved."), main_menu(ctx))]

    def previous_step(self, state: State) -> Step[State] | None:
        current = self.current(state)
        if state.draft.editing and self.summary_step is not None:
            return self.step(self.summary_step) if current.name != self.summary_step else None
        index = self.steps.index(current)
        return next((s for s in reversed(self.steps[:index]) if s.applies(state)), None)

    def next_step(self, state: State) -> Step[State]:
        index = self.steps.index(self.current(state))
        later = [s for s in self.steps[index + 1 :] if s.applies(state)]
        if state.draft.editing and self.summary_step is not None:
            # After an edit, ask only what the change made necessary, then the summary again.
            return next((s for s in later if not s.answered(state)), self.step(self.summary_step))
        return later[0]

    def go_to(self, state: State, step: Step[State], notice: str = "") -> list[Reply]:
        state.conversation.step = step.name
        state.conversation.token = secrets.token_hex(3)
        if step.name == self.summary_step:
            state.draft.editing = False
        replies = [state.ctx.reply(notice)] if notice else []
        return [*replies, step.ask(state)]

    def save(self, state: State) -> None:
        state.conversation.data = state.draft.model_dump(mode="json")
        state.conversation.updated_at = state.ctx.now
        save_conversation(state.ctx.session, state.conversation)

    def end(self, state: State) -> None:
        state.ctx.end_conversation(state.conversation)

    # ---- choices every step uses -----------------------------------------------------------

    def edit_menu(self, state: State) -> Reply:
        """The answers the person can change."""
        _ = state.ctx.t
        choices = [
            self.choice(state, _(s.label), f"{EDIT}:{s.name}") for s in self.editable(state)
        ]
        return state.ctx.reply(
            _("Which part do you want to change?"), [*choices, *self.navigation(state)]
        )

    def editable(self, state: State) -> list[Step[State]]:
        return [s for s in self.steps if s.editable and s.applies(state)]

    def edit_choice(self, state: State, value: str | None) -> Outcome:
        """The outcome of a choice made at the summary: the edit menu, or one step to edit."""
        if value == EDIT:
            return ShowEditMenu()
        name = (value or "").removeprefix(f"{EDIT}:")
        if name not in {s.name for s in self.editable(state)}:
            raise Invalid(state.ctx.t("Please pick one of the options below."))
        return GoTo(name)

    @staticmethod
    def choice(
        state: FlowState[Any], label: str, value: str, command: str | None = None
    ) -> Choice:
        return Choice(label=label, data=f"{state.conversation.token}:{value}", command=command)

    def navigation(self, state: State, *, skip_label: str | None = None) -> list[Choice]:
        """Skip (when offered), Back (unless this is the first step) and Cancel."""
        _ = state.ctx.t
        language = "en" if _.language == "en" else "vi"

        def command(value: str) -> str:
            return NAVIGATION_COMMANDS[value][language]

        choices = []
        if skip_label is not None:
            choices.append(self.choice(state, skip_label, SKIP, command(SKIP)))
        if self.previous_step(state) is not None:
            choices.append(self.choice(state, _("⬅️ Back"), BACK, command(BACK)))
        choices.append(self.choice(state, _("✖️ Cancel"), CANCEL, command(CANCEL)))
        return choices


EDIT = "edit"


def is_edit_choice(value: str | None) -> bool:
    return value is not None and (value == EDIT or value.startswith(f"{EDIT}:"))


def navigation_choice(conversation: ConversationState, command: str) -> str | None:
    """The button data a navigation command (`/quaylai`, `/huy`, …) stands for in this flow."""
    value = NAVIGATION_BY_COMMAND.get(command)
    return f"{conversation.token}:{value}" if value else None
