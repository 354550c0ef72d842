"""`python -m bot`: the secretariat's commands, the terminal chat and the offline demo.

Command names and options are a contract: scripts and the secretariat's automation call them.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import segno
import typer
from sqlmodel import Session, select

from bot.app import App, build_app
from bot.log_setup import setup_logging
from bot.settings import Settings, SettingsError, load_settings
from handlers.groups import create_bind_code
from handlers.onboarding import create_invite
from locales import LANGUAGES, Translator
from models.db import transaction
from models.enums import GroupPurpose, Role, UnitKind
from models.provinces import UnitDirectory, find_province, load_province_units
from models.tables import Officer, Unit
from reminders.spreadsheets.export import write_export
from reminders.spreadsheets.task_import import ImportRejected, import_tasks
from reminders.spreadsheets.template import write_template

cli = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Task-reporting bot of the provincial steering committee.",
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as error:
        _fail(f"error: {error}")
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


def _app(settings: Settings | None = None) -> App:
    return build_app(settings or _settings())


def _one_unit(session: Session, name: str, _: Translator) -> Unit:
    """The unit `name` (official name or code) designates, or a clear failure."""
    found = UnitDirectory(session.exec(select(Unit)).all()).find(name)
    if not found:
        _fail(_("No unit is called “{name}”.", name=name))
    if len(found) > 1:
        _fail(_("“{name}” could mean several units; use the code.", name=name))
    return found[0]


def _now() -> datetime:
    return datetime.now(UTC)


@cli.command()
def init(
    province: Annotated[str, typer.Option(help='Province name, e.g. "Quảng Ninh"')],
) -> None:
    """Create or migrate the database and load the province's communes, wards and special zones."""
    app = _app()
    _ = app.translator
    found = find_province(province)
    if found is None:
        _fail(
            _(
                'No province is called “{name}”. Use one of the 34 provinces, e.g. "Quảng Ninh".',
                name=province,
            )
        )
    with transaction(app.open_session) as session:
        added, updated = load_province_units(session, found)
    typer.echo(
        _(
            "{province}: {added} units added, {updated} updated.",
            province=found.name,
            added=added,
            updated=updated,
        )
    )


@cli.command("add-unit")
def add_unit(
    code: Annotated[str, typer.Option(help="Short code, e.g. SKHCN")],
    name: Annotated[str, typer.Option(help='Full name, e.g. "Sở Khoa học và Công nghệ"')],
    kind: Annotated[UnitKind, typer.Option(help="Kind of unit")] = UnitKind.DEPARTMENT,
) -> None:
    """Add a department (or another unit) that receives tasks; renames it if the code exists."""
    app = _app()
    _ = app.translator
    code = code.strip().upper()
    if not code or len(code) > 20 or not name.strip():
        _fail(_("A unit needs a code of at most 20 characters and a name."))
    with transaction(app.open_session) as session:
        unit = session.exec(select(Unit).where(Unit.code == code)).first()
        if unit is None:
            unit = Unit(code=code, name=name.strip(), kind=kind)
        else:
            unit.name, unit.kind = name.strip(), kind
        session.add(unit)
    typer.echo(_("Unit {code} · {name} saved.", code=code, name=name.strip()))


@cli.command()
def template(
    out: Annotated[Path, typer.Option(help="Where to write the .xlsx template")],
) -> None:
    """Write the task-list template the secretariat fills in."""
    app = _app()
    with transaction(app.open_session) as session:
        units = session.exec(select(Unit)).all()
    write_template(out, units)
    typer.echo(app.translator("Template written to {path}.", path=str(out)))


