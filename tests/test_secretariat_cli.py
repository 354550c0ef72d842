"""The secretariat's command line, run as the real `python -m bot` process."""

from __future__ import annotations

import os
import pty
import select as select_module
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from models.db import make_engine
from models.enums import Cycle, Role, UnitKind
from models.provinces import all_provinces, find_province
from models.tables import Assignment, Officer, Report, Task, Unit
from tests.conftest import ROOT


class Bot:
    """Runs `python -m bot …` against one database, like the secretariat's scripts do."""

    def __init__(self, tmp_path: Path) -> None:
        self.url = os.environ.get("BOT_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'bot.db'}"
        self.cwd = tmp_path
        self.env = {**os.environ, "BOT_DATABASE_URL": self.url, "BOT_LOCALE": "vi"}
        self.engine: Engine

    def run(
        self,
        *args: str,
        input: str | None = None,
        ok: bool = True,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            input=input,
            capture_output=True,
            text=True,
            cwd=self.cwd,
            env={**self.env, **(env or {}), "PYTHONPATH": str(ROOT)},
            timeout=120,
            check=False,
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    def session(self) -> Session:
        return Session(self.engine)


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    bot = Bot(tmp_path)
    bot.engine = make_engine(bot.url)
    if bot.url.startswith("postgresql"):
        import sqlalchemy as sa

        with bot.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    yield bot
    bot.engine.dispose()


def fill_tasks(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


HEADER = [
    "Mã nhiệm vụ",
    "Tên nhiệm vụ",
    "Đơn vị thực hiện",
    "Hạn hoàn thành",
    "Kỳ báo cáo",
    "Chỉ tiêu",
    "Giá trị mục tiêu",
    "Đơn vị tính",
    "Mô tả",
]


def test_init_loads_the_54_official_units_of_quang_ninh(bot: Bot) -> None:
    result = bot.run("init", "--province", "Quảng Ninh")
    assert "Quảng Ninh: đã thêm 54 đơn vị" in result.stdout
    with bot.session() as session:
        units = session.exec(select(Unit)).all()
        kinds = sorted(u.kind for u in units)
        assert kinds.count(UnitKind.WARD) == 30
        assert kinds.count(UnitKind.COMMUNE) == 22
        assert kinds.count(UnitKind.SPECIAL_ZONE) == 2
        an_sinh = next(u for u in units if u.name == "Phường An Sinh")
        assert an_sinh.code == "07090"
        assert {"Đặc khu Cô Tô", "Đặc khu Vân Đồn"} <= {u.name for u in units}
    again = bot.run("init", "--province", "tinh quang ninh")
    assert "đã thêm 0 đơn vị, cập nhật 0 đơn vị" in again.stdout


def test_an_unknown_province_or_a_bad_setting_fails_with_one_clear_line(bot: Bot) -> None:
    unknown = bot.run("init", "--province", "Atlantis", ok=False)
    assert unknown.returncode == 2
    assert "Không có tỉnh nào tên “Atlantis”" in unknown.stderr
    zone = bot.run(
        "init", "--province", "Quảng Ninh", ok=False, env={"BOT_TIMEZONE": "Mars/Olympus"}
    )
    assert zone.returncode == 2
    assert zone.stderr.strip().splitlines() == [
        "lỗi: BOT_TIMEZONE: không có múi giờ 'Mars/Olympus' (múi giờ của tỉnh là Asia/Ho_Chi_Minh)"
    ]
    ttl = bot.run("export", "--out", "x.xlsx", ok=False, env={"BOT_INVITE_TTL_DAYS": "soon"})
    assert ttl.stderr.strip().splitlines() == ["lỗi: BOT_INVITE_TTL_DAYS: cần một số nguyên"]
    url = bot.run("export", "--out", "x.xlsx", ok=False, env={"BOT_DATABASE_URL": "not a url"})
    assert url.stderr.strip().splitlines()[0].startswith("lỗi: BOT_DATABASE_URL:")


def test_template_fill_import_and_reimport_updates_instead_of_duplicating(
    bot: Bot, tmp_path: Path
) -> None:
    bot.run("init", "--province", "Quảng Ninh")
    bot.run("add-unit", "--code", "SKHCN", "--name", "Sở Khoa học và Công nghệ")
    bot.run("template", "--out", "mau.xlsx")
    template = load_workbook(tmp_path / "mau.xlsx")
    header = [c.value for c in template.worksheets[0][1]]
    assert header == ["STT", *HEADER]
    assert "Phường Hạ Long" in [c.value for c in template["Đơn vị"]["B"]]

    fill_tasks(
        tmp_path / "nv.xlsx",
        HEADER,
        [
            [
                "NV-01",
                "Ban hành kế hoạch thực hiện 538-KH/TU",
                "Tất cả xã, phường",
                date(2026, 12, 31),
                "Một lần",
            ],
            [
                "nv-02",
                "Phủ sóng 4G/5G đến thôn, khu phố",
                "SKHCN",
                "30/06/2027",
                "tháng",
                "Tỷ lệ thôn có sóng 4G/5G",
                99,
                "%",
                "Theo Kế hoạch 538-KH/TU",
            ],
            [
                "NV-03",
                "Bình dân học vụ số",
                "phuong ha long; Xã Ba Chẽ ;07090",
                "2027-03-31",
                "QUÝ",
                "",
                "1.200",
                "người",
            ],
        ],
    )
    result = bot.run("import-tasks", "nv.xlsx")
    assert "3 nhiệm vụ mới" in result.stdout
    with bot.session() as session:
        tasks = {t.code: t for t in session.exec(select(Task)).all()}
        assert set(tasks) == {"NV-01", "NV-02", "NV-03"}
        assert tasks["NV-02"].cycle == Cycle.MONTHLY
        assert tasks["NV-02"].target == 99
        assert str(tasks["NV-03"].deadline) == "2027-03-31"
        assert tasks["NV-03"].target == 1200
        assert tasks["NV-03"].cycle == Cycle.QUARTERLY
        counts = {
            code: len(session.exec(select(Assignment).where(Assignment.task_id == t.id)).all())
            for code, t in tasks.items()
        }
        assert counts == {"NV-01": 54, "NV-02": 1, "NV-03": 3}

    fill_tasks(
        tmp_path / "nv2.xlsx",
        HEADER,
        [
            [
                "NV-03",
                "Triển khai phong trào Bình dân học vụ số",
                "Phường Hạ Long",
                "31/03/2027",
                "",
            ],
        ],
    )
    again = bot.run("import-tasks", "nv2.xlsx")
    assert "0 nhiệm vụ mới, 1 nhiệm vụ cập nhật" in again.stdout
    with bot.session() as session:
        nv3 = session.exec(select(Task).where(Task.code == "NV-03")).one()
        assert nv3.title == "Triển khai phong trào Bình dân học vụ số"
        assert nv3.cycle == Cycle.ONCE
        assert len(session.exec(select(Task)).all()) == 3
        assert len(session.exec(select(Assignment).where(Assignment.task_id == nv3.id)).all()) == 1


def test_a_file_with_bad_rows_names_each_and_imports_nothing(bot: Bot, tmp_path: Path) -> None:
    bot.run("init", "--province", "Quảng Ninh")
    fill_tasks(
        tmp_path / "bad.xlsx",
        HEADER,
        [
            ["NV-01", "Nhiệm vụ đúng", "Phường Hạ Long", "31/12/2026", ""],
            ["NV-02", "", "Xã Không Tồn Tại", "31/02/2026", "hằng ngày"],
            ["NV 03", "Nhiệm vụ", "Phường Hạ Long", "31/12/2026", "", "", "nhiều"],
            ["NV-01", "Trùng mã", "Phường Hạ Long", "31/12/2026", ""],
        ],
    )
    result = bot.run("import-tasks", "bad.xlsx", ok=False)
    assert result.returncode == 1
    errors = result.stderr
    assert "Dòng 3, cột “Tên nhiệm vụ”: chưa có tên nhiệm vụ" in errors
    assert "Dòng 3, cột “Đơn vị thực hiện”: không có đơn vị nào tên “Xã Không Tồn Tại”" in errors
    assert "Dòng 3, cột “Hạn hoàn thành”: không phải ngày" in errors
    assert "Dòng 3, cột “Kỳ báo cáo”" in errors
    assert "Dòng 4, cột “Mã nhiệm vụ”" in errors
    assert "Dòng 4, cột “Giá trị mục tiêu”: không phải là số" in errors
    assert "Dòng 5, cột “Mã nhiệm vụ”: mã NV-01 đã dùng ở dòng 2" in errors
    assert "chưa nhập dữ liệu nào" in errors
    with bot.session() as session:
        assert session.exec(select(Task)).all() == []


def test_csv_with_english_headers_in_any_order_and_case(bot: Bot, tmp_path: Path) -> None:
    bot.run("init", "--province", "Quảng Ninh")
    (tmp_path / "tasks.csv").write_text(
        "DEADLINE;Units;TITLE;Code;cycle\n"
        "15/01/2027;Phuong Ha Long;Digital literacy plan;EN-1;weekly\n",
        encoding="utf-8-sig",
    )
    bot.run("import-tasks", "tasks.csv")
    missing = tmp_path / "missing.csv"
    missing.write_text("code,title\nX-1,Something\n", encoding="utf-8")
    result = bot.run("import-tasks", str(missing), ok=False)
    assert "Dòng 1, cột “Đơn vị thực hiện”: dòng tiêu đề thiếu cột này" in result.stderr
    with bot.session() as session:
        [task] = session.exec(select(Task)).all()
        assert (task.code, task.cycle, str(task.deadline)) == ("EN-1", Cycle.WEEKLY, "2027-01-15")


def test_a_report_made_in_the_terminal_chat_shows_up_in_the_export(
    bot: Bot, tmp_path: Path
) -> None:
    bot.run("init", "--province", "Quảng Ninh")
    fill_tasks(
        tmp_path / "nv.xlsx",
        HEADER,
        [
            [
                "NV-01",
                "Ban hành kế hoạch thực hiện 538-KH/TU",
                "Tất cả xã, phường",
                "31/12/2026",
                "",
            ],
            [
                "NV-05",
                "Giải quyết hồ sơ đúng hạn",
                "Phường Hạ Long",
                "31/12/2026",
                "quý",
                "Tỷ lệ hồ sơ đúng hạn",
                "98,5",
                "%",
            ],
        ],
    )
    bot.run("import-tasks", "nv.xlsx")
    invite = bot.run(
        "invite", "--unit", "Phường Hạ Long", "--role", "officer", "--name", "Nguyễn Thu Hà"
    )
    code = invite.stdout.strip().splitlines()[-1]
    assert len(code) == 8
    assert code.isalnum()

    script = (
        "\n".join(
            [
                f"/start {code}",
                "/baocao NV-05",
                "2",  # Đang thực hiện
                "60",
                "96,5",
                "Đã giải quyết đúng hạn 1.234 hồ sơ",
                "Thiếu máy quét tại bộ phận một cửa",
                "Đề nghị bổ sung 02 máy quét",
                "1",  # Không có minh chứng
                "1",  # Lưu
            ]
        )
        + "\n"
    )
    chat = bot.run("chat", "--user", "thuha", input=script)
    assert "Đã lưu ✅" in chat.stdout, chat.stdout

    bot.run("export", "--out", "tien-do.xlsx", "--by", "Đỗ Quốc Anh")
    workbook = load_workbook(tmp_path / "tien-do.xlsx")
    progress, by_unit, summary = workbook.worksheets
    assert progress["A1"].value == "TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ CỦA BAN CHỈ ĐẠO — Quảng Ninh"
    assert progress["A2"].value.startswith("Số liệu tính đến ")
    assert progress["A3"].value == "Người xuất: Đỗ Quốc Anh"
    header = [c.value for c in progress[5]]
    assert header[:6] == [
        "STT",
        "Mã đơn vị",
        "Tên đơn vị",
        "Loại đơn vị",
        "Mã nhiệm vụ",
        "Tên nhiệm vụ",
    ]
    table = [
        dict(zip(header, (c.value for c in row), strict=True))
        for row in progress.iter_rows(min_row=6)
    ]
    assert len(table) == 55
    assert [r["STT"] for r in table] == list(range(1, 56))
    [row] = [
        r for r in table if r["Tên đơn vị"] == "Phường Hạ Long" and r["Mã nhiệm vụ"] == "NV-05"
    ]
    assert (row["Tình trạng"], row["Tiến độ (%)"], row["Giá trị hiện tại"]) == (
        "Đang thực hiện",
        60,
        96.5,
    )
    assert (row["Chỉ tiêu"], row["Giá trị mục tiêu"], row["Đơn vị tính"]) == (
        "Tỷ lệ hồ sơ đúng hạn",
        98.5,
        "%",
    )
    assert row["Kỳ báo cáo"] == "Hằng quý"
    assert row["Kỳ hiện tại"].startswith("Quý ")
    assert row["Hạn hoàn thành"].date() == date(2026, 12, 31)
    assert isinstance(row["Thời gian báo cáo"], datetime)
    assert (
        row["Người báo cáo"],
        row["Kết quả"],
        row["Khó khăn, vướng mắc"],
        row["Kiến nghị, đề xuất"],
    ) == (
        "Nguyễn Thu Hà",
        "Đã giải quyết đúng hạn 1.234 hồ sơ",
        "Thiếu máy quét tại bộ phận một cửa",
        "Đề nghị bổ sung 02 máy quét",
    )
    assert all(progress.column_dimensions[c].width for c in "ABCDEFGHIJKLMNOPQRSTUVW")
    assert by_unit["A2"].value.startswith("Đã báo cáo trong kỳ")
    assert by_unit["A2"].value.endswith(": 1/54 đơn vị")
    with bot.session() as session:
        [report] = session.exec(select(Report)).all()
        local = report.created_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        assert row["Thời gian báo cáo"] == local.replace(tzinfo=None, microsecond=0), (
            "Excel gets Hạ Long's wall time"
        )
        assert session.exec(
            select(Assignment).where(col(Assignment.last_reported_at).is_not(None))
        ).one()
    totals = {r[0].value: [c.value for c in r[1:]] for r in summary.iter_rows(min_row=2)}
    assert totals
    assert totals["Tổng cộng"][:2] == [54, 55]
    assert totals["Phường"][1] == 31  # 30 wards for NV-01, Hạ Long again for NV-05


def test_every_province_and_city_is_found_however_it_is_written(bot: Bot) -> None:
    for name in (
        "Hà Nội",
        "Thành phố Hà Nội",
        "TP. Hồ Chí Minh",
        "Thành phố Hồ Chí Minh",
        "TP.HCM",
        "Hải Phòng",
        "Huế",
        "Đà Nẵng",
        "Cần Thơ",
        "tinh thanh hoa",
        "Tỉnh Đắk Lắk",
    ):
        assert find_province(name) is not None, name
    assert all(find_province(p.name) == p for p in all_provinces())
    result = bot.run("init", "--province", "TP. Hồ Chí Minh")
    assert "Thành phố Hồ Chí Minh: đã thêm" in result.stdout
    miss = bot.run("init", "--province", "Quang Nin", ok=False)
    assert "Có phải bạn muốn nói: Quảng Ninh" in miss.stderr
    assert "34 tỉnh, thành phố: Hà Nội, Cao Bằng" in miss.stderr


def test_init_all_loads_the_whole_country(bot: Bot) -> None:
    result = bot.run("init", "--all")
    assert "Cả nước: đã thêm 3321 đơn vị" in result.stdout
    with bot.session() as session:
        assert len(session.exec(select(Unit)).all()) == 3321


def test_database_mistakes_are_one_line_naming_what_to_fix(bot: Bot, tmp_path: Path) -> None:
    def error(url: str) -> str:
        result = bot.run("officers", ok=False, env={"BOT_DATABASE_URL": url})
        assert result.returncode == 2, result.stdout
        [line] = result.stderr.strip().splitlines()
        return line

    missing = tmp_path / "khong-co" / "bot.db"
    assert error(f"sqlite:///{missing}") == (
        f"lỗi: BOT_DATABASE_URL: thư mục {missing.parent} không tồn tại; "
        "hãy tạo thư mục hoặc sửa đường dẫn"
    )
    assert "không có máy chủ cơ sở dữ liệu nào trả lời ở 127.0.0.1:1" in error(
        "postgres://bot:bot@127.0.0.1:1/bot"
    ), "postgres:// is read as PostgreSQL, then the server is not there"
    assert "không hỗ trợ mysql" in error("mysql://bot:bot@127.0.0.1/bot")
    english = bot.run(
        "officers", ok=False, env={"BOT_DATABASE_URL": f"sqlite:///{missing}", "BOT_LOCALE": "en"}
    )
    assert "error: BOT_DATABASE_URL: the folder" in english.stderr


@pytest.mark.skipif(
    not os.environ.get("BOT_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs the PostgreSQL server",
)
def test_a_wrong_database_password_is_named(bot: Bot) -> None:
    url = make_url(os.environ["BOT_TEST_DATABASE_URL"]).set(password="not-the-password")
    result = bot.run(
        "officers", ok=False, env={"BOT_DATABASE_URL": url.render_as_string(hide_password=False)}
    )
    assert result.stderr.strip().splitlines() == [
        "lỗi: BOT_DATABASE_URL: cơ sở dữ liệu từ chối người dùng “bot” hoặc mật khẩu; "
        "hãy kiểm tra lại cả hai"
    ]
    assert "not-the-password" not in result.stderr


def test_help_speaks_vietnamese(bot: Bot) -> None:
    help_text = bot.run("init", "--help", env={"COLUMNS": "120"}).stdout
    assert "Cách dùng:" in help_text
    assert "Tùy chọn" in help_text
    assert "Hiện hướng dẫn này rồi thoát." in help_text
    assert "Tạo hoặc nâng cấp cơ sở dữ liệu" in help_text
    english = bot.run("init", "--help", env={"BOT_LOCALE": "en", "COLUMNS": "120"}).stdout
    assert "Usage:" in english
    assert "Create or migrate the database" in english


def test_people_invited_twice_listed_and_revoked(bot: Bot) -> None:
    bot.run("init", "--province", "Quảng Ninh")

    def invite(name: str, role: str = "officer") -> subprocess.CompletedProcess[str]:
        return bot.run("invite", "--unit", "P. Hạ Long", "--role", role, "--name", name)

    first = invite("Nguyễn Thu Hà").stdout.strip().splitlines()[-1]
    again = invite("nguyen thu  ha", role="lead")
    assert "Nguyễn Thu Hà đã là cán bộ của Phường Hạ Long: tạo mã mới" in again.stdout
    second = again.stdout.strip().splitlines()[-1]
    assert first != second
    invite("Trần Văn Nam")
    with bot.session() as session:
        officers = session.exec(select(Officer)).all()
        assert sorted(o.full_name for o in officers) == ["Nguyễn Thu Hà", "Trần Văn Nam"]
        assert {o.full_name: o.role for o in officers}["Nguyễn Thu Hà"] == Role.LEAD

    bot.run("chat", "--user", "thuha", input=f"/start ZZZZ2222\n/start {second}\n/baocao\n/huy\n")
    listing = bot.run("officers", "--unit", "Phường Hạ Long").stdout
    assert "Mã sai đã nhập trong 24 giờ qua: 1 lần, từ 1 tài khoản" in listing
    assert "Nguyễn Thu Hà · Phường Hạ Long · Lãnh đạo đơn vị" in listing
    assert "Ứng dụng: console · báo cáo gần nhất: chưa có" in listing
    assert "Trần Văn Nam" in listing
    assert "chưa liên kết" in listing

    link = bot.run("login-link", "--officer", "Nguyễn Thu Hà").stdout.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8080/login/")
    assert len(link.rsplit("/", 1)[1]) >= 40, "an unguessable token"
    revoked = bot.run("revoke", "--officer", "Nguyễn Thu Hà")
    assert "Nguyễn Thu Hà không còn dùng được bot" in revoked.stdout
    chat = bot.run("chat", "--user", "thuha", input="/nhiemvu\n").stdout
    assert "chưa được liên kết" in chat
    assert "đã thu hồi quyền" in bot.run("officers").stdout
    assert (
        "Không có cán bộ nào tên"
        in bot.run("login-link", "--officer", "Nguyễn Thu Hà", ok=False).stderr
    ), "no link for a revoked officer"
    assert (
        "Không có cán bộ nào tên “Ai Đó”"
        in bot.run("revoke", "--officer", "Ai Đó", ok=False).stderr
    )


def test_the_calendar_command_prints_the_days_reminders_follow(bot: Bot) -> None:
    text = bot.run("calendar", "2026").stdout
    assert "Lịch làm việc năm 2026 (Asia/Ho_Chi_Minh)" in text
    assert "02/01/2026 (Thứ Sáu): Nghỉ Tết Dương lịch 2026" in text
    assert "17/02/2026 (Thứ Ba): Tết Nguyên Đán" in text
    assert "31/08/2026 (Thứ Hai)" in text
    assert "24/11/2026 (Thứ Ba): Ngày Văn hóa Việt Nam" in text
    assert "10/01/2026: Làm bù cho ngày nghỉ 02/01/2026" in text
    assert "22/08/2026: làm bù cho một ngày nghỉ" in text
    local = bot.run("calendar", "2026", env={"BOT_EXTRA_DAYS_OFF": '["2026-12-31"]'}).stdout
    assert "31/12/2026 (Thứ Năm): BOT_EXTRA_DAYS_OFF" in local


def test_export_writes_typed_text_as_text_and_csv_on_request(bot: Bot, tmp_path: Path) -> None:
    bot.run("init", "--province", "Quảng Ninh")
    (tmp_path / "nv.csv").write_text(
        "Mã nhiệm vụ;Tên nhiệm vụ;Đơn vị thực hiện;Hạn hoàn thành\n"
        'NV-01;=HYPERLINK("http://x");Phường Hạ Long, Xã Ba Chẽ;31/12/2027\n',
        encoding="utf-8",
    )
    bot.run("import-tasks", "nv.csv")
    code = (
        bot.run(
            "invite", "--unit", "Phường Hạ Long", "--role", "officer", "--name", "Nguyễn Thu Hà"
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    bot.run("chat", "--user", "thuha", input=f"/start {code}\n/baocao NV-01 40% =1+1\n")
    bot.run("export", "--out", "tien-do.xlsx")
    progress, by_unit, _summary = load_workbook(tmp_path / "tien-do.xlsx").worksheets
    header = [c.value for c in progress[5]]
    rows = [dict(zip(header, row, strict=True)) for row in progress.iter_rows(min_row=6)]
    [cells] = [r for r in rows if r["Tên đơn vị"].value == "Phường Hạ Long"]
    assert (cells["Kết quả"].value, cells["Kết quả"].data_type) == ("=1+1", "s")
    assert (cells["Tên nhiệm vụ"].value, cells["Tên nhiệm vụ"].data_type) == (
        '=HYPERLINK("http://x")',
        "s",
    )
    names = [row[2].value for row in by_unit.iter_rows(min_row=6)]
    assert names == ["Phường Hạ Long", "Xã Ba Chẽ"]

    bot.run("export", "--out", "tien-do.csv")
    text = (tmp_path / "tien-do.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf"), "a BOM, so Excel reads Vietnamese right"
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("STT,Mã đơn vị,Tên đơn vị")
    assert "'=1+1" in lines[1] or "'=1+1" in lines[2], "neutralised for spreadsheets"
    refused = bot.run("export", "--out", "tien-do.pdf", ok=False)
    assert "Hãy đặt tên tệp đuôi .xlsx hoặc .csv" in refused.stderr


def test_digest_prints_the_province_or_a_unit(bot: Bot, tmp_path: Path) -> None:
    bot.run("init", "--province", "Quảng Ninh")
    fill_tasks(
        tmp_path / "nv.xlsx",
        HEADER,
        [["NV-01", "Ban hành kế hoạch", "Tất cả", "31/12/2027", ""]],
    )
    bot.run("import-tasks", "nv.xlsx")
    province = bot.run("digest").stdout
    assert "TỔNG HỢP TIẾN ĐỘ" in province
    assert "Nhiệm vụ hoàn thành: 0/1" in province
    assert "0/54" in province
    unit = bot.run("digest", "--unit", "P. Hạ Long").stdout
    assert "TỔNG HỢP TIẾN ĐỘ CỦA Phường Hạ Long" in unit
    assert "0/1" in unit


def test_export_and_import_show_a_progress_bar_on_a_terminal_only(
    bot: Bot, tmp_path: Path
) -> None:
    bot.run("init", "--province", "Quảng Ninh")
    (tmp_path / "nv.csv").write_text(
        "Mã nhiệm vụ;Tên nhiệm vụ;Đơn vị thực hiện;Hạn hoàn thành\n"
        "NV-01;Kiện toàn Ban Chỉ đạo;Phường Hạ Long, Xã Ba Chẽ, Phường Bãi Cháy;31/12/2027\n",
        encoding="utf-8",
    )

    def on_a_terminal(*args: str) -> str:
        """What `python -m bot …` draws on stderr when stderr is a terminal."""
        leader, follower = pty.openpty()
        try:
            finished = subprocess.run(
                [sys.executable, "-m", "bot", *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=follower,
                cwd=bot.cwd,
                env={**bot.env, "PYTHONPATH": str(ROOT), "COLUMNS": "120", "TERM": "xterm"},
                timeout=120,
                check=False,
            )
            os.close(follower)
            drawn = b""
            while select_module.select([leader], [], [], 0.5)[0]:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal closed
                    break
                if not chunk:
                    break
                drawn += chunk
        finally:
            os.close(leader)
        assert finished.returncode == 0, drawn
        return drawn.decode("utf-8", errors="replace")

    drawn = on_a_terminal("import-tasks", "nv.csv")
    assert "Đang ghi phân công" in drawn
    assert "3/3" in drawn
    drawn = on_a_terminal("export", "--out", "tien-do.xlsx")
    assert "Đang xuất" in drawn
    assert "3/3" in drawn
    # piped, as in a script or a cron job: no bar, no escape codes
    piped = bot.run("export", "--out", "tien-do.csv")
    assert "\x1b" not in piped.stderr
    assert "Đang xuất" not in piped.stderr
