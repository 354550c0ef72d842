"""The task-list template the secretariat fills in, with the list of units beside it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from locales.collation import sort_key
from models.enums import UnitKind
from models.tables import Unit
from reminders.spreadsheets.task_import import COLUMNS, EXAMPLE_CODE, EXAMPLE_MARK

TEMPLATE_COLUMNS = (
    "number",
    "code",
    "title",
    "units",
    "deadline",
    "cycle",
    "indicator",
    "target",
    "uom",
    "description",
)
# A filled-in row to copy; the import skips it (its "Ví dụ" mark, its VD- code).
_EXAMPLE = (
    EXAMPLE_MARK,
    EXAMPLE_CODE,
    "Ban hành kế hoạch thực hiện Kế hoạch 538-KH/TU về phát triển KHCN, ĐMST và CĐS",
    "Tất cả các xã, phường, đặc khu",
    "31/12/2026",
    "Một lần",
    "",
    "",
    "",
    "Gửi bản ký số về Sở Khoa học và Công nghệ",
)
_WIDTHS = (8, 14, 60, 40, 16, 14, 30, 16, 14, 40)


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
    sheet.append([COLUMNS[key].heading for key in TEMPLATE_COLUMNS])
    sheet.append(list(_EXAMPLE))
    _heading_style(sheet[1])
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="808080")
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    cycles = DataValidation(type="list", formula1='"Một lần,Tuần,Tháng,Quý"', allow_blank=True)
    sheet.add_data_validation(cycles)
    cycle_column = get_column_letter(TEMPLATE_COLUMNS.index("cycle") + 1)
    cycles.add(f"{cycle_column}3:{cycle_column}2000")

    unit_sheet = workbook.create_sheet("Đơn vị")
    unit_sheet.append(["Mã đơn vị", "Tên đơn vị", "Loại"])
    _heading_style(unit_sheet[1])
    kinds = {
        UnitKind.COMMUNE: "Xã",
        UnitKind.WARD: "Phường",
        UnitKind.SPECIAL_ZONE: "Đặc khu",
        UnitKind.DEPARTMENT: "Sở, ban, ngành",
    }
    for unit in sorted(units, key=lambda u: (u.kind != UnitKind.DEPARTMENT, sort_key(u.name))):
        unit_sheet.append([unit.code, unit.name, kinds[unit.kind]])
    unit_sheet.column_dimensions["A"].width = 12
    unit_sheet.column_dimensions["B"].width = 40
    unit_sheet.column_dimensions["C"].width = 16

    guide = workbook.create_sheet("Hướng dẫn")
    for line in (
        "Mỗi dòng là một nhiệm vụ, từ dòng 3. Dòng 2 (Ví dụ) là mẫu: không được nhập.",
        "Có thể đổi thứ tự cột, thêm cột khác (không được đọc) hoặc dùng bảng sẵn có của cơ quan.",
        "Mã nhiệm vụ: duy nhất, ví dụ NV-01. Nhập lại cùng mã sẽ cập nhật nhiệm vụ đó.",
        "Đơn vị thực hiện: tên hoặc mã đơn vị (xem trang 'Đơn vị'), cách nhau bằng dấu ; hoặc ,",
        "  hoặc 'Tất cả các xã, phường, đặc khu' (hay 'Tất cả các xã', 'Tất cả các phường').",
        "Hạn hoàn thành: dd/mm/yyyy, ví dụ 31/12/2026; hoặc Quý IV/2026, Tháng 12/2026.",
        "Kỳ báo cáo: Một lần, Tuần, Tháng hoặc Quý (để trống là Một lần).",
        "Chỉ tiêu, Giá trị mục tiêu, Đơn vị tính: chỉ điền khi nhiệm vụ có chỉ tiêu định lượng.",
    ):
        guide.append([line])
    guide.column_dimensions["A"].width = 100
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
