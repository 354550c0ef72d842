"""Vietnamese alphabetical order: "Đ" after "D", tones not deciding before letters do (the
Unicode Collation Algorithm, via pyuca), where Python's own order puts "Đông" after "Yên"."""

from __future__ import annotations

from functools import cache, lru_cache

from pyuca import Collator


@cache
def _collator() -> Collator:
    return Collator()  # loads the Unicode collation table once, on first use


@lru_cache(maxsize=50_000)  # the country's unit names, sorted again on every board page
def sort_key(text: str) -> tuple[int, ...]:
    """A key that sorts names the way a Vietnamese reader expects."""
    return tuple(_collator().sort_key(text.casefold()))
