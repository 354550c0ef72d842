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


MAX_ROW_ID = 2**31 - 1  # the database's integer ids


def row_id(text: str) -> int | None:
    """The id a button carries (only a hint, checked against the database afterwards), or None
    for anything that cannot be one: forged data must not reach a query as 10^12."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ROW_ID else None
