"""What the workbook and the CSV both show, as plain values: the 活动台账 rows and the
捆绑考核 lines. No openpyxl here, so the chat and the scheduler can read them cheaply."""

from __future__ import annotations

from typing import Any

from handlers import texts
from handlers.ledger import vocab
from handlers.ledger.model import Assessment, Ledger


def event_values(ledger: Ledger) -> list[list[Any]]:
    """The rows of 活动台账 (no title, no header, no total), shared with the CSV."""
    return [[e.date, e.time, e.school, e.community, e.activity, e.subject, e.grade, e.topic,
             e.participants, vocab.reporters_text(e.reporters), len(e.photos),
             vocab.NAME_SEP.join(h[:12] for h in e.photos),
             vocab.EVENT_STATUS.get(e.status, e.status), e.registered]
            for e in ledger.events]


def bundled_lines(assessment: Assessment) -> list[str]:
    """One 捆绑考核 line per community (handlers.texts.ASSESSMENT_BUNDLED)."""
    out = []
    for b in assessment.bundled:
        weakest = (texts.ASSESSMENT_WEAKEST.format(
            school=assessment.schools.get(b.weakest_school_id, ""), met=b.weakest_met,
            total=b.weakest_total) if b.weakest_school_id is not None else "")
        out.append(texts.ASSESSMENT_BUNDLED.format(
            community=assessment.communities.get(b.community_id, ""), met=b.met,
            total=b.total, weakest=weakest))
    return out
