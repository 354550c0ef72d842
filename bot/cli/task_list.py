"""The task list in and the figures out: the template, the import, the export."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import select

from bot.cli.common import _, command, fail, now, open_app
from locales import LANGUAGES, Translator
from models.db import transaction
from models.tables import Unit
from reminders.spreadsheets.export import ExportContext, write_csv, write_export
from reminders.spreadsheets.task_import import ImportRejected, import_tasks
from reminders.spreadsheets.template import write_template

EXPORT_SUFFIXES = (".xlsx", ".csv")


@command(help=_("Write the task-list template the secretariat fills in."))
def template(
    out: Annotated[Path, typer.Option(help=_("Where to write the .xlsx template"))],
) -> None:
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
    app = open_app()
    _ = app.translator
    if not file.is_file():
        fail(_("File not found: {path}", path=str(file)))
    moment = now()
    try:
        with transaction(app.open_session) as session:
            result = import_tasks(
                session, file, now=moment, today=moment.astimezone(app.settings.zone).date()
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
    progress = _progress_bar(_("Exporting")) if sys.stderr.isatty() else None
    with transaction(app.open_session) as session:
        if suffix == ".csv":
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("w", encoding="utf-8-sig", newline="") as file:
                count = write_csv(session, file, context=context, progress=progress)
        else:
            count = write_export(session, out, context=context, progress=progress)
    typer.echo(_("{count} rows written to {path}.", count=count, path=str(out)))


def _progress_bar(label: str) -> Callable[[int], None]:
    """Rows written so far, on a terminal (stderr)."""

    def advance(count: int) -> None:
        typer.echo(f"\r{label}: {count:,}".replace(",", "."), err=True, nl=False)

    return advance
