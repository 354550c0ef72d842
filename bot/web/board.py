"""The secretariat's board: the province at a glance, a unit's and a task's history, the
difficulties and proposals, the export and the task import — server-rendered pages (Jinja2)
from the same SQL aggregates as the digest and the export.

Nobody signs up: a one-time link from the bot (`/web`) or `python -m bot login-link` starts a
session (a signed, HTTP-only cookie holding a session id kept in the database). Every page and
file checks, in the database, who is signed in and what they may see: the secretariat sees the
province; a unit's lead and officers see their unit (officers read only, the import is the
secretariat's). Forms carry a CSRF token.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from locales import LANGUAGES, Translator
from locales.collation import sort_key
from models.attempts import wrong_codes_summary
from models.board import (
    BoardFilter,
    board_cells,
    by_unit_kind,
    chosen_units,
    evidence_in_view,
    notes,
    summarize,
    task_completion,
    task_units,
    unit_history,
    weekly_trend,
)
from models.db import SessionFactory, transaction
from models.enums import Status, UnitKind
from models.figures import progress_by_unit
from models.labels import CYCLE_LABELS, ROLE_LABELS, STATUS_ICONS, STATUS_LABELS, UNIT_KIND_LABELS
from models.tables import Task, Unit
from models.web_access import (
    Viewer,
    end_session,
    redeem_login_link,
    set_session_language,
    viewer_of,
)
from reminders.province import province_name

HERE = Path(__file__).parent
COOKIE = "baocao_board"
UNITS_PER_PAGE = 50
NOTES_PER_PAGE = 50
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_ORDER = (
    Status.DONE,
    Status.IN_PROGRESS,
    Status.WAITING,
    Status.NOT_STARTED,
    Status.OVERDUE,
)

T = TypeVar("T")


@dataclass(frozen=True)
class BoardSettings:
    """What the board needs from the settings."""

    secret_key: str  # signs the session cookie
    secure_cookie: bool  # HTTPS only, behind a public HTTPS address
    base_url: str  # how the board is reached, for links in the export


class BoardSite:
    """The board's routes and the session middleware they need."""

    def __init__(
        self,
        *,
        open_session: SessionFactory,
        zone: Any,
        settings: BoardSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.open_session = open_session
        self.zone = zone
        self.settings = settings
        self.clock = clock
        self.templates = Jinja2Templates(directory=HERE / "templates")  # HTML escaped

    # ---- assembly --------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home),
            Route("/welcome", self.welcome),
            Route("/login/{token}", self.login),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/lang/{language}", self.language),
            Route("/board", self.board),
            Route("/units/{unit_id:int}", self.unit_page),
            Route("/tasks/{task_id:int}", self.task_page),
            Route("/notes", self.notes_page),
            Route("/evidence/{evidence_id:int}", self.evidence),
            Route("/export.xlsx", self.export),
            Route("/import", self.import_page, methods=["GET", "POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]

    def middleware(self) -> list[Middleware]:
        return [
            Middleware(
                SessionMiddleware,
                secret_key=self.settings.secret_key,
                session_cookie=COOKIE,
                max_age=int(timedelta(hours=8).total_seconds()),
                same_site="lax",
                https_only=self.settings.secure_cookie,
            )
        ]

    # ---- plumbing --------------------------------------------------------------------------

    async def _db(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a transaction, off the event loop."""

        def run() -> T:
            with transaction(self.open_session) as session:
                return work(session)

        return await asyncio.to_thread(run)

    async def _viewer(self, request: Request) -> Viewer | None:
        session_id = request.session.get("sid")
        if not isinstance(session_id, str):
            return None
        now = self.clock()
        return await self._db(lambda s: viewer_of(s, session_id=session_id, now=now))

    def _translator(self, viewer: Viewer | None, request: Request) -> Translator:
        language = viewer.language if viewer else request.query_params.get("lang", "vi")
        return Translator(language if language in LANGUAGES else "vi", self.zone)

    def _today(self) -> date:
        return self.clock().astimezone(self.zone).date()

    def _period_start(self) -> datetime:
        today = self._today()
        return datetime.combine(today - timedelta(days=today.weekday()), time(), tzinfo=self.zone)

    def _render(
        self,
        request: Request,
        template: str,
        viewer: Viewer | None,
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        _ = self._translator(viewer, request)
        response: Response = self.templates.TemplateResponse(
            request,
            template,
            {
                "_": _,
                "viewer": viewer,
                "role": _(ROLE_LABELS[viewer.officer.role]) if viewer else "",
                "status_labels": {s: _(STATUS_LABELS[s]) for s in Status},
                "status_icons": STATUS_ICONS,
                "statuses": STATUS_ORDER,
                **context,
            },
            status_code=status_code,
        )
        return response

    def _not_found(self, request: Request, viewer: Viewer) -> Response:
        return self._render(request, "not_found.html", viewer, status_code=404)

    @staticmethod
    def _to_welcome() -> Response:
        return RedirectResponse("/welcome", status_code=303)

    # ---- signing in and out ----------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        return RedirectResponse("/board" if viewer else "/welcome", status_code=303)

    async def welcome(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        if viewer is not None:
            return RedirectResponse("/board", status_code=303)
        problem = request.query_params.get("problem")
        return self._render(request, "welcome.html", None, problem=problem)

    async def login(self, request: Request) -> Response:
        token = request.path_params["token"]
        now = self.clock()
        web_session = await self._db(lambda s: redeem_login_link(s, token=token, now=now))
        if web_session is None:
            return RedirectResponse("/welcome?problem=link", status_code=303)
        request.session.clear()
        request.session["sid"] = web_session.id
        return RedirectResponse("/board", status_code=303)

    async def logout(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        form = await request.form()
        if viewer is not None and form.get("csrf") == viewer.csrf:
            now = self.clock()
            await self._db(lambda s: end_session(s, session_id=viewer.session_id, now=now))
        request.session.clear()
        return self._to_welcome()

    async def language(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        language = request.path_params["language"]
        if viewer is None:
            return self._to_welcome()
        if language in LANGUAGES:
            await self._db(
                lambda s: set_session_language(s, session_id=viewer.session_id, language=language)
            )
        back = request.headers.get("referer") or "/board"
        return RedirectResponse(
            back if back.startswith(("/", str(request.base_url))) else "/board", status_code=303
        )

    # ---- the board -------------------------------------------------------------------------

    async def board(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._to_welcome()
        query = request.query_params
        chosen = BoardFilter(
            kind=_enum(UnitKind, query.get("kind")),
            task_id=_number(query.get("task")),
            status=_enum(Status, query.get("status")),
            not_reported=query.get("not_reported") == "1",
            most_overdue_first=query.get("sort") == "overdue",
        )
        page = max(1, _number(query.get("page")) or 1)
        today, since = self._today(), self._period_start()
        scope = viewer.scope_unit_id

        def load(session: Session) -> dict[str, Any]:
            tasks = list(session.exec(select(Task).order_by(col(Task.code))).all())
            every = progress_by_unit(session, today=today, period_start=since, unit_id=scope)
            counted = every
            if chosen.task_id is not None:
                counted = progress_by_unit(
                    session,
                    today=today,
                    period_start=since,
                    task_id=chosen.task_id,
                    unit_id=scope,
                )
            units = chosen_units(counted, chosen)
            total, done = task_completion(session, unit_id=scope)
            if chosen.most_overdue_first:
                units.sort(key=lambda u: (-u.overdue, sort_key(u.name)))
            else:
                units.sort(key=lambda u: sort_key(u.name))
            pages = max(1, -(-len(units) // UNITS_PER_PAGE))
            shown = units[(page - 1) * UNITS_PER_PAGE : page * UNITS_PER_PAGE]
            columns = [t for t in tasks if chosen.task_id in (None, t.id)]
            return {
                "headline": summarize(every, tasks=total, tasks_done=done),
                "kinds": by_unit_kind(every),
                "trend": weekly_trend(session, today=today, zone=self.zone, unit_id=scope),
                "tasks": tasks,
                "columns": columns,
                "units": shown,
                "unit_count": len(units),
                "pages": pages,
                "cells": board_cells(
                    session,
                    unit_ids=[u.unit_id for u in shown],
                    task_ids=[t.id for t in columns if t.id is not None],
                    today=today,
                ),
                "province": province_name(session, self._translator(viewer, request)),
                "wrong_codes": (
                    wrong_codes_summary(session, since=self.clock() - timedelta(days=1))
                    if viewer.whole_province
                    else None
                ),
            }

        data = await self._db(load)
        _ = self._translator(viewer, request)
        return self._render(
            request,
            "board.html",
            viewer,
            **data,
            chosen=chosen,
            page=page,
            query=dict(query),
            page_link=lambda n: "/board?" + urlencode({**dict(query), "page": n}),
            kind_labels={k: _(UNIT_KIND_LABELS[k]) for k in UnitKind},
            since=since.date(),
        )

    async def unit_page(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._to_welcome()
        unit_id = request.path_params["unit_id"]
        if not viewer.may_see_unit(unit_id):
            return self._not_found(request, viewer)  # as if it did not exist
        today = self._today()

        def load(session: Session) -> dict[str, Any] | None:
            unit = session.get(Unit, unit_id)
            if unit is None:
                return None
            return {"unit": unit, "histories": unit_history(session, unit_id=unit_id, today=today)}

        data = await self._db(load)
        if data is None:
            return self._not_found(request, viewer)
        _ = self._translator(viewer, request)
        unit: Unit = data["unit"]
        return self._render(
            request,
            "unit.html",
            viewer,
            **data,
            today=today,
            cycle_labels={c: _(CYCLE_LABELS[c]) for c in CYCLE_LABELS},
            kind_label=_(UNIT_KIND_LABELS[unit.kind]),
        )

    async def task_page(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._to_welcome()
        task_id = request.path_params["task_id"]
        today = self._today()
        scope = viewer.scope_unit_id

        def load(session: Session) -> dict[str, Any] | None:
            task = session.get(Task, task_id)
            if task is None:
                return None
            rows = task_units(session, task_id=task_id, today=today, unit_id=scope)
            if scope is not None and not rows:
                return None  # not one of the viewer's unit's tasks
            rows.sort(key=lambda r: sort_key(r.unit.name))
            return {
                "task": task,
                "rows": rows,
                "notes": notes(session, unit_id=scope, task_id=task_id, limit=20),
            }

        data = await self._db(load)
        if data is None:
            return self._not_found(request, viewer)
        _ = self._translator(viewer, request)
        task: Task = data["task"]
        return self._render(
            request,
            "task.html",
            viewer,
            **data,
            cycle_label=_(CYCLE_LABELS[task.cycle]),
        )

    async def notes_page(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._to_welcome()
        page = max(1, _number(request.query_params.get("page")) or 1)
        scope = viewer.scope_unit_id
        found = await self._db(
            lambda s: notes(
                s,
                unit_id=scope,
                offset=(page - 1) * NOTES_PER_PAGE,
                limit=NOTES_PER_PAGE + 1,
            )
        )
        return self._render(
            request,
            "notes.html",
            viewer,
            notes=found[:NOTES_PER_PAGE],
            page=page,
            more=len(found) > NOTES_PER_PAGE,
        )

    # ---- files -----------------------------------------------------------------------------

    async def evidence(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._to_welcome()
        evidence_id = request.path_params["evidence_id"]
        scope = viewer.scope_unit_id
        found = await self._db(
            lambda s: evidence_in_view(s, evidence_id=evidence_id, unit_id=scope)
        )
        if found is None:
            return self._not_found(request, viewer)
        inline = found.content_type.startswith("image/")
        disposition = "inline" if inline else "attachment"
        name = found.file_name.replace('"', "")
        return Response(
            found.data,
            media_type=found.content_type if inline else "application/octet-stream",
            headers={
                "Content-Disposition": f"{disposition}; filename*=UTF-8''{_quote(name)}",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, max-age=3600",
            },
        )

    async def export(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._to_welcome()
        if not viewer.whole_province:
            return self._not_found(request, viewer)
        # openpyxl and the rest are loaded by the first export, not by every process that serves
        from reminders.spreadsheets.export import ExportContext, write_export

        now = self.clock()
        context = ExportContext(
            translator=self._translator(viewer, request),
            today=self._today(),
            cut_off=now,
            exported_by=viewer.officer.full_name,
            evidence_link=lambda row: f"{self.settings.base_url}/units/{row.unit_id}",
        )

        def write(session: Session) -> bytes:
            buffer = BytesIO()
            write_export(session, buffer, context=context)
            return buffer.getvalue()

        data = await self._db(write)
        name = f"tien-do-{self._today().isoformat()}.xlsx"
        return Response(
            data,
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def import_page(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        if viewer is None:
            return self._to_welcome()
        if not viewer.can_import:
            return self._not_found(request, viewer)
        if request.method == "GET":
            return self._render(request, "import.html", viewer, problems=[], done=[])
        _ = self._translator(viewer, request)
        form = await request.form(max_files=1, max_fields=5, max_part_size=MAX_UPLOAD_BYTES)
        upload = form.get("file")
        if form.get("csrf") != viewer.csrf:
            return self._render(
                request,
                "import.html",
                viewer,
                status_code=403,
                problems=[_("This form has expired: open the page again.")],
                done=[],
            )
        if not isinstance(upload, UploadFile) or not upload.filename:
            return self._render(
                request,
                "import.html",
                viewer,
                status_code=400,
                problems=[_("Choose a file first.")],
                done=[],
            )
        problems, done = await self._import(upload, _)
        return self._render(
            request,
            "import.html",
            viewer,
            status_code=400 if problems else 200,
            problems=problems,
            done=done,
            file_name=upload.filename,
        )

    async def _import(self, upload: UploadFile, _: Translator) -> tuple[list[str], list[str]]:
        """The same import as the command line: every problem listed, nothing kept on any."""
        from reminders.spreadsheets.task_import import ImportRejected, import_tasks

        suffix = Path(upload.filename or "").suffix.lower()[:8]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"upload{suffix}"
            size = 0
            with path.open("wb") as file:
                while chunk := await upload.read(1024 * 1024):
                    size += len(chunk)
                    if size > MAX_UPLOAD_BYTES:
                        break
                    file.write(chunk)
            now = self.clock()
            today = self._today()
            try:
                result = await self._db(lambda s: import_tasks(s, path, now=now, today=today))
            except ImportRejected as rejected:
                lines = [p.describe(_) for p in rejected.problems]
                lines += [_("Note: {text}", text=w.describe(_)) for w in rejected.warnings]
                lines.append(
                    _(
                        "{count} problem(s) found; nothing was imported.",
                        count=len(rejected.problems),
                    )
                )
                return lines, []
        return [], result.describe(_)


def _number(text: str | None) -> int | None:
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


E = TypeVar("E", Status, UnitKind)


def _enum(kind: type[E], text: str | None) -> E | None:
    try:
        return kind(text) if text else None
    except ValueError:
        return None


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
