"""The task-list template the secretariat fills in, with the list of units beside it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from models.enums import UnitKind
from models.tables import Unit
from reminders.spreadsheets.task_import import COLUMNS

_EXAMPLE = (
    "NV-01",
    "Ban hành kế hoạch thực hiện Kế hoạch 538-KH/TU về phát triển KHCN, ĐMST và CĐS",
    "Tất cả xã, phường",
    "31/12/2026",
    "Một lần",
    "",
    "",
    "",
    "Gửi bản ký số về Sở Khoa học và Công nghệ",
)


def _heading_style(cells: Iterator[object] | Sequence[object]) -> None:
    for cell in cells:
        cell.font = Font(bold=True, color="FFFFFF")  # type: ignore[attr-defined]
        cell.fill = PatternFill("solid", fgColor="1F4E79")  # type: ignore[attr-defined]


def write_template(path: Path, units: Sequence[Unit]) -> None:
    """The task-list spreadsheet the secretariat fills in, with the list of units beside it."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Nhiệm vụ"
    sheet.append([label for label, _spellings in COLUMNS.values()])
    sheet.append(list(_EXAMPLE))
    _heading_style(sheet[1])
    for letter, width in zip("ABCDEFGHI", (14, 60, 40, 16, 14, 30, 16, 14, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    cycles = DataValidation(type="list", formula1='"Một lần,Tuần,Tháng,Quý"', allow_blank=True)
    sheet.add_data_validation(cycles)
    cycles.add("E2:E1000")

    unit_sheet = workbook.create_sheet("Đơn vị")
    unit_sheet.append(["Mã đơn vị", "Tên đơn vị", "Loại"])
    _heading_style(unit_sheet[1])
    kinds = {
        UnitKind.COMMUNE: "Xã",
        UnitKind.WARD: "Phường",
        UnitKind.SPECIAL_ZONE: "Đặc khu",
        UnitKind.DEPARTMENT: "Sở, ban, ngành",
    }
    for unit in sorted(units, key=lambda u: (u.kind != UnitKind.DEPARTMENT, u.name)):
        unit_sheet.append([unit.code, unit.name, kinds[unit.kind]])
    unit_sheet.column_dimensions["A"].width = 12
    unit_sheet.column_dimensions["B"].width = 40
    unit_sheet.column_dimensions["C"].width = 16

    guide = workbook.create_sheet("Hướng dẫn")
    for line in (
        "Mỗi dòng là một nhiệm vụ. Không đổi tên cột; có thể đổi thứ tự cột.",
        "Mã nhiệm vụ: duy nhất, ví dụ NV-01. Nhập lại cùng mã sẽ cập nhật nhiệm vụ đó.",
        "Đơn vị thực hiện: tên hoặc mã đơn vị (xem trang 'Đơn vị'), cách nhau bằng dấu ;",
        "  hoặc 'Tất cả xã, phường' để giao cho mọi xã, phường, đặc khu.",
        "Hạn hoàn thành: dd/mm/yyyy, ví dụ 31/12/2026.",
        "Kỳ báo cáo: Một lần, Tuần, Tháng hoặc Quý (để trống là Một lần).",
        "Chỉ tiêu, Giá trị mục tiêu, Đơn vị tính: chỉ điền khi nhiệm vụ có chỉ tiêu định lượng.",
    ):
        guide.append([line])
    guide.column_dimensions["A"].width = 100
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
