"""Gettext catalogs (vi, en) and the translator handlers and digests speak through.

Vietnamese is the default. Message ids are English; `locales/<lang>/LC_MESSAGES/messages.po`
holds the translations, compiled in memory on first use so a catalog can never go stale.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

CATALOG_DIR = Path(__file__).parent
DOMAIN = "messages"
LANGUAGES: tuple[str, ...] = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def N_(message: str) -> str:
    """Mark a string for extraction where it is declared; translate it where it is shown."""
    return message


def catalog_path(language: str) -> Path:
    return CATALOG_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def compiled_catalog(language: str) -> bytes:
    """The catalog of `language` as gettext's binary .mo."""
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    return compiled.getvalue()


@cache
def _translations(language: str) -> Translations:
    return Translations(fp=BytesIO(compiled_catalog(language)), domain=DOMAIN)


class Translator:
    """Translates messages and formats dates and numbers for one language."""

    def __init__(self, language: str, zone: tzinfo) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self.zone = zone
        self._catalog = _translations(self.language)

    def __call__(self, message: str, /, **params: object) -> str:
        text = self._catalog.gettext(message)
        return text.format(**params) if params else text

    def weekday(self, value: date) -> str:
        """The day's name: "Thứ Hai", "Monday"."""
        return format_date(value, "EEEE", locale=self.language).title()

    def date(self, value: date) -> str:
        """23/11/2026 in both languages: the form every official document uses."""
        return format_date(value, "dd/MM/yyyy", locale=self.language)

    def datetime(self, value: datetime) -> str:
        """A moment in the province's time zone: `08:05 23/11/2026`."""
        return format_datetime(value, "HH:mm dd/MM/yyyy", tzinfo=self.zone, locale=self.language)

    def number(self, value: float) -> str:
        """1.234,5 in Vietnamese, 1,234.5 in English."""
        return format_decimal(value, locale=self.language)
