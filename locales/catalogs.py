"""Keeping the catalogs in step with the code: extraction and merging, via Babel."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from locales import LANGUAGES, catalog_path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_PACKAGES = ("bot", "handlers", "models", "reminders", "locales")
# `_` is how handlers call their translator; `ctx.t(...)` and `translator(...)` are the same call.
KEYWORDS = {"_": None, "N_": None, "t": None, "translator": None}


def extract_messages() -> Catalog:
    """Every translatable string used by our packages, with where it is used."""
    template = Catalog(domain="messages")
    for package in SOURCE_PACKAGES:
        for filename, lineno, message, comments, _context in extract_from_dir(
            ROOT / package,
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
            keywords=KEYWORDS,
        ):
            template.add(
                message, locations=[(f"{package}/{filename}", lineno)], auto_comments=comments
            )
    return template


def update_catalogs() -> dict[str, list[str]]:
    """Merge newly extracted messages into each catalog; returns the untranslated ones."""
    template = extract_messages()
    untranslated: dict[str, list[str]] = {}
    for language in LANGUAGES:
        path = catalog_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po, locale=language)
        else:
            catalog = Catalog(locale=language, domain="messages")
        catalog.update(template, no_fuzzy_matching=True)
        if language == "en":
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        with path.open("wb") as po:
            write_po(po, catalog, width=99, omit_header=False, ignore_obsolete=True)
        untranslated[language] = [str(m.id) for m in catalog if m.id and not m.string]
    return untranslated
