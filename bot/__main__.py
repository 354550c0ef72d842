"""`python -m bot …`: the command line (see `bot.cli`)."""

from __future__ import annotations

from bot.settings import language_of_environment
from locales.libraries import speak_in_libraries

# Before click and Typer are imported: they translate some of their words on import.
speak_in_libraries(language_of_environment())

from bot.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
