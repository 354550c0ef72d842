"""The task list in and the figures out: the template, the import, the export."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import sqlalchemy as sa
import typer
from sqlmodel import Session, select

from bot.cli.common import _, command, fail, now, open_app
from bot.cli.progress import Advance, progress_bar
from locales import LANGUAGES, Translator
from models.db import transaction
from models.tables import Assignment, Unit

if TYPE_CHECKING:  # the spreadsheet modules (openpyxl, calamine) load with their commands
    from reminders.spreadsheets.export import ExportContext

EXPORT_SUFFIXES = (".xlsx", ".csv")


@command(help=_("Write the task-list template the secretariat fills in."))
def template(
    out: Annotated[Path, typer.Option(help=_("Where to write the .xlsx template"))],
) -> None:
    from reminders.spreadsheets.template import write_template

    app = open_app()
    with transaction(app.open_session) as session:
        units = session.exec(select(Unit)).all()
    write_template(out, units)
    typer.echo(app.translator("Template written to {path}.", path=str(out)))


@command(
    "import-tasks",
    help=_("Import or update tasks from a spreadsheet; any problem means nothing is imported."),
)
def import_tasks_command(
    file: Annotated[Path, typer.Argument(help=_(".xlsx, .xlsm, .xls, .ods or .csv"))],
) -> None:
    from reminders.spreadsheets.task_import import ImportRejected, import_tasks

    app = open_app()
    _ = app.translator
    if not file.is_file():
        fail(_("File not found: {path}", path=str(file)))
    moment = now()
    try:
        with (
            progress_bar(_("Writing assignments")) as progress,
            transaction(app.open_session) as session,
        ):
            result = import_tasks(
                session,
                file,
                now=moment,
                today=moment.astimezone(app.settings.zone).date(),
                progress=progress,
            )
    except ImportRejected as rejected:
        for problem in rejected.problems:
            typer.echo(problem.describe(_), err=True)
        for warning in rejected.warnings:
            typer.echo(_("Note: {text}", text=warning.describe(_)), err=True)
        fail(
            _("{count} problem(s) found; nothing was imported.", count=len(rejected.problems)),
            code=1,
        )
    for line in result.describe(_):
        typer.echo(line)


@command(
    help=_(
        "Export one row per assignment with its latest report, a sheet per unit and a summary (.xlsx), or the rows alone (.csv)."
    )
)
def export(
    out: Annotated[Path, typer.Option(help=_("Where to write: a .xlsx or .csv file"))],
    lang: Annotated[
        str, typer.Option(help=_("Language of the sheet: vi (the template sent upward) or en"))
    ] = "vi",
    by: Annotated[str | None, typer.Option(help=_("Who exports it, for the title block"))] = None,
) -> None:
    from reminders.spreadsheets.export import ExportContext

    app = open_app()
    _ = app.translator
    if lang not in LANGUAGES:
        fail(_("Unknown language {lang}; use vi or en.", lang=lang))
    suffix = out.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        fail(_("Name the file .xlsx or .csv (not “{suffix}”).", suffix=out.suffix or out.name))
    moment = now()
    context = ExportContext(
        translator=Translator(lang, app.settings.zone),
        today=moment.astimezone(app.settings.zone).date(),
        cut_off=moment,
        exported_by=by or getpass.getuser(),
    )
    with transaction(app.open_session) as session:
        rows = session.exec(select(sa.func.count()).select_from(Assignment)).one()
        with progress_bar(_("Exporting"), total=rows) as progress:
            count = _export(session, out, context=context, progress=progress)
    typer.echo(_("{count} rows written to {path}.", count=count, path=str(out)))


def _export(
    session: Session, out: Path, *, context: ExportContext, progress: Advance | None
) -> int:
    from reminders.spreadsheets.export import write_csv, write_export

    if out.suffix.lower() == ".csv":
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8-sig", newline="") as file:
            return write_csv(session, file, context=context, progress=progress)
    return write_export(session, out, context=context, progress=progress)