@cli.command("import-tasks")
def import_tasks_command(
    file: Annotated[Path, typer.Argument(help=".xlsx or .csv with a header row")],
) -> None:
    """Import or update tasks from a spreadsheet; any bad row means nothing is imported."""
    app = _app()
    _ = app.translator
    if not file.is_file():
        _fail(_("File not found: {path}", path=str(file)))
    try:
        with transaction(app.open_session) as session:
            result = import_tasks(session, file, now=_now())
    except ImportRejected as rejected:
        for problem in rejected.problems:
            typer.echo(problem.describe(_), err=True)
        _fail(
            _("{count} problem(s) found; nothing was imported.", count=len(rejected.problems)),
            code=1,
        )
    typer.echo(
        _(
            "Imported: {created} new tasks, {updated} updated; {added} assignments added, {removed} removed.",
            created=result.created,
            updated=result.updated,
            added=result.assignments_added,
            removed=result.assignments_removed,
        )
    )
    for kept in result.kept_with_reports:
        typer.echo(_("Kept (it already has reports): {assignment}", assignment=kept))


@cli.command()
def invite(
    unit: Annotated[str, typer.Option(help="Unit code or name")],
    role: Annotated[Role, typer.Option(help="Role of the officer")],
    name: Annotated[str, typer.Option(help="Full name of the officer")],
    qr: Annotated[
        Path | None, typer.Option(help="Also write a QR code of the Telegram link to this PNG")
    ] = None,
) -> None:
    """Create an officer and print their invite code (alone on the last line)."""
    app = _app()
    _ = app.translator
    if not name.strip():
        _fail(_("The officer needs a name."))
    username = _telegram_username(app.settings, needed=qr is not None)
    if qr is not None and username is None:
        _fail(
            _("A QR code needs the bot's name: set BOT_TELEGRAM_USERNAME or BOT_TELEGRAM_TOKEN.")
        )
    with transaction(app.open_session) as session:
        found = _one_unit(session, unit, _)
        officer = Officer(full_name=name.strip(), unit_id=found.id or 0, role=role)
        session.add(officer)
        session.flush()
        code = create_invite(
            session, officer=officer, now=_now(), ttl=app.config.handlers.invite_ttl
        ).code
        expires = app.translator.date(
            (_now() + app.config.handlers.invite_ttl).astimezone(app.settings.zone).date()
        )
    typer.echo(
        _(
            "Invite for {name} ({unit}), valid until {date}. Send /start {code} to the bot:",
            name=name.strip(),
            unit=found.name,
            date=expires,
            code=code,
        )
    )
    if username is not None:
        link = f"https://t.me/{username}?start={code}"
        typer.echo(_("Telegram link: {link}", link=link))
        if qr is not None:
            segno.make(link, error="m").save(str(qr), scale=10, border=4)
            typer.echo(_("QR code written to {path}.", path=str(qr)))
    typer.echo(code)


def _telegram_username(settings: Settings, *, needed: bool) -> str | None:
    """The bot's username for deep links; None when no bot is configured or Telegram is out of
    reach (then the invite goes without its link, unless the link is `needed`)."""
    if settings.telegram_username is None and settings.telegram_token is None:
        return None
    # Telegram's client library takes seconds to import: only commands that talk to it do.
    from aiogram.exceptions import TelegramAPIError

    from bot.runner import telegram_username

    try:
        return asyncio.run(telegram_username(settings))
    except SettingsError as error:
        _fail(f"error: {error}")
    except TelegramAPIError as error:
        problem = f"Telegram did not answer getMe ({type(error).__name__})"
        if needed:
            _fail(f"error: {problem}")
        typer.echo(f"warning: {problem}; the invite has no Telegram link", err=True)
        return None


@cli.command("bind-code")
def bind_code(
    unit: Annotated[
        str | None, typer.Option(help="Unit code or name; without it, the secretariat's group")
    ] = None,
) -> None:
    """Make a one-time code that binds a group chat (`/bind CODE`), printed on the last line."""
    app = _app()
    _ = app.translator
    with transaction(app.open_session) as session:
        target = None
        if unit is not None:
            target = _one_unit(session, unit, _)
        purpose = GroupPurpose.UNIT if target else GroupPurpose.SECRETARIAT
        code = create_bind_code(session, purpose=purpose, unit=target, now=_now()).code
    typer.echo(
        _("Add the bot to the group, then send /bind {code} there (valid 7 days):", code=code)
    )
    typer.echo(code)


