"""What every command shares: the Typer app (its help in the configured language), failing
with one line that says what to fix, the settings and the assembled application."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import typer
from sqlmodel import Session, select
from typer.core import TyperCommand, TyperGroup

from bot.app import App, build_app
from bot.log_setup import setup_logging
from bot.settings import Settings, SettingsError, language_of_environment, load_settings
from locales import N_, Translator
from models.db import DatabaseProblem
from models.provinces import UnitDirectory
from models.tables import Unit

F = TypeVar("F", bound=Callable[..., Any])

# Help texts are read when the commands are declared, so this one is made at import.
_ = Translator(language_of_environment(), UTC)


class _SpeaksTheConfiguredLanguage:
    """Typer's own words ("Usage:", the --help line) in the configured language; the panel
    titles are translated through gettext (see `locales.libraries`)."""

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=_("Usage:") + " ")

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = _("Show this message and exit.")
        return option


class LocalCommand(_SpeaksTheConfiguredLanguage, TyperCommand):
    pass


class LocalGroup(_SpeaksTheConfiguredLanguage, TyperGroup):
    pass


cli = typer.Typer(
    cls=LocalGroup,
    add_completion=False,
    no_args_is_help=True,
    help=_("Task-reporting bot of the provincial steering committee."),
    pretty_exceptions_enable=False,
)


def command(name: str | None = None, *, help: str) -> Callable[[F], F]:  # noqa: A002
    """Declare a command of the app (with its help in the configured language)."""
    return cli.command(name, help=help, cls=LocalCommand)


DATABASE_PROBLEMS = {
    "unsupported": N_(
        "BOT_DATABASE_URL: {detail} is not supported; use sqlite:///path/file.db or postgresql+psycopg://user:password@host/db"
    ),
    "folder": N_(
        "BOT_DATABASE_URL: the folder {detail} does not exist; create it or correct the path"
    ),
    "sqlite_file": N_(
        "BOT_DATABASE_URL: cannot open the SQLite file {detail}; check that its folder is writable"
    ),
    "auth": N_(
        "BOT_DATABASE_URL: the database refused the user “{detail}” or its password; check both"
    ),
    "unreachable": N_(
        "BOT_DATABASE_URL: no database server answers at {detail}; is it running, and is the address right?"
    ),
    "no_database": N_(
        "BOT_DATABASE_URL: the database “{detail}” does not exist; create it or correct its name"
    ),
    "other": N_("BOT_DATABASE_URL: the database cannot be used: {detail}"),
}


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def fail_with(error: SettingsError, code: int = 2) -> NoReturn:
    """One line naming the variable and what to fix, in the configured language."""
    fail(_("error: {problem}", problem=error.describe(_)), code)


def load() -> Settings:
    """The settings (or one line naming the bad variable), with secrets kept out of the log."""
    try:
        settings = load_settings()
    except SettingsError as error:
        fail_with(error)
    secrets = [
        s.get_secret_value()
        for s in (
            settings.telegram_token,
            settings.webhook_secret,
            settings.zalo_token,
            settings.zalo_webhook_secret,
        )
        if s
    ]
    setup_logging(level=logging.WARNING, secrets=secrets)
    return settings


def open_app(settings: Settings | None = None) -> App:
    """The application on its database, or one line saying why the database cannot be used."""
    try:
        return build_app(settings or load())
    except DatabaseProblem as problem:
        fail(
            _(
                "error: {problem}",
                problem=_(DATABASE_PROBLEMS[problem.kind], detail=problem.detail),
            )
        )


def one_unit(session: Session, name: str, _: Translator) -> Unit:
    """The unit `name` (official name or code) designates, or a clear failure with suggestions."""
    directory = UnitDirectory(session.exec(select(Unit)).all())
    found = directory.find(name)
    if len(found) > 1:
        fail(
            _(
                "“{name}” could mean several units; use the code: {names}",
                name=name,
                names="; ".join(f"{u.name} ({u.code})" for u in found[:5]),
            )
        )
    if not found:
        closest = directory.suggest(name)
        message = _("No unit is called “{name}”.", name=name)
        if closest:
            message += " " + _("Did you mean: {names}?", names=", ".join(u.name for u in closest))
        fail(message)
    return found[0]


def now() -> datetime:
    return datetime.now(UTC)
