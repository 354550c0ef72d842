"""Reading commands (`/baocao@MyBot NV-03 60%`), and how long a typed answer may be."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ANSWER_CHARS = 2000

_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    args: str


def parse_command(text: str) -> ParsedCommand | None:
    """`/baocao@MyBot NV-03 60%` → ParsedCommand("baocao", "NV-03 60%"); None for plain text."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    return ParsedCommand(name=match.group(1).lower(), args=(match.group(2) or "").strip())
