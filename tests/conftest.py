"""Fixtures that build a real database: Quảng Ninh's official units, tasks, officers, chats."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from bot.app import Configuration, configure
from bot.channels import numbered_menu
from bot.settings import Settings
from handlers.context import HandlerConfig
from handlers.dispatch import handle
from handlers.onboarding import create_invite
from models.db import SessionFactory, make_engine, migrate, session_factory, transaction
from models.enums import ChatKind, Cycle, Role, UnitKind
from models.messages import Attachment, Inbound, Reply
from models.provinces import find_province, load_province_units
from models.tables import Assignment, ChannelAccount, Officer, Task, Unit

pytest_plugins = ["tests.web_harness"]  # the web board's process and browser fixtures

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# A Monday morning in Hạ Long.
NOW = datetime(2026, 11, 23, 8, 30, tzinfo=ZONE).astimezone(UTC)
TODAY = date(2026, 11, 23)

ROOT = Path(__file__).resolve().parent.parent


def database_url(tmp_path: Path) -> str:
    """SQLite in the test's own folder, or the PostgreSQL server named by BOT_TEST_DATABASE_URL."""
    return os.environ.get("BOT_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(database_url(tmp_path))
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(engine)
    yield engine
    engine.dispose()


def backend_of(connection: sa.Connection) -> int:
    """The PostgreSQL server process that serves this connection."""
    return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def drop_on_the_server(engine: Engine, backend: int) -> None:
    """PostgreSQL ends the session of the connection `backend` serves, as a restart or an
    idle timeout would."""
    administrator = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    with administrator.begin() as other:
        other.exec_driver_sql(f"SELECT pg_terminate_backend({backend})")
    administrator.dispose()


@pytest.fixture
def open_session(engine: Engine) -> SessionFactory:
    return session_factory(engine)


def configured(**settings: object) -> Configuration:
    """Every part's configuration, built from settings the way the application builds it."""
    return configure(Settings(_env_file=None, **settings))  # type: ignore[call-arg]


@pytest.fixture
def config() -> HandlerConfig:
    return configured(timezone=str(ZONE), locale="vi", invite_ttl_days=14).handlers


@dataclass
class Province:
    """The officers and tasks the stories are told with."""

    units: dict[str, Unit] = field(default_factory=dict)  # by name
    officers: dict[str, Officer] = field(default_factory=dict)  # by full name
    tasks: dict[str, Task] = field(default_factory=dict)  # by code
    assignments: dict[tuple[str, str], Assignment] = field(default_factory=dict)


def add_task(
    session: Session,
    province: Province,
    *,
    code: str,
    title: str,
    deadline: date,
    unit_names: list[str],
    **extra: object,
) -> Task:
    task = Task(code=code, title=title, deadline=deadline, created_at=NOW, updated_at=NOW, **extra)
    session.add(task)
    session.flush()
    province.tasks[code] = task
    for name in unit_names:
        unit = province.units[name]
        assert task.id is not None
        assert unit.id is not None
        assignment = Assignment(task_id=task.id, unit_id=unit.id, created_at=NOW)
        session.add(assignment)
        session.flush()
        province.assignments[(code, name)] = assignment
    return task


@pytest.fixture
def province(open_session: SessionFactory) -> Province:
    """Quảng Ninh's 54 communes and wards, one department, four officers, four tasks."""
    result = Province()
    with transaction(open_session) as session:
        quang_ninh = find_province("Quảng Ninh")
        assert quang_ninh is not None
        load_province_units(session, quang_ninh)
        session.add(Unit(code="SKHCN", name="Sở Khoa học và Công nghệ", kind=UnitKind.DEPARTMENT))
        session.flush()
        result.units = {u.name: u for u in session.exec(select(Unit)).all()}
        for name, unit_name, role in (
            ("Nguyễn Thu Hà", "Phường Hạ Long", Role.OFFICER),
            ("Trần Văn Nam", "Phường Hạ Long", Role.OFFICER),
            ("Lê Minh Tuấn", "Phường Hạ Long", Role.LEAD),
            ("Phạm Thị Lan", "Xã Ba Chẽ", Role.OFFICER),
            ("Đỗ Quốc Anh", "Sở Khoa học và Công nghệ", Role.SECRETARIAT),
        ):
            officer = Officer(full_name=name, unit_id=result.units[unit_name].id or 0, role=role)
            session.add(officer)
            session.flush()
            result.officers[name] = officer
        add_task(
            session,
            result,
            code="NV-01",
            title="Ban hành kế hoạch thực hiện Kế hoạch 538-KH/TU",
            deadline=TODAY - timedelta(days=5),
            unit_names=["Phường Hạ Long", "Xã Ba Chẽ"],
        )
        add_task(
            session,
            result,
            code="NV-02",
            title="Kiện toàn Ban Chỉ đạo cấp xã",
            deadline=TODAY + timedelta(days=20),
            unit_names=["Phường Hạ Long"],
        )
        add_task(
            session,
            result,
            code="NV-03",
            title="Triển khai phong trào “Bình dân học vụ số”",
            deadline=TODAY + timedelta(days=10),
            unit_names=["Phường Hạ Long", "Xã Ba Chẽ"],
            cycle=Cycle.MONTHLY,
        )
        add_task(
            session,
            result,
            code="NV-05",
            title="Giải quyết hồ sơ thủ tục hành chính đúng hạn",
            deadline=TODAY + timedelta(days=40),
            unit_names=["Phường Hạ Long"],
            indicator="Tỷ lệ hồ sơ giải quyết đúng hạn",
            target=98.5,
            uom="%",
        )
        add_task(
            session,
            result,
            code="NV-09",
            title="Số hóa hồ sơ thủ tục hành chính",
            deadline=TODAY + timedelta(days=30),
            unit_names=["Xã Ba Chẽ"],
        )
    return result


class Chat:
    """One chat account talking to the bot the way a messenger adapter would.

    `say` types text (a number picks from the last numbered menu, as on Zalo or the terminal);
    `press` taps a button by its label (as on Telegram).
    """

    def __init__(
        self,
        name: str,
        *,
        open_session: SessionFactory,
        config: HandlerConfig,
        channel: str = "test",
        chat_kind: ChatKind = ChatKind.PRIVATE,
    ) -> None:
        self.name = name
        self.open_session = open_session
        self.config = config
        self.channel = channel
        self.chat_kind = chat_kind
        self.now = NOW
        self.replies: list[Reply] = []

    def send(
        self,
        *,
        text: str = "",
        choice: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        delivery_id: str | None = None,
        wrong_number: bool = False,
    ) -> list[Reply]:
        self.now += timedelta(seconds=20)
        inbound = Inbound(
            channel=self.channel,
            chat_id=self.name,
            chat_kind=self.chat_kind,
            sender_id=self.name,
            sender_name=self.name,
            text=text,
            choice=choice,
            wrong_number=wrong_number,
            attachments=attachments,
            delivery_id=delivery_id or uuid.uuid4().hex,
            received_at=self.now,
        )
        self.replies = handle(inbound, open_session=self.open_session, config=self.config)
        if self.replies:
            menu = numbered_menu.render(self.replies[-1])
            numbered_menu.remember(
                self.open_session, channel=self.channel, chat_id=self.name, menu=menu, at=self.now
            )
        return self.replies

    def say(self, text: str) -> str:
        typed = numbered_menu.read_typed(
            self.open_session, channel=self.channel, chat_id=self.name, text=text
        )
        self.send(
            text="" if typed.choice else text,
            choice=typed.choice,
            wrong_number=typed.wrong_number,
        )
        return self.text

    def press(self, label_part: str) -> str:
        choice = self.button(label_part)
        self.send(choice=choice.data)
        return self.text

    def attach(self, name: str, data: bytes, content_type: str = "image/jpeg") -> str:
        kind = "photo" if content_type.startswith("image/") else "document"
        self.send(
            attachments=(
                Attachment(kind=kind, file_name=name, content_type=content_type, data=data),
            )
        )
        return self.text

    def button(self, label_part: str):  # type: ignore[no-untyped-def]
        for reply in reversed(self.replies):
            for choice in reply.choices:
                if label_part.casefold() in choice.label.casefold():
                    return choice
        labels = [c.label for r in self.replies for c in r.choices]
        raise AssertionError(f"no button with {label_part!r} among {labels}")

    @property
    def text(self) -> str:
        return "\n\n".join(numbered_menu.render(r).text for r in self.replies)


@pytest.fixture
def chat_as(open_session: SessionFactory, config: HandlerConfig, province: Province):  # type: ignore[no-untyped-def]
    """`chat_as("Nguyễn Thu Hà")`: a chat account already linked to that officer."""

    def make(
        officer_name: str | None, *, account: str | None = None, language: str = "vi"
    ) -> Chat:
        name = account or (officer_name or "stranger").replace(" ", "_")
        if officer_name is not None:
            with transaction(open_session) as session:
                session.add(
                    ChannelAccount(
                        channel="test",
                        external_id=name,
                        display_name=officer_name,
                        officer_id=province.officers[officer_name].id,
                        language=language,
                        created_at=NOW,
                        last_seen_at=NOW,
                    )
                )
        return Chat(name, open_session=open_session, config=config)

    return make


@pytest.fixture
def invite_for(open_session: SessionFactory, province: Province):  # type: ignore[no-untyped-def]
    def make(
        officer_name: str, *, now: datetime = NOW, ttl: timedelta = timedelta(days=14)
    ) -> str:
        with transaction(open_session) as session:
            officer = session.get(Officer, province.officers[officer_name].id)
            assert officer is not None
            return create_invite(session, officer=officer, now=now, ttl=ttl).code

    return make


def rows(open_session: SessionFactory, table: type[SQLModel]) -> list:  # type: ignore[type-arg]
    """Every row of `table`, in insertion order."""
    order = list(sa.inspect(table).primary_key)  # type: ignore[union-attr]
    with open_session() as session:
        return list(session.exec(select(table).order_by(*order)).all())
