"""Reading what people type, the way they type it in Vietnamese or English: numbers
(`1.234,5` or `1,234.5`), percentages and free text (NFC, no control characters)."""

from __future__ import annotations

import math
import re
import unicodedata

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


def parse_number(text: str) -> float | None:
    """A number as Vietnamese or English users type it: `1.234,5`, `1234.5`, `12,5`, `40`."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "")
    if not raw or not raw.isascii():
        return None
    if _GROUPED_THOUSANDS.match(raw):
        raw = raw.replace(".", "").replace(",", ".")
    elif "," in raw and "." in raw:
        raw = raw.replace(",", "")
    else:
        raw = raw.replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_percent(text: str) -> int | None:
    """A whole percentage from 0 to 100 (`60`, `60%`, `60 %`, `62,5` rounds); None if not one."""
    match = _PERCENT.match(text.strip())
    if match is None:
        return None
    value = float(match.group(1).replace(",", "."))
    if not 0 <= value <= 100:
        return None
    return round(value)
