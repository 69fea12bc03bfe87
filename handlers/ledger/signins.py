"""签到簿: one block per plan of the range, read through handlers.sheet so the printed sheet
and the chat's 签到表 never disagree.

A person's status is the sheet's: 请假 and 未签到 as it lists them (on a plan still to come,
未签到 is left blank, a line to sign); among those who signed in,
补签 before 迟到 before 早退 (the others are named in 备注, with what a leave or a make-up
said).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ledger.events import event_time, local_naive
from handlers.ledger.model import SignInBlock, SignInLine
from handlers.sheet import SheetPeople, sheet_people
from handlers.standing import County
from storage.models import PLAN_STATUSES, Activity

# Extra words of 备注, in the document's vocabulary.
FLAG_WORDS = {"late": "迟到", "early": "早退", "makeup": "补签"}
# Notes that only repeat the command say nothing a reader needs.
BARE_WORDS = frozenset({"", "签到", "签退", "打卡", "请假", "补签"})


def _status(member_id: int, people: SheetPeople, ahead: bool) -> str:
    if member_id in people.leave:
        return "leave"
    if member_id in people.missing:
        # Nobody is absent from an event still to come: the line waits for a signature.
        return "expected" if ahead else "missing"
    if any(r.makeup for r in people.rows if r.member_id == member_id and r.type == "checkin"):
        return "makeup"
    if member_id in people.late:
        return "late"
    return "early" if member_id in people.early else "signed"


def _line(member_id: int, people: SheetPeople, county: County, tz: ZoneInfo,
          ahead: bool) -> SignInLine:
    member = people.members.get(member_id)
    mine = [r for r in people.rows if r.member_id == member_id]
    checkin = next((r.at for r in mine if r.type == "checkin"), None)
    checkout = next((r.at for r in reversed(mine) if r.type == "checkout"), None)
    status = _status(member_id, people, ahead)
    flags = [word for key, word in FLAG_WORDS.items() if key != status
             and any(getattr(r, key) for r in mine)]
    # A sign-in's note is the message itself (签到); a leave's or a make-up's says why.
    notes = [r.note for r in mine if (r.type == "leave" or r.makeup)
             and r.note.strip() not in BARE_WORDS]
    school = county.schools.get(member.school_id) if member and member.school_id else None
    return SignInLine(member_id, member.name if member else "",
                      school.name if school else "", status, local_naive(checkin, tz),
                      local_naive(checkout, tz), "；".join(dict.fromkeys([*flags, *notes])))


async def sign_in_blocks(
    session: AsyncSession, *, county: County, events: Sequence[Activity],
    activity_names: Mapping[str, str], tz: ZoneInfo, today: dt.date,
    progress: Callable[[], None] | None = None,
) -> list[SignInBlock]:
    """A block for each plan still on (planned or held) among `events`, in their order; on a
    plan after `today` those not yet signed are expected, not missing."""
    out = []
    for plan in events:
        if plan.status not in PLAN_STATUSES or plan.id is None or plan.date is None:
            continue
        people = await sheet_people(session, plan)
        ids = [*people.signed, *people.leave, *people.missing]
        venue = county.schools.get(plan.school_id) if plan.school_id is not None else None
        out.append(SignInBlock(
            plan.id, activity_names.get(plan.activity or "", plan.activity or ""), plan.date,
            event_time(plan, tz), venue.name if venue else "",
            county.communities.get(plan.community_id or -1, ""),
            tuple(_line(m, people, county, tz, plan.date > today) for m in ids)))
        if progress is not None:
            progress()
    return out
