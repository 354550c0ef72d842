"""The people and groups of the province: invites, the list of officers, revoking one, and
the codes that bind group chats."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from sqlmodel import Session, col

from bot.cli.common import _, command, fail, fail_with, now, one_unit, open_app
from bot.settings import Settings, SettingsError
from handlers.groups import create_bind_code
from handlers.onboarding import create_invite
from locales import Translator
from models.attempts import wrong_codes_summary
from models.db import transaction
from models.enums import GroupPurpose, Role
from models.labels import ROLE_LABELS
from models.officers import find_officers, officer_overview
from models.tables import Invite, Officer
from models.web_access import create_login_link, end_sessions_of


@command(
    help=_(
        "Make an invite code for an officer (created if the unit has no one of that name) and print it alone on the last line."
    )
)
def invite(
    unit: Annotated[str, typer.Option(help=_("Unit code or name"))],
    role: Annotated[Role, typer.Option(help=_("Role of the officer"))],
    name: Annotated[str, typer.Option(help=_("Full name of the officer"))],
    qr: Annotated[
        Path | None, typer.Option(help=_("Also write a QR code of the Telegram link to this PNG"))
    ] = None,
) -> None:
    app = open_app()
    _ = app.translator
    name = " ".join(name.split())
    if not name:
        fail(_("The officer needs a name."))
    username = _telegram_username(app.settings, _, needed=qr is not None)
    if qr is not None and username is None:
        fail(_("A QR code needs the bot's name: set BOT_TELEGRAM_USERNAME or BOT_TELEGRAM_TOKEN."))
    ttl = app.config.handlers.invite_ttl
    moment = now()
    with transaction(app.open_session) as session:
        found = one_unit(session, unit, _)
        assert found.id is not None
        same = find_officers(session, name, unit_id=found.id)
        if same:
            officer = same[0]
            typer.echo(
                _(
                    "{name} is already an officer of {unit}: a new code is made for them (no second officer).",
                    name=officer.full_name,
                    unit=found.name,
                )
            )
            if not officer.active:
                typer.echo(_("Their access, revoked before, is given back."))
            officer.active, officer.role = True, role
        else:
            officer = Officer(full_name=name, unit_id=found.id, role=role)
        session.add(officer)
        session.flush()
        code = create_invite(session, officer=officer, now=moment, ttl=ttl).code
    expires = _.date((moment + ttl).astimezone(app.settings.zone).date())
    typer.echo(
        _(
            "Invite for {name} ({unit}), valid until {date}. Send /start {code} to the bot:",
            name=officer.full_name,
            unit=found.name,
            date=expires,
            code=code,
        )
    )
    if username is not None:
        link = f"https://t.me/{username}?start={code}"
        typer.echo(_("Telegram link: {link}", link=link))
        if qr is not None:
            import segno  # the QR code, only when one is drawn

            segno.make(link, error="m").save(str(qr), scale=10, border=4)
            typer.echo(_("QR code written to {path}.", path=str(qr)))
    typer.echo(code)


def _telegram_username(settings: Settings, _: Translator, *, needed: bool) -> str | None:
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
        fail_with(error)
    except TelegramAPIError as error:
        problem = _("Telegram did not answer getMe ({error})", error=type(error).__name__)
        if needed:
            fail(_("error: {problem}", problem=problem))
        typer.echo(
            _("warning: {problem}; the invite has no Telegram link", problem=problem), err=True
        )
        return None


@command(help=_("List the officers (of one unit), their messengers and their last report."))
def officers(
    unit: Annotated[str | None, typer.Option(help=_("Unit code or name"))] = None,
) -> None:
    app = open_app()
    _ = app.translator
    moment = now()
    with transaction(app.open_session) as session:
        unit_id = one_unit(session, unit, _).id if unit else None
        people = officer_overview(session, unit_id=unit_id)
        wrong = wrong_codes_summary(session, since=moment - timedelta(days=1))
    if wrong.count:
        typer.echo(
            _(
                "Wrong codes typed in the last 24 hours: {count}, from {accounts} chat account(s); the latest at {time}.",
                count=wrong.count,
                accounts=wrong.accounts,
                time=_.datetime(wrong.latest or moment),
            )
        )
    if not people:
        typer.echo(_("No officers yet: make one with `invite`."))
        return
    for entry in people:
        officer = entry.officer
        messengers = ", ".join(entry.messengers) or _("not linked yet")
        last = _.datetime(entry.last_report) if entry.last_report else _("never")
        state = "" if officer.active else " · " + _("revoked")
        typer.echo(
            f"#{officer.id} {officer.full_name} · {entry.unit.name} · "
            f"{_(ROLE_LABELS[officer.role])}{state}"
        )
        typer.echo(
            "    " + _("Messengers: {list} · last report: {when}", list=messengers, when=last)
        )


def _one_officer(
    session: Session, officer: str, unit: str | None, _: Translator, *, active_only: bool
) -> Officer:
    """The officer a name or #id (in a unit) designates, or one line saying why not."""
    unit_id = one_unit(session, unit, _).id if unit else None
    found = [
        o
        for o in find_officers(session, officer.lstrip("#"), unit_id=unit_id)
        if o.active or not active_only
    ]
    if not found:
        fail(_("No officer is called “{name}”; see `officers`.", name=officer))
    if len(found) > 1:
        fail(
            _(
                "Several officers are called “{name}”: give the #id ({ids}) or --unit.",
                name=officer,
                ids=", ".join(f"#{o.id}" for o in found),
            )
        )
    return found[0]


