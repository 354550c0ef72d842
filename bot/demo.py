"""The offline demo: Quảng Ninh's real 54 communes and wards, a realistic task list, officers
and a history of reports, with the terminal chat account linked to a ward officer."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from handlers.onboarding import create_invite
from locales import Translator
from models.accounts import link_account, sender_for
from models.assignments import ReportValues, record_report
from models.enums import Cycle, Role, Status, UnitKind
from models.provinces import find_province, load_province_units
from models.tables import Assignment, Evidence, Invite, Officer, Task, Unit

PROVINCE = "Quảng Ninh"
DEMO_UNIT = "Phường Hạ Long"
DEMO_OFFICER = "Nguyễn Thu Hà"

DEPARTMENTS = (
    ("SKHCN", "Sở Khoa học và Công nghệ"),
    ("SNV", "Sở Nội vụ"),
    ("STC", "Sở Tài chính"),
    ("VPUBND", "Văn phòng UBND tỉnh"),
    ("SGDDT", "Sở Giáo dục và Đào tạo"),
)


@dataclass(frozen=True)
class DemoTask:
    code: str
    title: str
    days_to_deadline: int
    units: str  # "local" for every commune and ward, else a department code
    done_share: float  # the share of units that have completed it
    cycle: Cycle = Cycle.ONCE
    indicator: str | None = None
    target: float | None = None
    uom: str | None = None


TASKS = (
    DemoTask(
        "NV-01",
        "Ban hành kế hoạch thực hiện Kế hoạch 538-KH/TU về đột phá phát triển KHCN, ĐMST và chuyển đổi số",
        -20,
        "local",
        43 / 54,
    ),
    DemoTask(
        "NV-02",
        "Ban hành kế hoạch thực hiện Kế hoạch 138/KH-UBND của UBND tỉnh",
        10,
        "local",
        45 / 54,
    ),
    DemoTask(
        "NV-03",
        "Xây dựng kế hoạch triển khai phong trào “Bình dân học vụ số”",
        25,
        "local",
        30 / 54,
        Cycle.MONTHLY,
    ),
    DemoTask(
        "NV-04",
        "Kiện toàn Ban Chỉ đạo cấp xã về phát triển KHCN, ĐMST và chuyển đổi số",
        -60,
        "local",
        1.0,
    ),
    DemoTask(
        "NV-05",
        "Giải quyết hồ sơ thủ tục hành chính đúng hạn trên hệ thống điện tử",
        38,
        "local",
        0.0,
        Cycle.QUARTERLY,
        "Tỷ lệ hồ sơ giải quyết đúng hạn",
        98.5,
        "%",
    ),
    DemoTask(
        "NV-06",
        "Phủ sóng 4G/5G đến thôn, bản, khu phố",
        70,
        "SKHCN",
        0.0,
        Cycle.MONTHLY,
        "Tỷ lệ thôn, khu phố có sóng 4G/5G",
        99,
        "%",
    ),
    DemoTask("NV-07", "Xây dựng Quy chế làm việc của Ban Chỉ đạo tỉnh", -90, "SKHCN", 1.0),
    DemoTask(
        "NV-08",
        "Vận hành hệ thống giải quyết thủ tục hành chính theo mô hình chính quyền địa phương 2 cấp",
        15,
        "VPUBND",
        0.0,
    ),
    DemoTask(
        "NV-09",
        "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
        45,
        "local",
        0.2,
        Cycle.MONTHLY,
        "Tỷ lệ hồ sơ được số hóa",
        100,
        "%",
    ),
    DemoTask(
        "NV-10",
        "Bồi dưỡng kỹ năng số cho cán bộ, công chức cấp xã",
        30,
        "SNV",
        0.0,
        Cycle.QUARTERLY,
        "Số cán bộ được bồi dưỡng",
        1200,
        "người",
    ),
)

RESULTS = {
    Status.DONE: (
        "Đã ban hành, gửi bản ký số về Sở KH&CN",
        "Đã hoàn thành, đã cập nhật lên hệ thống theo dõi",
    ),
    Status.IN_PROGRESS: (
        "Đã trình dự thảo, đang xin ý kiến các ban",
        "Đang tổng hợp số liệu từ các tổ dân phố",
        "Đã tổ chức hội nghị triển khai",
    ),
    Status.WAITING: ("Chờ hướng dẫn mẫu biểu từ Bộ Khoa học và Công nghệ",),
}
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Quốc", "Thanh", "Ngọc")
GIVEN = (
    "Anh",
    "Bình",
    "Cường",
    "Dung",
    "Hải",
    "Hương",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phong",
    "Quân",
    "Trang",
    "Tuấn",
)


@dataclass(frozen=True)
class DemoSummary:
    units: int
    tasks: int
    officer: str | None  # who the chat account speaks as, if it is linked
    unit: str | None
    spare_invite: str | None
    spare_unit: str | None

    def describe(self, _: Translator) -> str:
        lines = [
            _(
                "Demo of {province}: {units} units, {tasks} tasks, with reports already made.",
                province=PROVINCE,
                units=self.units,
                tasks=self.tasks,
            ),
        ]
        if self.officer:
            lines.append(
                _(
                    "You are chatting as {name}, officer of {unit}. Try /nhiemvu, /baocao, /sua, /help; /attach FILE sends a photo; Ctrl-D quits.",
                    name=self.officer,
                    unit=self.unit,
                )
            )
        if self.spare_invite:
            lines.append(
                _(
                    "Invite code of an officer of {other}: /start {code} (chat as another user to try it: python -m bot demo --user another-name).",
                    code=self.spare_invite,
                    other=self.spare_unit,
                )
            )
        return "\n".join([*lines, ""])


def seed_demo(
    session: Session, *, now: datetime, zone: ZoneInfo, chat_user: str, link: bool
) -> DemoSummary:
    """Fill an empty database with the demo province; with `link`, the chat account `chat_user`
    speaks as the demo ward officer."""
    if session.exec(select(Task)).first() is None:
        _seed(session, now=now, zone=zone)
    account = sender_for(
        session,
        channel="console",
        external_id=chat_user,
        chat_id=chat_user,
        display_name=chat_user,
        at=now,
        language="vi",
    ).account
    officer_id = account.officer_id
    if link and officer_id is None:
        demo_officer = session.exec(select(Officer).where(Officer.full_name == DEMO_OFFICER)).one()
        assert demo_officer.id is not None
        officer_id = demo_officer.id
        link_account(session, account_id=account.id, officer_id=officer_id)
    officer = session.get(Officer, officer_id) if officer_id else None
    unit = session.get(Unit, officer.unit_id) if officer else None
    spare = session.exec(
        select(Invite).where(col(Invite.used_at).is_(None)).order_by(col(Invite.id))
    ).first()
    spare_officer = session.get(Officer, spare.officer_id) if spare else None
    spare_unit = session.get(Unit, spare_officer.unit_id) if spare_officer else None
    return DemoSummary(
        units=len(session.exec(select(Unit.id)).all()),
        tasks=len(session.exec(select(Task.id)).all()),
        officer=officer.full_name if officer else None,
        unit=unit.name if unit else None,
        spare_invite=spare.code if spare else None,
        spare_unit=spare_unit.name if spare_unit else None,
    )


def _seed(session: Session, *, now: datetime, zone: ZoneInfo) -> None:
    rng = random.Random(57)  # the resolution's number: the same demo every time
    province = find_province(PROVINCE)
    assert province is not None
    load_province_units(session, province)
    for code, name in DEPARTMENTS:
        session.add(Unit(code=code, name=name, kind=UnitKind.DEPARTMENT))
    session.flush()
    units = session.exec(select(Unit)).all()
    local = [u for u in units if u.kind != UnitKind.DEPARTMENT]
    by_code = {u.code: u for u in units}
    today = now.astimezone(zone).date()

    officers = {u.id: _officer(session, rng, u, Role.OFFICER) for u in units}
    evidence_left = 6  # a few completed reports come with a photo and a signed PDF
    demo_unit = next(u for u in units if u.name == DEMO_UNIT)
    demo_officer = officers[demo_unit.id]
    demo_officer.full_name = DEMO_OFFICER
    _officer(session, rng, demo_unit, Role.LEAD)
    _officer(session, rng, by_code["SKHCN"], Role.SECRETARIAT)
    session.flush()

    for spec in TASKS:
        task = Task(
            code=spec.code,
            title=spec.title,
            deadline=today + timedelta(days=spec.days_to_deadline),
            cycle=spec.cycle,
            indicator=spec.indicator,
            target=spec.target,
            uom=spec.uom,
            created_at=now - timedelta(days=120),
            updated_at=now - timedelta(days=120),
        )
        session.add(task)
        session.flush()
        targets = local if spec.units == "local" else [by_code[spec.units]]
        done_count = round(spec.done_share * len(targets))
        shuffled = rng.sample(targets, len(targets))
        if spec.units == "local" and demo_unit in shuffled[:done_count] and spec.done_share < 1:
            shuffled.remove(demo_unit)  # leave the demo officer something to report
            shuffled.append(demo_unit)
        for position, unit in enumerate(shuffled):
            assert task.id is not None
            assert unit.id is not None
            assignment = Assignment(task_id=task.id, unit_id=unit.id, created_at=task.created_at)
            session.add(assignment)
            session.flush()
            status = _seeded_status(rng, position < done_count, unit is demo_unit, spec)
            if status is None:
                continue
            percent = 100 if status == Status.DONE else rng.choice((20, 30, 40, 50, 60, 70, 80))
            value = None
            if spec.target is not None:
                value = (
                    round(spec.target * rng.uniform(0.6, 1.0) * percent / 100, 1)
                    if spec.uom == "%"
                    else float(round(spec.target * percent / 100))
                )
            report_id = record_report(
                session,
                assignment=assignment,
                officer=officers[unit.id],
                account=None,
                values=ReportValues(
                    status=status,
                    percent=percent,
                    indicator_value=value,
                    result=rng.choice(RESULTS[status]),
                    blockers=RESULTS[Status.WAITING][0] if status == Status.WAITING else None,
                ),
                at=now - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8)),
            )
            if status == Status.DONE and evidence_left > 0:
                evidence_left -= 1
                _attach_evidence(session, report_id, title=f"{task.code} · {unit.name}", at=now)
    spare_unit = next(u for u in local if u is not demo_unit)
    spare = _officer(session, rng, spare_unit, Role.OFFICER)
    session.flush()
    create_invite(session, officer=spare, now=now, ttl=timedelta(days=30))


def _attach_evidence(session: Session, report_id: int, *, title: str, at: datetime) -> None:
    """A photo of the signed decision and the decision as a PDF, drawn for the demo."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    files = []
    for kind, file_name, content_type, extension in (
        ("photo", "quyet-dinh.png", "image/png", "png"),
        ("document", "quyet-dinh.pdf", "application/pdf", "pdf"),
    ):
        figure = Figure(figsize=(4, 3), dpi=80)
        FigureCanvasAgg(figure)
        figure.patch.set_facecolor("#fdf6e3")
        figure.text(0.5, 0.8, "QUYẾT ĐỊNH", ha="center", fontsize=16, fontweight="bold")
        figure.text(0.5, 0.6, title, ha="center", fontsize=9, wrap=True)
        figure.text(0.75, 0.2, "(đã ký số)", ha="center", fontsize=9, color="#c62828")
        buffer = BytesIO()
        figure.savefig(buffer, format=extension)
        files.append((kind, file_name, content_type, buffer.getvalue()))
    for kind, file_name, content_type, data in files:
        session.add(
            Evidence(
                report_id=report_id,
                kind=kind,
                file_name=file_name,
                content_type=content_type,
                size=len(data),
                data=data,
                created_at=at,
            )
        )


def _seeded_status(
    rng: random.Random, done: bool, is_demo_unit: bool, spec: DemoTask
) -> Status | None:
    """What a unit has reported so far; None for no report yet."""
    if done:
        return Status.DONE
    if is_demo_unit:
        return Status.IN_PROGRESS if spec.code in ("NV-02", "NV-05") else None
    roll = rng.random()
    if roll < 0.45:
        return Status.IN_PROGRESS
    if roll < 0.55:
        return Status.WAITING
    return None


def _officer(session: Session, rng: random.Random, unit: Unit, role: Role) -> Officer:
    name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    assert unit.id is not None
    officer = Officer(full_name=name, unit_id=unit.id, role=role)
    session.add(officer)
    return officer
