"""The command line's own words in our language: click and Typer print "Usage:", "Options",
"Show this message and exit." through Python's gettext, so our catalog (which translates those
words too) is compiled to where gettext looks, before they are imported."""

from __future__ import annotations

import atexit
import gettext
import os
import shutil
import tempfile
from pathlib import Path

from locales import DOMAIN, N_, compiled_catalog

# What click and Typer say, so that extraction puts it in our catalogs.
LIBRARY_MESSAGES = (
    N_("Usage:"),
    N_("Options"),
    N_("Arguments"),
    N_("Commands"),
    N_("Error"),
    N_("Show this message and exit."),
    N_("[default: {}]"),
    N_("[required]"),
    N_("Missing option"),
    N_("Missing argument"),
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("No such option: {name}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    N_("Try '{command} {option}' for help."),
    N_("Aborted!"),
    N_("Aborted."),
)


def speak_in_libraries(language: str) -> None:
    """Make click and Typer speak `language` (call it before importing them)."""
    if language == "en":
        return
    folder = Path(tempfile.mkdtemp(prefix="baocao-locale-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    target = folder / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    target.parent.mkdir(parents=True)
    target.write_bytes(compiled_catalog(language))
    gettext.bindtextdomain(DOMAIN, str(folder))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = language
