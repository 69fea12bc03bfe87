"""Photo evidence: pictures a teacher posts go to their own record (spec/conversation.md).

A picture that comes with a report in the same message (a Feishu post, a WeCom mixed
message) goes to the record(s) that message made or joined; a picture on its own goes to
the sender's latest report or sign-in of the last 30 minutes. Pictures reach this module
fetched and checked by the bot layer (bot/photos.py); they are written to the blob store
only here, once it is clear which record they belong to, so a picture with nothing to
attach to is kept for no one. Several pictures in a row get one answer: each queues its
answer under a key per chat and record, and a still-pending answer takes the new count.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from handlers import texts
from handlers.messages import Reply
from handlers.routing import Context
from storage.audit import record_audit
from storage.photos import add_photo, events_of_message, photo_count, photo_target

# A picture goes to the sender's own entry made at most this long before it.
ATTACH_WINDOW = timedelta(minutes=30)
# How long the answer to a picture waits for more pictures of the same burst.
BURST_WAIT = timedelta(seconds=8)


def burst_key(ctx: Context, event_id: int) -> str:
    """The outbox key prefix shared by the answers to one burst of pictures."""
    return f"photos:{ctx.msg.platform}:{ctx.msg.chat_id}:{event_id}:"


def _addressed(ctx: Context) -> bool:
    return not ctx.msg.is_group or ctx.msg.addressed


async def attach(ctx: Context, event_ids: list[int]) -> int:
    """Store the message's pictures and attach them to these events; how many were new."""
    blobs = ctx.services.blobs
    if blobs is None or ctx.member is None or ctx.member.id is None or not event_ids:
        return 0
    added = 0
    source = f"{ctx.msg.platform}:{ctx.msg.message_id}"
    for picture in ctx.msg.pictures:
        # A file write of up to the size limit: off the event loop.
        await asyncio.to_thread(blobs.put, picture.data)
        for event_id in event_ids:
            if await add_photo(session=ctx.session, activity_id=event_id,
                               member_id=ctx.member.id, sha256=picture.sha256,
                               mime=picture.mime, size=picture.size, source=source,
                               now=ctx.now):
                added += 1
                record_audit(session=ctx.session, at=ctx.now, member_id=ctx.member.id,
                             action="attach", entity="photo", entity_id=event_id,
                             after={"activity_id": event_id, "sha256": picture.sha256,
                                    "mime": picture.mime, "size": picture.size,
                                    "source": source})
    return added


def _refused_text(ctx: Context) -> str:
    return texts.PHOTOS_REFUSED.format(mb=max(1, ctx.services.max_image_bytes // 2**20))


async def handle_pictures(ctx: Context) -> None:
    """Pictures on their own (or with words that say nothing more): to the sender's latest
    entry of the last 30 minutes; else the reply table's answer for an image with nothing
    to attach to (silence in a group unless addressed)."""
    if ctx.member is None or ctx.member.id is None:
        if _addressed(ctx):
            ctx.reply(texts.WHO_ARE_YOU)
        return
    target = await photo_target(session=ctx.session, member_id=ctx.member.id,
                                since=ctx.now - ATTACH_WINDOW)
    if target is None:
        if _addressed(ctx):
            ctx.reply(texts.PHOTOS_NOTHING_TO_ATTACH)
        return
    if not ctx.msg.pictures:
        if ctx.msg.refused:
            ctx.reply(_refused_text(ctx))
        return
    if not await attach(ctx, [target]):
        return  # the same pictures again (a redelivery, a repost): nothing new to say
    total = await photo_count(session=ctx.session, activity_id=target)
    ctx.replies.append(Reply(text=texts.PHOTOS_ATTACHED.format(n=total),
                             burst=burst_key(ctx, target), delay=BURST_WAIT))


async def attach_with_text(ctx: Context, *, unknown: bool) -> None:
    """Pictures that came with words, after the words were handled: to the records the
    message made, the count added to its answer. Words that said nothing the bot understood
    (`unknown`) make it a picture on its own."""
    assert ctx.member is not None and ctx.member.id is not None
    events = await events_of_message(session=ctx.session, member_id=ctx.member.id,
                                     inbox_id=ctx.inbox_id)
    if not events:
        if unknown:
            ctx.replies.clear()
            await handle_pictures(ctx)
        elif ctx.msg.pictures:
            _tail(ctx, texts.PHOTOS_NOT_KEPT)
        return
    if not ctx.msg.pictures:
        if ctx.msg.refused:
            _tail(ctx, _refused_text(ctx))
        return
    await attach(ctx, events)
    total = await photo_count(session=ctx.session, activity_id=events[-1])
    if total:
        _tail(ctx, texts.PHOTOS_ATTACHED_TAIL.format(n=total))


def _tail(ctx: Context, line: str) -> None:
    """One more line on the message's own answer (one answer per message)."""
    if ctx.replies and ctx.replies[-1].target is None:
        ctx.replies[-1].text = f"{ctx.replies[-1].text}\n{line}"
    else:
        ctx.reply(line)
