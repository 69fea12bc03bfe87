"""导出本月台账 / 导出本学期台账 / 导出11月台账 / 发一下考核表: the workbook, privately.

The scope follows the asker's role (handlers.permissions.export_scope); the workbook is
built by handlers.ledger, kept in the blob store and sent as a file to the asker alone,
whatever chat they asked in; a group gets one line saying it went privately.
"""

from __future__ import annotations

import re

from handlers import texts
from handlers.export_request import ExportRequest, export_request, term_name
from handlers.ledger import (
    LedgerScope,
    assessment_data,
    assessment_file_name,
    assessment_workbook_bytes,
    file_name,
    ledger_data,
    workbook_bytes,
)
from handlers.messages import Attachment, Target
from handlers.permissions import export_scope
from handlers.routing import Context
from storage.roster import school_community


async def _workbook(ctx: Context, scope: LedgerScope, asked: ExportRequest) -> tuple[bytes, str]:
    quotas = ctx.services.quotas
    today = ctx.now.date()
    if asked.assessment:
        term = ctx.services.period_of("semester", asked.start)
        community = scope.id if scope.kind == "community" else None
        assessment = await assessment_data(
            ctx.session, term=term.label, community_id=community, quotas=quotas,
            period_of=ctx.services.period_of, today=today,
            targets=ctx.services.rotation,
            activity_names=dict(ctx.services.activity_names))
        return assessment_workbook_bytes(assessment), assessment_file_name(assessment.name, term)
    ledger = await ledger_data(
        ctx.session, scope=scope, start=asked.start, end=asked.end, quotas=quotas,
        period_of=ctx.services.period_of, activity_names=ctx.services.activity_names,
        tz=ctx.services.tz, today=today, targets=ctx.services.rotation)
    return workbook_bytes(ledger), file_name(ledger.scope_name, asked.start, asked.end)


async def handle_export(ctx: Context, match: re.Match[str]) -> bool:
    """A principal's or admin's export request; a teacher is told whom to ask."""
    if ctx.member is None:
        return False
    scope = await export_scope(session=ctx.session, member=ctx.member)
    if scope is None:
        ctx.reply(texts.EXPORT_NOT_YOURS)
        return True
    if ctx.services.blobs is None:
        ctx.reply(texts.EXPORT_UNAVAILABLE)
        return True
    asked = export_request(match, ctx.now.date(), ctx.services.period_of)
    if asked.assessment and scope.kind == "school":
        # The bundled assessment is a community's: a member school's principal gets theirs.
        scope = LedgerScope.community(await _community(ctx, scope))
    data, name = await _workbook(ctx, scope, asked)
    blob = ctx.services.blobs.put(data)
    what = texts.EXPORT_ASSESSMENT if asked.assessment else texts.EXPORT_LEDGER
    label = term_name(ctx.services.period_of("semester", asked.start)) if asked.assessment \
        else asked.label
    text = texts.EXPORT_HERE.format(label=label, what=what, name=name)
    attachment = Attachment(kind="file", sha256=blob.sha256, name=name, size=blob.size)
    if ctx.msg.is_group:
        private = Target(kind="user", id=ctx.msg.sender_id, name=ctx.member.name)
        ctx.reply(text, to=private, attachments=(attachment,))
        ctx.reply(texts.EXPORT_SENT_PRIVATELY.format(what=what))
    else:
        ctx.reply(text, attachments=(attachment,))
    return True


async def _community(ctx: Context, scope: LedgerScope) -> int:
    cid = await school_community(session=ctx.session, school_id=scope.id)
    if cid is None:
        raise LookupError(f"school #{scope.id} belongs to no community")
    return cid