@cli.command()
def run(
    webhook: Annotated[bool, typer.Option(help="Serve a webhook instead of long polling")] = False,
    host: Annotated[str, typer.Option(help="Webhook address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Webhook port")] = 8080,
) -> None:
    """Run the bot on Telegram and/or Zalo (whichever has a token): long polling by default, or a
    webhook server (paths /telegram/webhook and /zalo/webhook)."""
    from aiogram.exceptions import TelegramUnauthorizedError

    from bot.runner import run_bot

    app = _app()
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it would log every poll
    try:
        asyncio.run(run_bot(app, webhook=webhook, host=host, port=port))
    except SettingsError as error:
        _fail(f"error: {error}")
    except TelegramUnauthorizedError:
        _fail("error: BOT_TELEGRAM_TOKEN: Telegram refused this token")


@cli.command("set-webhook")
def set_webhook(
    url: Annotated[
        str, typer.Argument(help="Public HTTPS URL ending in /telegram/webhook or /zalo/webhook")
    ],
    channel: Annotated[str, typer.Option(help="telegram or zalo")] = "telegram",
) -> None:
    """Register the webhook URL with Telegram or Zalo, with the secret header it must carry."""
    from aiogram.exceptions import TelegramAPIError

    from bot.channels.zalo import ZaloError, ZaloNetworkError
    from bot.runner import set_telegram_webhook, set_zalo_webhook

    settings = _settings()
    register = {"telegram": set_telegram_webhook, "zalo": set_zalo_webhook}.get(channel)
    if register is None:
        _fail("error: --channel must be telegram or zalo")
    try:
        asyncio.run(register(settings, url))
    except SettingsError as error:
        _fail(f"error: {error}")
    except TelegramAPIError as error:
        _fail(f"error: Telegram refused the webhook: {error.message}")
    except (ZaloError, ZaloNetworkError) as error:
        _fail(f"error: Zalo refused the webhook: {error}")
    typer.echo(url)


@cli.command()
def export(
    out: Annotated[Path, typer.Option(help="Where to write the .xlsx")],
    lang: Annotated[
        str, typer.Option(help="Language of the sheet: vi (the template sent upward) or en")
    ] = "vi",
) -> None:
    """Export one row per assignment with its latest report, and a summary sheet."""
    app = _app()
    if lang not in LANGUAGES:
        _fail(app.translator("Unknown language {lang}; use vi or en.", lang=lang))
    with transaction(app.open_session) as session:
        today = _now().astimezone(app.settings.zone).date()
        sheet_language = Translator(lang, app.settings.zone)
        count = write_export(session, out, today=today, translator=sheet_language)
    typer.echo(app.translator("{count} rows written to {path}.", count=count, path=str(out)))


@cli.command()
def chat(
    user: Annotated[str, typer.Option(help="The chat account to speak as (any name)")],
) -> None:
    """Chat with the bot in this terminal, as the chat account USER (piped input works too)."""
    from bot.channels.console import ConsoleChat

    app = _app()
    ConsoleChat(
        user=user.strip()[:64] or "console",
        open_session=app.open_session,
        config=app.config.handlers,
    ).run()


@cli.command()
def demo(
    user: Annotated[str, typer.Option(help="The chat account to speak as")] = "demo",
    database: Annotated[Path, typer.Option(help="SQLite file of the demo")] = Path("data/demo.db"),
    reset: Annotated[bool, typer.Option(help="Start again from a fresh demo database")] = False,
) -> None:
    """Create a demo province (Quảng Ninh, its 54 communes and wards, tasks, officers, reports)
    and open the terminal chat as an officer who is already linked."""
    from bot.channels.console import ConsoleChat
    from bot.demo import seed_demo

    if reset:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = _settings().model_copy(update={"database_url": f"sqlite:///{database}"})
    app = _app(settings)
    with transaction(app.open_session) as session:
        summary = seed_demo(
            session, now=_now(), zone=app.settings.zone, chat_user=user, link=user == "demo"
        )
    typer.echo(summary.describe(app.translator))
    ConsoleChat(user=user, open_session=app.open_session, config=app.config.handlers).run()


def main() -> None:
    """Entry point of `python -m bot`."""
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
