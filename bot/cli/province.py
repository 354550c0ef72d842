"""Setting up the province: its official units, its departments, its working calendar."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import select

from bot.cli.common import _, command, fail, open_app
from locales import N_
from models.db import transaction
from models.enums import UnitKind
from models.provinces import (
    all_provinces,
    closest_provinces,
    find_province,
    load_province_units,
    load_units,
    short_province_name,
)
from models.tables import Unit

WORKED_SATURDAY_REASONS = {
    "BOT_WORKING_SATURDAYS": N_("set in BOT_WORKING_SATURDAYS"),
    "holidays": N_("worked in exchange for a day off"),
}


@command(
    help=_(
        "Create or migrate the database and load the official communes, wards and special zones of a province, or of the whole country."
    )
)
def init(
    province: Annotated[
        str | None,
        typer.Option(help=_('Province or city, e.g. "Quảng Ninh", "TP. Hồ Chí Minh", "Huế"')),
    ] = None,
    whole_country: Annotated[
        bool, typer.Option("--all", help=_("Load the whole country (34 provinces, 3,321 units)"))
    ] = False,
) -> None:
    app = open_app()
    _ = app.translator
    if whole_country:
        with transaction(app.open_session) as session:
            added, updated = load_units(session, all_provinces())
        typer.echo(
            _(
                "The whole country: {added} units added, {updated} updated.",
                added=added,
                updated=updated,
            )
        )
        return
    if province is None:
        fail(_('Name the province (--province "Quảng Ninh") or load the whole country (--all).'))
    found = find_province(province)
    if found is None:
        message = _("No province is called “{name}”.", name=province)
        closest = closest_provinces(province)
        if closest:
            message += " " + _("Did you mean: {names}?", names=", ".join(closest))
        names = ", ".join(short_province_name(p) for p in all_provinces())
        fail(f"{message}\n" + _("The 34 provinces and cities: {names}", names=names))
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


@command(
    "add-unit",
    help=_(
        "Add a department (or another unit) that receives tasks; renames it if the code exists."
    ),
)
def add_unit(
    code: Annotated[str, typer.Option(help=_("Short code, e.g. SKHCN"))],
    name: Annotated[str, typer.Option(help=_('Full name, e.g. "Sở Khoa học và Công nghệ"'))],
    kind: Annotated[UnitKind, typer.Option(help=_("Kind of unit"))] = UnitKind.DEPARTMENT,
) -> None:
    app = open_app()
    _ = app.translator
    code = code.strip().upper()
    if not code or len(code) > 20 or not name.strip():
        fail(_("A unit needs a code of at most 20 characters and a name."))
    with transaction(app.open_session) as session:
        unit = session.exec(select(Unit).where(Unit.code == code)).first()
        if unit is None:
            unit = Unit(code=code, name=name.strip(), kind=kind)
        else:
            unit.name, unit.kind = name.strip(), kind
        session.add(unit)
    typer.echo(_("Unit {code} · {name} saved.", code=code, name=name.strip()))


@command(
    help=_("Print the weekdays off and the working Saturdays that reminders follow in a year.")
)
def calendar(year: Annotated[int, typer.Argument(help=_("The year, e.g. 2026"))]) -> None:
    app = open_app()
    _ = app.translator
    if not 2000 <= year <= 2100:
        fail(_("Give a year between 2000 and 2100."))
    work = app.config.calendar
    typer.echo(_("Working calendar {year} ({zone})", year=year, zone=app.settings.timezone))
    typer.echo(_("Weekdays off:"))
    for day in work.days_off(year, language=_.language):
        typer.echo(f"  {_.date(day.day)} ({_.weekday(day.day)}): {day.reason}")
    typer.echo(_("Working Saturdays:"))
    saturdays = work.worked_saturdays(year)
    for day in saturdays:
        reason = WORKED_SATURDAY_REASONS.get(day.reason)
        typer.echo(f"  {_.date(day.day)}: {_(reason) if reason else day.reason}")
    if not saturdays:
        typer.echo("  " + _("none"))
