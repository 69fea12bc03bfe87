"""The ledger as an .xlsx a principal can print and file without editing (openpyxl).

Every sheet: a title row naming scope and range, a bold header row frozen under it and
repeated on every printed page, column widths that fit Chinese text (a CJK character counts
as two), real Excel dates, landscape pages fitted to the width. Renders handlers.ledger.model
data only; nothing here reads the database.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from handlers.ledger import vocab
from handlers.ledger.model import Assessment, ExchangeTotal, Ledger, QuotaRow, SchoolAssessment
from handlers.ledger.rows import bundled_lines, event_values

DATE_FORMAT = "yyyy-mm-dd"
MOMENT_FORMAT = "yyyy-mm-dd hh:mm"
MAX_WIDTH = 48  # wider text wraps
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
HEADER_ROW = 2  # the title is row 1


def text_width(value: Any) -> int:
    """Display width of a cell: CJK characters take two columns; the longest line counts."""
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    lines = str(value).splitlines() or [""]
    return max(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
               for line in lines)


def _title(ws: Worksheet, text: str, columns: int) -> None:
    ws.cell(row=1, column=1, value=text).font = TITLE_FONT
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    ws.row_dimensions[1].height = 24


def _header(ws: Worksheet, row: int, headers: Sequence[str]) -> None:
    for i, name in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=i, value=name)
        cell.font, cell.fill, cell.border = BOLD, HEADER_FILL, BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _row(ws: Worksheet, row: int, values: Sequence[Any], *, bold: bool = False) -> None:
    for i, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=i, value=value)
        cell.border = BOX
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        if bold:
            cell.font = BOLD
        if isinstance(value, dt.datetime):
            cell.number_format = MOMENT_FORMAT
        elif isinstance(value, dt.date):
            cell.number_format = DATE_FORMAT


def _finish(ws: Worksheet, columns: int, *, header_rows: str = "1:2",
            freeze: str = "A3") -> None:
    """Widths from the widest cell below the title, frozen panes, and the print set-up."""
    widths = [6] * columns
    # Merged lines (titles, block titles, bundled lines) span the columns; they set no width.
    spanning = {(r.min_row, r.min_col) for r in ws.merged_cells.ranges}
    for row in ws.iter_rows(min_row=2, max_col=columns):
        for i, cell in enumerate(row):
            if cell.value is not None and (cell.row, cell.column) not in spanning:
                widths[i] = max(widths[i], min(text_width(cell.value) + 2, MAX_WIDTH))
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = freeze
    ws.print_title_rows = header_rows
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True


def _range_title(ledger: Ledger, sheet: str) -> str:
    return vocab.TITLE.format(scope=ledger.scope_name, sheet=sheet,
                              start=ledger.start.isoformat(), end=ledger.end.isoformat())


# --- 活动台账 -------------------------------------------------------------------------------


def _events_sheet(ws: Worksheet, ledger: Ledger) -> None:
    headers = vocab.EVENT_HEADERS
    _title(ws, _range_title(ledger, vocab.EVENTS_SHEET), len(headers))
    _header(ws, HEADER_ROW, headers)
    row = HEADER_ROW
    for values in event_values(ledger):
        row += 1
        _row(ws, row, values)
    held = [e for e in ledger.events if e.counted]
    total: list[Any] = [""] * len(headers)
    total[0] = vocab.TOTAL
    total[headers.index("活动类型")] = vocab.EVENTS_TOTAL.format(n=len(ledger.events),
                                                             held=len(held))
    total[headers.index("参与人数")] = sum(e.participants or 0 for e in held)
    total[headers.index("照片")] = sum(len(e.photos) for e in ledger.events)
    _row(ws, row + 1, total, bold=True)
    _finish(ws, len(headers))


# --- 指标完成情况 ---------------------------------------------------------------------------


def _quota_values(ledger: Ledger, r: QuotaRow) -> list[Any]:
    school = ledger.schools.get(r.school_id, "") if r.school_id else vocab.COMMUNITY_ITSELF
    return [ledger.communities.get(r.community_id, ""), school,
            vocab.quota_name(r.quota, ledger.activity_names), vocab.rule_text(r.quota),
            vocab.period_label(r.period), r.need, r.done, vocab.STATE[r.state],
            vocab.NAME_SEP.join(r.missing), vocab.READING.get(r.reading, "")]


def _quotas_sheet(ws: Worksheet, ledger: Ledger) -> None:
    headers = vocab.QUOTA_HEADERS
    _title(ws, _range_title(ledger, vocab.QUOTAS_SHEET), len(headers))
    _header(ws, HEADER_ROW, headers)
    for row, r in enumerate(ledger.quotas, start=HEADER_ROW + 1):
        _row(ws, row, _quota_values(ledger, r), bold=r.school_id is None)
    _finish(ws, len(headers))


# --- 签到簿 ---------------------------------------------------------------------------------


def _signins_sheet(ws: Worksheet, ledger: Ledger) -> None:
    headers = vocab.SIGNIN_HEADERS
    _title(ws, _range_title(ledger, vocab.SIGNINS_SHEET), len(headers))
    row = 1
    if not ledger.sign_ins:
        ws.cell(row=3, column=1, value=vocab.NO_PLANS)
    for block in ledger.sign_ins:
        row += 2 if row > 1 else 1
        ws.cell(row=row, column=1, value=vocab.SIGNIN_BLOCK.format(
            activity=block.activity, date=block.date.isoformat(), time=block.time,
            venue=block.venue, community=block.community).replace("  ", " ").strip()).font = BOLD
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(headers))
        row += 1
        _header(ws, row, headers)
        for line in block.lines:
            row += 1
            _row(ws, row, [line.name, line.school, vocab.SIGNIN_STATUS[line.status],
                           line.checkin, line.checkout, line.note])
    # Blocks carry their own headers; the title is what every page repeats.
    _finish(ws, len(headers), header_rows="1:1", freeze="A2")


# --- 交流轮岗 -------------------------------------------------------------------------------


def _exchange_rows(ledger_schools: dict[int, str], communities: dict[int, str],
                   total: ExchangeTotal) -> Iterable[tuple[list[Any], bool]]:
    year = vocab.period_label(total.year)
    community = communities.get(total.community_id, "")
    school = ledger_schools.get(total.school_id, "")
    for line in total.lines:
        yield [year, community, school, line.date, line.activity, line.venue, line.people,
               vocab.NAME_SEP.join(line.reporters), "", ""], False
    yield [year, community, school, vocab.SUBTOTAL, "", "", total.people, "",
           vocab.AT_LEAST.format(n=total.target), vocab.STATE[total.state]], True


def _exchange_sheet(ws: Worksheet, ledger: Ledger) -> None:
    headers = vocab.EXCHANGE_HEADERS
    _title(ws, _range_title(ledger, vocab.EXCHANGE_SHEET), len(headers))
    _header(ws, HEADER_ROW, headers)
    row = HEADER_ROW
    for total in ledger.exchanges:
        for values, bold in _exchange_rows(ledger.schools, ledger.communities, total):
            row += 1
            _row(ws, row, values, bold=bold)
    _finish(ws, len(headers))


# --- 考核 -----------------------------------------------------------------------------------


def _part_rows(a: Assessment, part: SchoolAssessment) -> Iterable[list[Any]]:
    community = a.communities.get(part.community_id, "")
    school = a.schools.get(part.school_id, "") if part.school_id else vocab.COMMUNITY_ITSELF
    role = vocab.ROLE[a.lead.get(part.school_id) if part.school_id else None]
    for r in part.quotas:
        yield [community, school, role, vocab.quota_name(r.quota, a.activity_names),
               vocab.rule_text(r.quota), vocab.period_label(r.period), r.need, r.done,
               vocab.STATE[r.state], vocab.READING.get(r.reading, "")]
    x = part.exchange
    if x is not None:
        yield [community, school, role, vocab.EXCHANGE_RULE,
               vocab.EXCHANGE_TARGET.format(n=x.target), vocab.period_label(x.year), x.target,
               x.people, vocab.STATE[x.state], ""]


def _assessment_sheet(ws: Worksheet, a: Assessment, row: int = 1) -> int:
    """Write one term's assessment from `row` (title, header, rows, bundled lines); returns
    the last row written."""
    headers = vocab.ASSESSMENT_HEADERS
    if row == 1:
        _title(ws, vocab.ASSESSMENT_TITLE.format(scope=a.scope_name, sheet=vocab.ASSESSMENT_DOC,
                                                 term=vocab.period_label(a.term)), len(headers))
    else:
        ws.cell(row=row, column=1, value=vocab.period_label(a.term)).font = BOLD
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(headers))
    row += 1
    _header(ws, row, headers)
    bundled = dict(zip([b.community_id for b in a.bundled], bundled_lines(a), strict=True))
    for cid in dict.fromkeys(p.community_id for p in a.parts):
        for part in (p for p in a.parts if p.community_id == cid):
            for values in _part_rows(a, part):
                row += 1
                _row(ws, row, values, bold=part.school_id is None)
        row += 1
        ws.cell(row=row, column=1, value=bundled[cid]).font = BOLD
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(headers))
    return row


def _assessments_sheet(ws: Worksheet, assessments: Sequence[Assessment]) -> None:
    row = 1
    for i, a in enumerate(assessments):
        row = _assessment_sheet(ws, a, 1 if i == 0 else row + 2)
    _finish(ws, len(vocab.ASSESSMENT_HEADERS))


# --- the files ------------------------------------------------------------------------------


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def workbook_bytes(ledger: Ledger) -> bytes:
    """活动台账, 指标完成情况, 签到簿, 交流轮岗 and (when a term overlaps the range) 考核."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = vocab.EVENTS_SHEET
    _events_sheet(ws, ledger)
    _quotas_sheet(wb.create_sheet(vocab.QUOTAS_SHEET), ledger)
    _signins_sheet(wb.create_sheet(vocab.SIGNINS_SHEET), ledger)
    _exchange_sheet(wb.create_sheet(vocab.EXCHANGE_SHEET), ledger)
    if ledger.assessments:
        _assessments_sheet(wb.create_sheet(vocab.ASSESSMENT_SHEET), ledger.assessments)
    return _save(wb)


def assessment_workbook_bytes(assessment: Assessment) -> bytes:
    """The term assessment alone: one sheet, 考核."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = vocab.ASSESSMENT_SHEET
    _assessments_sheet(ws, [assessment])
    return _save(wb)
