"""Roster sheets on disk: read and write CSV and XLSX files as a header and rows of text.

CSV is read as UTF-8 (with or without BOM), falling back to GB18030 (a superset of the GBK
that Excel in China saves), and written as UTF-8 with BOM so Excel opens it correctly. Row
numbers are those a spreadsheet shows (header = 1); blank rows are skipped. Knows nothing of
what the columns mean; imports nothing of ours.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUFFIXES = (".csv", ".xlsx")


class RosterFileError(ValueError):
    """A file that cannot be read or written as a roster; the message is for the admin."""


@dataclass
class RosterSheet:
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        shown = suffix or "（无扩展名）"
        raise RosterFileError(
            f"{path.name}：不支持的文件类型 {shown}，请用 .xlsx 或 .csv"
            "（旧版 .xls 请在 Excel 中另存为 .xlsx）"
        )
    return suffix


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value).strip()


def _sheet(records: Iterable[tuple[int, Sequence[Any]]]) -> RosterSheet:
    """The first non-blank record is the header; later blank records are skipped."""
    sheet = RosterSheet()
    for number, record in records:
        cells = [_cell_text(v) for v in record]
        if not any(cells):
            continue
        if not sheet.columns:
            sheet.columns = cells
            continue
        row = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(sheet.columns) if h}
        sheet.rows.append((number, row))
    while sheet.columns and not sheet.columns[-1]:
        sheet.columns.pop()
    return sheet


def decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise RosterFileError(
            "无法识别文件编码：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 .xlsx"
        ) from exc


def _read_csv(path: Path) -> RosterSheet:
    text = decode_csv(path.read_bytes())
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _sheet(enumerate(reader, start=1))
    except csv.Error as exc:
        raise RosterFileError(f"{path.name}：CSV 格式错误：{exc}") from exc


def _read_xlsx(path: Path) -> RosterSheet:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise RosterFileError(f"{path.name}：不是有效的 .xlsx 文件（{exc}）") from exc
    try:
        ws = book.worksheets[0]
        return _sheet(enumerate(ws.iter_rows(min_row=1, values_only=True), start=1))
    finally:
        book.close()


def read_roster(path: Path) -> RosterSheet:
    """The header and non-blank rows of a .csv or .xlsx file (the first sheet)."""
    suffix = _suffix(path)
    if not path.is_file():
        raise RosterFileError(f"找不到文件：{path}")
    return _read_csv(path) if suffix == ".csv" else _read_xlsx(path)


def write_roster(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> None:
    """Write a .csv (UTF-8 with BOM) or .xlsx (every cell as text) file."""
    suffix = _suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            writer.writerows([row.get(c, "") for c in columns] for row in rows)
        return
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "名单"
    ws.append(list(columns))
    for row in rows:
        ws.append([row.get(c, "") for c in columns])
    for column_cells in ws.iter_cols():
        for cell in column_cells:
            cell.number_format = "@"  # text, so Excel keeps phone numbers and ids as typed
        letter = column_cells[0].column_letter
        width = max(len(str(c.value or "")) for c in column_cells)
        ws.column_dimensions[letter].width = min(40, 2 * width + 2)
    book.save(path)
