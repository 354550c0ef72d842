"""Reading what people type, the way they type it in Vietnamese or English: numbers
(`1.234,5` or `1,234.5`), percentages and free text (NFC, no control characters)."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

_PERCENT = re.compile(r"^(-?\d+(?:[.,]\d+)?)\s*%?$", re.ASCII)
_GROUPED_THOUSANDS = re.compile(r"^-?\d{1,3}(?:\.\d{3})+(?:,\d+)?$", re.ASCII)


def clean_text(text: str) -> str:
    """NFC-normalised (Vietnamese typed with combining accents), without control characters."""
    composed = unicodedata.normalize("NFC", text)
    kept = "".join(
        c
        for c in composed
        if c in "\n\t"
        or unicodedata.category(c) not in ("Cc", "Cf")
        or c == "\u200d"  # zero-width joiner holds multi-part emoji together
    )
    return kept.strip()


@dataclass(frozen=True)
class ReadNumber:
    """A number read from what someone typed."""

    value: float
    # "1.500" or "1,500": read the Vietnamese way (1500 and 1,5), but an English writer meant
    # the opposite; worth a word to the person who typed it.
    ambiguous: bool = False
    rest: str = ""  # what followed the number ("hồ sơ" in "700 hồ sơ")


_ONE_SEPARATOR_THEN_THREE = re.compile(r"^-?\d{1,3}[.,]\d{3}$", re.ASCII)
_LEADING_NUMBER = re.compile(
    r"^\s*(?:≥|≤|>=|<=|>|<|~|khoảng\s+|about\s+)?\s*([-+]?[\d.,  ]*\d)\s*(.*)$"
)


def read_number(text: str, *, trailing: bool = False) -> ReadNumber | None:
    """A number as Vietnamese or English users type it: `1.234,5`, `1234.5`, `12,5`, `40`,
    `98,5%`; with `trailing`, words may follow it (`700 hồ sơ`, `≥ 16 %`)."""
    match = _LEADING_NUMBER.match(clean_text(text))
    if match is None:
        return None
    raw = match.group(1).replace(" ", "").replace("\u00a0", "").replace("\u202f", "").lstrip("+")
    rest = match.group(2).strip()
    if rest.startswith("%"):
        rest = rest[1:].strip()
    if rest and not trailing:
        return None
    ambiguous = bool(_ONE_SEPARATOR_THEN_THREE.match(raw))
    if _GROUPED_THOUSANDS.match(raw):
        raw = raw.replace(".", "").replace(",", ".")
    elif "," in raw and "." in raw:
        raw = raw.replace(",", "")
    elif raw.count(",") > 1:
        return None
    else:
        raw = raw.replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return ReadNumber(value=value, ambiguous=ambiguous, rest=rest)


def parse_number(text: str) -> float | None:
    """A number alone as people type it (see `read_number`); None if the text is not one."""
    number = read_number(text)
    return number.value if number else None


def parse_percent(text: str) -> int | None:
    """A whole percentage from 0 to 100 (`60`, `60%`, `60 %`, `62,5` rounds); None if not one."""
    match = _PERCENT.match(text.strip())
    if match is None:
        return None
    value = float(match.group(1).replace(",", "."))
    if not 0 <= value <= 100:
        return None
    return round(value)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters on one line, ending in "…" when something was cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
