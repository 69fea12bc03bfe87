"""`jiaolian member pending | approve ID [--member N] | reject ID`: an admin at the server
decides the claims that wait (storage.identity). The claimant hears the outcome through the
outbox, so a running bot delivers it; nothing here talks to a platform.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from bot.config import ConfigError, Settings
from handlers import texts

NOTICE_KEY = "claim:{id}:{status}"


async def pending_lines(settings: Settings) -> list[str]:
    """One line per waiting claim: id, account, claimed name and school, why it waits."""
    from storage.db import migrated_transaction
    from storage.identity import pending_claims
    from storage.models import Member, School

    lines = []
    async with migrated_transaction(settings.database.url) as session:
        for claim in await pending_claims(session=session):
            school = await session.get(School, claim.school_id) if claim.school_id else None
            member = await session.get(Member, claim.member_id) if claim.member_id else None
            who = f"member {member.id} ({member.role})" if member else "several members"
            lines.append(f"{claim.id}\t{claim.platform}:{claim.external_id}\t"
                         f"{claim.account_name}\t{school.name if school else '-'}\t{claim.name}\t"
                         f"{who}\t{claim.reason}\t{claim.created_at.isoformat()}")
    return lines or ["no claims waiting"]


async def decide(settings: Settings, args: argparse.Namespace, *, approve: bool) -> str:
    from handlers.bind import person_label
    from storage.db import migrated_transaction
    from storage.identity import ClaimError, approve_claim, reject_claim
    from storage.models import IdentityClaim, School
    from storage.outbox import NewMessage, enqueue

    now = dt.datetime.now(dt.UTC)
    async with migrated_transaction(settings.database.url) as session:
        claim = await session.get(IdentityClaim, args.claim_id)
        if claim is None:
            raise ConfigError(f"no claim {args.claim_id}")
        try:
            if approve:
                await approve_claim(session=session, claim=claim, at=now, actor_id=None,
                                    member_id=args.member)
            else:
                await reject_claim(session=session, claim=claim, at=now, actor_id=None)
        except ClaimError as exc:
            raise ConfigError(str(exc)) from exc
        school = await session.get(School, claim.school_id) if claim.school_id else None
        who = person_label(school.name if school else "", claim.name)
        text = texts.CLAIM_APPROVED_NOTICE.format(who=who) if approve else (
            texts.CLAIM_REJECTED_NOTICE)
        await enqueue(session=session, now=now, message=NewMessage(
            key=NOTICE_KEY.format(id=claim.id, status=claim.status), platform=claim.platform,
            target_kind="user", target=claim.external_id, text=text))
    verb = "approved" if approve else "rejected"
    return f"claim {args.claim_id} {verb}: {claim.platform}:{claim.external_id} as {claim.name}"


def add_claim_commands(msub: Any, common: argparse.ArgumentParser) -> None:
    p = msub.add_parser("pending", parents=[common], help="claims waiting for an admin")
    p.add_argument("--demo", action="store_true", help="the demo database")
    a = msub.add_parser("approve", parents=[common], help="link a waiting claim's account")
    a.add_argument("claim_id", type=int)
    a.add_argument("--member", type=int, help="the member id, when the name fits several")
    a.add_argument("--demo", action="store_true", help="the demo database")
    r = msub.add_parser("reject", parents=[common], help="turn a waiting claim down")
    r.add_argument("claim_id", type=int)
    r.add_argument("--demo", action="store_true", help="the demo database")
