"""The secretariat's first day: the task list as offices really keep it, in every file type they
have, and the files that are no task list at all."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from locales import Translator
from models.db import SessionFactory, transaction
from models.enums import Cycle, UnitKind
from models.tables import Assignment, Task, Unit
from reminders.spreadsheets.task_import import ImportRejected, ImportResult, import_tasks
from reminders.spreadsheets.template import write_template
from tests.conftest import NOW, TODAY, ZONE, Province
from tests.office_files import (
    cp1258,
    csv_text,
    long_sheet,
    ods,
    word_document,
    xls,
    xlsx,
    zip_bomb,
)

VI = Translator("vi", ZONE)

# As a provincial office writes it: a letterhead, a merged title, an "STT" column, headings in
# its own words, section headings, unit names as people write them.
OFFICE_TABLE: list[list[object]] = [
    ["UBND TỈNH QUẢNG NINH", "", "", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
    ["BAN CHỈ ĐẠO", "", "", "Độc lập - Tự do - Hạnh phúc"],
    [],
    ["DANH MỤC NHIỆM VỤ TRỌNG TÂM NĂM 2026"],
    ["(Kèm theo Kế hoạch số 538-KH/TU)"],
    [
        "STT",
        "Số hiệu",
        "Nội dung nhiệm vụ",
        "Cơ quan chủ trì",
        "Thời hạn hoàn thành",
        "Kỳ báo cáo",
        "Chỉ tiêu",
        "Giá trị mục tiêu",
        "ĐVT",
        "Lãnh đạo phụ trách",
    ],
    ["I", "", "NHIỆM VỤ CHUNG", "", "", "", "", "", "", ""],
    [
        1,
        "NV-01",
        "Ban hành kế hoạch chuyển đổi số",
        "Tất cả các xã, phường, đặc khu",
        date(2026, 12, 31),
        "Một lần",
        "",
        "",
        "",
        "Đồng chí Bí thư",
    ],
    [
        2,
        "NV-02",
        "Kiện toàn tổ công nghệ số cộng đồng",
        "P. Hạ Long, P.Cẩm Phả; UBND phường Bãi Cháy, xã ba chẽ",
        "Quý IV/2026",
        "Hằng tháng",
        "Số tổ công nghệ số",
        "1.500",
        "tổ",
        "",
    ],
    ["II", "", "NHIỆM VỤ CỦA CÁC SỞ", "", "", "", "", "", "", ""],
    [
        3,
        "NV-03",
        "Hướng dẫn triển khai Bình dân học vụ số",
        "Sở KH&CN",
        "15/01/2027",
        "quý",
        "Tỷ lệ người dân được tập huấn",
        "1,500",
        "%",
        "",
    ],
    [4, "NV-04", "Tổng kết năm 2025", "Tất cả các phường", "20/11/2026", "", "", "", "", ""],
]


def run_import(open_session: SessionFactory, path: Path) -> ImportResult:
    with transaction(open_session) as session:
        return import_tasks(session, path, now=NOW, today=TODAY)


def rejected(open_session: SessionFactory, path: Path) -> list[str]:
    """The lines the secretariat reads when a file is refused (and that nothing was stored)."""
    with pytest.raises(ImportRejected) as refusal:
        run_import(open_session, path)
    with open_session() as session:
        assert session.exec(select(Task)).all() == [], "nothing is imported"
    return [p.describe(VI) for p in refusal.value.problems]


def units_of(open_session: SessionFactory, code: str) -> set[str]:
    with open_session() as session:
        task = session.exec(select(Task).where(Task.code == code)).one()
        return set(
            session.exec(
                select(Unit.name)
                .join(Assignment, Assignment.unit_id == Unit.id)  # type: ignore[arg-type]
                .where(Assignment.task_id == task.id)
            ).all()
        )


@pytest.fixture
def fresh(open_session: SessionFactory, province: Province) -> SessionFactory:
    """The province without the fixture's tasks: the secretariat loads its own."""
    with transaction(open_session) as session:
        for assignment in session.exec(select(Assignment)).all():
            session.delete(assignment)
        session.flush()
        for task in session.exec(select(Task)).all():
            session.delete(task)
    return open_session


