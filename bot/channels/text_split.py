"""Cutting long messages to a messenger's limit on line boundaries (Telegram 4,096, Zalo 2,000)."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` characters, cut between lines where possible, then between words."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _fit(line, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return [part for part in parts if part.strip()] or [text[:limit]]


def _fit(line: str, limit: int) -> list[str]:
    """A single line cut into pieces of at most `limit`, between words when there are any."""
    pieces: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    pieces.append(line)
    return pieces
