"""Reading a spreadsheet the secretariat has into rows of cells, whatever the file type."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import load_workbook


def read_table(path: Path) -> list[list[object]]:
    """All rows of the first sheet of an .xlsx, or of a .csv (comma, semicolon or tab)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            return [list(row) for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    text = path.read_bytes().decode("utf-8-sig")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]