def test_an_office_table_under_a_letterhead_imports_as_written(
    fresh: SessionFactory, tmp_path: Path
) -> None:
    result = run_import(fresh, xlsx(tmp_path / "ke-hoach.xlsx", OFFICE_TABLE))
    assert (result.created, result.updated) == (4, 0)
    assert len(units_of(fresh, "NV-01")) == 54, "every commune, ward and special zone"
    assert units_of(fresh, "NV-02") == {
        "Phường Hạ Long",
        "Phường Cẩm Phả",
        "Phường Bãi Cháy",
        "Xã Ba Chẽ",
    }
    assert units_of(fresh, "NV-03") == {"Sở Khoa học và Công nghệ"}
    with fresh() as session:
        wards = session.exec(select(Unit).where(Unit.kind == UnitKind.WARD)).all()
        tasks = {t.code: t for t in session.exec(select(Task)).all()}
    assert len(units_of(fresh, "NV-04")) == len(wards), "only the wards"
    assert tasks["NV-02"].deadline == date(2026, 12, 31), "Quý IV/2026 ends on 31/12"
    assert (tasks["NV-02"].cycle, tasks["NV-02"].target) == (Cycle.MONTHLY, 1500)
    assert tasks["NV-03"].target == 1.5, "1,500 the Vietnamese way"
    notes = [w.describe(VI) for w in result.warnings]
    assert "Dòng 7: “I NHIỆM VỤ CHUNG” được hiểu là tiêu đề mục, không phải nhiệm vụ" in notes[1]
    assert any("“1.500” được đọc theo cách viết Việt Nam, là 1.500" in n for n in notes)
    assert any("“1,500” được đọc theo cách viết Việt Nam, là 1,5" in n for n in notes)
    assert any(
        "Dòng 12, cột “Thời hạn hoàn thành”: thời hạn 20/11/2026 đã qua" in n for n in notes
    )
    assert "các cột sau không được đọc: “Lãnh đạo phụ trách”" in notes[0]


def test_header_and_row_problems_are_reported_together_with_suggestions(
    fresh: SessionFactory, tmp_path: Path
) -> None:
    table = [
        ["STT", "Số hiệu", "Nội dung", "Thời gian hoàn thành"],
        [1, "NV-01", "Nhiệm vụ một", "31/13/2026"],
        [2, "NV-02", "", "31/12/2026"],
    ]
    lines = rejected(fresh, xlsx(tmp_path / "thieu-cot.xlsx", table))
    assert lines[0].startswith("Dòng 1, cột “Đơn vị thực hiện”: dòng tiêu đề thiếu cột này")
    assert "Cơ quan chủ trì" in lines[0], "the accepted names are listed"
    assert "Dòng 2, cột “Thời gian hoàn thành”: không phải ngày" in lines[1]
    assert "Dòng 3, cột “Nội dung”: chưa có tên nhiệm vụ" in lines[2]

    misspelt = [
        ["Mã nhiệm vụ", "Tên nhiệm vụ", "Đơn vị thực hiện", "Hạn hoàn thành"],
        ["NV-01", "Nhiệm vụ", "Phường Hạ Lonng; Xã Ba Chẽ", "31/12/2026"],
    ]
    [line] = rejected(fresh, xlsx(tmp_path / "sai-ten.xlsx", misspelt))
    assert "không có đơn vị nào tên “Phường Hạ Lonng”; có phải là: Phường Hạ Long" in line