@command(help=_("Take an officer's access away (their reports stay in the history)."))
def revoke(
    officer: Annotated[str, typer.Option(help=_("Full name or #id (see `officers`)"))],
    unit: Annotated[
        str | None, typer.Option(help=_("Unit code or name, when names repeat"))
    ] = None,
) -> None:
    app = open_app()
    _ = app.translator
    moment = now()
    with transaction(app.open_session) as session:
        person = _one_officer(session, officer, unit, _, active_only=False)
        person.active = False
        session.add(person)
        # Codes not used yet stop working too.
        session.execute(
            sa.update(Invite)
            .where(col(Invite.officer_id) == person.id, col(Invite.used_at).is_(None))
            .values(expires_at=moment)
        )
        assert person.id is not None
        end_sessions_of(session, officer_id=person.id, now=moment)  # signed out of the board
        name = person.full_name
    typer.echo(
        _("{name} can no longer use the bot; their reports stay in the history.", name=name)
    )


@command(
    "login-link",
    help=_(
        "Print a one-time link (15 minutes) that signs an officer in to the web board: for the first administrator; others ask the bot for /web."
    ),
)
def login_link(
    officer: Annotated[str, typer.Option(help=_("Full name or #id (see `officers`)"))],
    unit: Annotated[
        str | None, typer.Option(help=_("Unit code or name, when names repeat"))
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help=_(
                "Where the board is reached (default: BOT_PUBLIC_BASE_URL, or http://127.0.0.1:8080)"
            )
        ),
    ] = None,
) -> None:
    from bot.runner import web_base_url

    app = open_app()
    _ = app.translator
    base = (base_url or web_base_url(app.settings, host="127.0.0.1", port=8080)).rstrip("/")
    with transaction(app.open_session) as session:
        person = _one_officer(session, officer, unit, _, active_only=True)
        token = create_login_link(session, officer=person, now=now())
        name = person.full_name
    typer.echo(_("Sign-in link for {name}, valid once for 15 minutes:", name=name))
    typer.echo(f"{base}/login/{token}")


@command(
    "bind-code",
    help=_("Make a one-time code that binds a group chat (/bind CODE), printed on the last line."),
)
def bind_code(
    unit: Annotated[
        str | None, typer.Option(help=_("Unit code or name; without it, the secretariat's group"))
    ] = None,
) -> None:
    app = open_app()
    _ = app.translator
    with transaction(app.open_session) as session:
        target = one_unit(session, unit, _) if unit is not None else None
        purpose = GroupPurpose.UNIT if target else GroupPurpose.SECRETARIAT
        code = create_bind_code(session, purpose=purpose, unit=target, now=now()).code
    typer.echo(
        _("Add the bot to the group, then send /bind {code} there (valid 7 days):", code=code)
    )
    typer.echo(code)
