"""The ledger (台账) export: data gathering, and the workbook and CSV renderings of it.

What the chat (导出本月台账, 发一下考核表), the scheduler (the term summary's attachment)
and `jiaolian export` call; see docs/export.md for what each sheet holds.
"""

from handlers.ledger.assessment import UnknownTerm, assessment_data, term_period
from handlers.ledger.csvfile import csv_bytes
from handlers.ledger.exchange import EXCHANGE_CODES
from handlers.ledger.gather import Progress, ledger_data
from handlers.ledger.model import Assessment, Ledger, LedgerScope
from handlers.ledger.naming import assessment_file_name, file_name
from handlers.ledger.rows import bundled_lines
from handlers.ledger.scope import UnknownScope
from handlers.quotas import ExchangeConfigError, ExchangeTargets, exchange_targets


def workbook_bytes(ledger: Ledger) -> bytes:
    """The ledger as .xlsx; openpyxl is imported on first use (it costs `serve` half a
    second and tens of MiB at start)."""
    from handlers.ledger.workbook import workbook_bytes as render

    return render(ledger)


def assessment_workbook_bytes(assessment: Assessment) -> bytes:
    """The term assessment as .xlsx (openpyxl imported on first use)."""
    from handlers.ledger.workbook import assessment_workbook_bytes as render

    return render(assessment)


__all__ = [
    "EXCHANGE_CODES",
    "Assessment",
    "ExchangeConfigError",
    "ExchangeTargets",
    "Ledger",
    "LedgerScope",
    "Progress",
    "UnknownScope",
    "UnknownTerm",
    "assessment_data",
    "assessment_file_name",
    "assessment_workbook_bytes",
    "bundled_lines",
    "csv_bytes",
    "exchange_targets",
    "file_name",
    "ledger_data",
    "term_period",
    "workbook_bytes",
]
