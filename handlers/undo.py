"""Undo: withdraw the sender's own last entry (or a named one, from a card button).

Withdrawn rows stay in the database and the audit log; figures leave them out.
"""

from __future__ import annotations

from handlers import texts
from handlers.format import md
from handlers.routing import Context, Router
from storage.activities import last_entry, owner_of, withdraw
from storage.models import Activity, Attendance

router = Router("undo")


def describe(ctx: Context, entry: Activity | Attendance) -> str:
    if isinstance(entry, Activity):
        return texts.UNDO_WHAT_ACTIVITY.format(date=md(entry.date),
                                               activity=ctx.activity_name(entry.activity))
    return texts.UNDO_WHAT_ATTENDANCE.format(date=md(entry.date),
                                             type=texts.ATTENDANCE_TYPES.get(entry.type, ""))


async def entry_by_ref(ctx: Context, ref: str) -> Activity | Attendance | None:
    """`activity:12` or `attendance:7` → the row, if it exists."""
    kind, _, raw_id = ref.partition(":")
    if not raw_id.isdigit():
        return None
    if kind == "activity":
        return await ctx.session.get(Activity, int(raw_id))
    if kind == "attendance":
        return await ctx.session.get(Attendance, int(raw_id))
    return None


async def undo_entry(ctx: Context, entry: Activity | Attendance | None) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    if entry is None:
        ctx.reply(texts.UNDO_NOTHING)
        return
    if owner_of(entry) != ctx.member.id:
        ctx.reply(texts.UNDO_NOT_YOURS)
        return
    # `withdrawn` tells channels with cards that the entry is gone (the button can go too).
    if entry.withdrawn:
        ctx.reply(texts.UNDO_ALREADY, extra={"withdrawn": True})
        return
    await withdraw(session=ctx.session, entry=entry, member_id=ctx.member.id, now=ctx.now)
    ctx.reply(texts.UNDO_OK.format(what=describe(ctx, entry)), extra={"withdrawn": True})


@router.on("undo")
async def handle_undo(ctx: Context) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    ref = (ctx.msg.action or {}).get("undo")
    if ref:
        await undo_entry(ctx, await entry_by_ref(ctx, str(ref)))
        return
    await undo_entry(ctx, await last_entry(session=ctx.session, member_id=ctx.member.id))
