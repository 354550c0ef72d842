"""`python -m locales`: extract messages from the code and merge them into both catalogs."""

from __future__ import annotations

from locales.catalogs import update_catalogs

if __name__ == "__main__":
    for language, added in update_catalogs().items():
        print(f"{language}: {len(added)} new message(s) to translate")
        for message in added:
            print(f"  {message}")
