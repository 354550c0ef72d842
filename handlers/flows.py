"""Every guided flow, by the name its conversations are stored under (`Conversation.flow`).

A second flow is one more entry here: its module declares its draft and steps, and the runner in
`handlers.flow` does the rest.
"""

from __future__ import annotations

from typing import Any

from handlers.flow import Flow
from handlers.report import REPORT
from models.conversations import ConversationState

FLOWS: dict[str, Flow[Any]] = {flow.name: flow for flow in (REPORT,)}


def flow_of(conversation: ConversationState) -> Flow[Any] | None:
    """The flow a stored conversation belongs to (None: a flow this version no longer has)."""
    return FLOWS.get(conversation.flow)