def test_every_file_type_an_office_has(fresh: SessionFactory, tmp_path: Path) -> None:
    header = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Đơn vị thực hiện", "Hạn hoàn thành"]
    row = ["NV-07", "Số hóa hồ sơ thủ tục hành chính", "Phường Hạ Long", "31/12/2026"]
    files = {
        "xlsx": xlsx(tmp_path / "a.xlsx", [header, row]),
        "xlsm": xlsx(tmp_path / "a.xlsm", [header, row]),
        "xls": xls(tmp_path / "a.xls", [header, row]),
        "ods": ods(tmp_path / "a.ods", [header, row]),
        "csv utf-8": tmp_path / "utf8.csv",
        "csv utf-8 bom": tmp_path / "bom.csv",
        "csv utf-16": tmp_path / "utf16.csv",
        "csv windows-1258": tmp_path / "cp1258.csv",
    }
    text = csv_text([header, row])
    files["csv utf-8"].write_bytes(text.encode("utf-8"))
    files["csv utf-8 bom"].write_bytes(text.encode("utf-8-sig"))
    files["csv utf-16"].write_bytes(text.encode("utf-16"))
    files["csv windows-1258"].write_bytes(cp1258(text))
    for kind, path in files.items():
        result = run_import(fresh, path)
        assert result.created + result.unchanged == 1, kind
        with fresh() as session:
            task = session.exec(select(Task).where(Task.code == "NV-07")).one()
            assert task.title == "Số hóa hồ sơ thủ tục hành chính", kind
        assert units_of(fresh, "NV-07") == {"Phường Hạ Long"}, kind


def test_files_that_are_no_task_list_get_one_clear_line(
    fresh: SessionFactory, tmp_path: Path
) -> None:
    empty = tmp_path / "trong.xlsx"
    empty.write_bytes(b"")
    truncated = tmp_path / "hong.xlsx"
    truncated.write_bytes(xlsx(tmp_path / "full.xlsx", OFFICE_TABLE).read_bytes()[:900])
    pdf = tmp_path / "ke-hoach.xlsx"
    pdf.write_bytes(b"%PDF-1.7\n%...")
    expected = {
        empty: "tệp không có dữ liệu",
        truncated: "tệp bị hỏng; hãy mở bằng Excel rồi lưu lại",
        pdf: "đây là tệp PDF, không phải bảng tính",
        word_document(tmp_path / "cong-van.docx"): "đây là văn bản Word, không phải bảng tính",
        zip_bomb(tmp_path / "bom.xlsx"): "tệp giải nén ra hơn 200 MB",
    }
    for path, words in expected.items():
        [line] = rejected(fresh, path)
        assert words in line, path.name
        assert "\n" not in line
        assert "Traceback" not in line


def test_a_200000_row_sheet_is_refused_quickly(fresh: SessionFactory, tmp_path: Path) -> None:
    path = long_sheet(tmp_path / "qua-dai.xlsx", 200_000)
    started = time.monotonic()
    [line] = rejected(fresh, path)
    assert "trang tính có hơn 5000 dòng" in line
    assert time.monotonic() - started < 60, "refused, not read to the end"


def test_the_templates_example_row_is_not_a_task_and_reimport_changes_nothing(
    fresh: SessionFactory, tmp_path: Path
) -> None:
    with fresh() as session:
        units = session.exec(select(Unit)).all()
    write_template(tmp_path / "mau.xlsx", units)
    workbook = load_workbook(tmp_path / "mau.xlsx")
    sheet = workbook.worksheets[0]
    sheet.append([1, "NV-11", "Phủ sóng 4G/5G", "Xã Ba Chẽ", "30/06/2027", "Quý"])
    workbook.save(tmp_path / "mau-da-dien.xlsx")
    first = run_import(fresh, tmp_path / "mau-da-dien.xlsx")
    assert first.created == 1
    assert any("đã bỏ qua dòng ví dụ của tệp mẫu" in w.describe(VI) for w in first.warnings)
    with fresh() as session:
        assert [t.code for t in session.exec(select(Task)).all()] == ["NV-11"]
    again = run_import(fresh, tmp_path / "mau-da-dien.xlsx")
    assert again.changed_nothing
    assert (again.unchanged, again.assignments_added) == (1, 0)
