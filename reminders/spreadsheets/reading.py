"""Reading the spreadsheet an office has into rows of cells, whatever it is: .xlsx, .xlsm, .xls
(old Excel), .ods (python-calamine reads them all), or CSV in UTF-8 (with or without BOM),
UTF-16 or Windows-1258 (charset-normalizer tells which).

The file's content decides, not its name. Anything else (a Word file, a PDF, a damaged or
encrypted file, a zip that unpacks to gigabytes, a sheet of 200,000 rows) is refused with one
`Unreadable` whose message says what to do, before much memory or time is spent on it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import python_calamine
from charset_normalizer import from_bytes

from locales import N_

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_ROWS = 5_000  # far more than any task list; a bigger sheet is the wrong file
MAX_SHEETS = 20
CSV_ENCODINGS = ["utf_8", "utf_16", "cp1258", "cp1252"]

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Excel (.xls), also old Word
_ZIP = b"PK\x03\x04"
_NOT_SPREADSHEETS = {
    b"%PDF": N_("this is a PDF file, not a spreadsheet"),
    b"\x89PNG": N_("this is a picture, not a spreadsheet"),
    b"\xff\xd8\xff": N_("this is a picture, not a spreadsheet"),
    b"GIF8": N_("this is a picture, not a spreadsheet"),
    b"Rar!": N_("this is a compressed archive, not a spreadsheet"),
    b"7z\xbc\xaf": N_("this is a compressed archive, not a spreadsheet"),
    b"{\\rtf": N_("this is a Word document, not a spreadsheet"),
}

Cell = object
Rows = list[list[Cell]]


class Unreadable(Exception):
    """The file cannot be read as a task list; `message` (a message id) says why."""

    def __init__(self, message: str, **params: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: Rows


def read_sheets(path: Path) -> Iterator[Sheet]:
    """The sheets of a workbook (one for a CSV file), each as rows of cell values."""
    size = path.stat().st_size
    if size == 0:
        raise Unreadable(N_("the file is empty"))
    if size > MAX_FILE_BYTES:
        raise Unreadable(
            N_("the file is {size} MB; a task list is much smaller (at most {limit} MB)"),
            size=round(size / 1048576),
            limit=MAX_FILE_BYTES // 1048576,
        )
    with path.open("rb") as file:
        head = file.read(8)
    if head.startswith(_ZIP):
        _check_zip(path)
        yield from _workbook_sheets(path)
    elif head.startswith(_OLE2):
        yield from _workbook_sheets(path)
    else:
        for magic, message in _NOT_SPREADSHEETS.items():
            if head.startswith(magic):
                raise Unreadable(message)
        yield Sheet(name=path.stem, rows=_csv_rows(path.read_bytes()))


def _check_zip(path: Path) -> None:
    """An .xlsx or .ods is a zip: refuse other zips, and ones that unpack to far too much."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise Unreadable(N_("the file is damaged; open it in Excel and save it again")) from None
    names = {entry.filename for entry in entries}
    if "word/document.xml" in names:
        raise Unreadable(N_("this is a Word document, not a spreadsheet"))
    if "xl/workbook.xml" not in names and "content.xml" not in names:
        raise Unreadable(N_("this is a compressed archive, not a spreadsheet"))
    if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
        raise Unreadable(
            N_("the file unpacks to more than {limit} MB; a task list is much smaller"),
            limit=MAX_UNPACKED_BYTES // 1048576,
        )


def _workbook_sheets(path: Path) -> Iterator[Sheet]:
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise Unreadable(
            N_("the file is protected by a password; save a copy without one")
        ) from None
    except (python_calamine.CalamineError, ValueError, OSError):
        raise Unreadable(N_("the file is damaged; open it in Excel and save it again")) from None
    try:
        for name in workbook.sheet_names[:MAX_SHEETS]:
            try:
                sheet = workbook.get_sheet_by_name(name)
                yield Sheet(name=name, rows=_bounded(sheet.iter_rows()))
            except python_calamine.CalamineError:
                raise Unreadable(
                    N_("the sheet “{sheet}” is damaged; open the file in Excel and save it again"),
                    sheet=name,
                ) from None
    finally:
        workbook.close()


def _bounded(rows: Iterable[Sequence[Cell]]) -> Rows:
    """All rows, refusing a sheet longer than any task list once it passes MAX_ROWS."""
    result: Rows = []
    for row in rows:
        if len(result) >= MAX_ROWS:
            raise Unreadable(
                N_(
                    "the sheet has more than {limit} rows; a task list is much shorter (is it the right file?)"
                ),
                limit=MAX_ROWS,
            )
        result.append(list(row))
    return result


def decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (BOM or not), UTF-16 (BOM), Windows-1258 or -1252."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf_8_sig"),
        (b"\xff\xfe", "utf_16"),
        (b"\xfe\xff", "utf_16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf_8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:1_000_000], cp_isolation=CSV_ENCODINGS).best()
    if best is None:
        raise Unreadable(N_("not a spreadsheet: save it as .xlsx, .xls, .ods or .csv"))
    return data.decode(best.encoding, errors="replace")


def _csv_rows(data: bytes) -> Rows:
    text = decode(data)
    if "\x00" in text:
        raise Unreadable(N_("not a spreadsheet: save it as .xlsx, .xls, .ods or .csv"))
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:8192], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    try:
        return _bounded(csv.reader(io.StringIO(text), dialect))
    except csv.Error:
        raise Unreadable(
            N_("the CSV file is damaged; open it in Excel and save it again")
        ) from None
