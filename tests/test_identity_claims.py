"""Who is who in chat: claims, the principal's 解除, admins deciding, binding a group, and
the role checks in front of privileged acts — through the whole message path, with the
audit log read back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from handlers import texts
from storage.db import transaction
from storage.models import (
    Activity,
    AuditLog,
    ChatGroup,
    Identity,
    IdentityClaim,
    Member,
    OutboxMessage,
)
from storage.roster import school_named
from tests.chat_harness import Chat

REPORT = "今天上午在泗顶镇中心小学开展了三年级数学集体备课，12人参加"


async def _forget_account(chat: Chat, name: str) -> None:
    """The demo links every member on the console; drop one so their entry is unlinked."""
    async with transaction(chat.runtime.factory) as session:
        member = (await chat.rows(Member, name=name))[0]
        await session.execute(delete(Identity).where(Identity.member_id == member.id))  # type: ignore[arg-type]


async def _add_member(chat: Chat, name: str, school: str, role: str = "teacher") -> None:
    async with transaction(chat.runtime.factory) as session:
        found = await school_named(session=session, name=school)
        assert found is not None
        session.add(Member(name=name, role=role, school_id=found.id, subjects=["数学"]))


def _sent_to(chat: Chat, target: str) -> list[str]:
    return [m.text for m in chat.channel.sent if m.target_kind == "user" and m.target == target]


async def _links(chat: Chat, action: str) -> list[AuditLog]:
    return await chat.rows(AuditLog, entity="identity", action=action)


# --- a claim to a principal's or admin's entry waits for an admin ----------------------------


async def test_an_outsider_claiming_a_principal_gets_nothing_and_an_admin_is_asked(
        chat: Chat) -> None:
    reply = await chat.say("impostor", "我是融安县实验小学的韦国庆")
    assert reply[0] == texts.BIND_WAITS.format(who="融安县实验小学的韦国庆")
    assert await chat.rows(Identity, external_id="impostor") == []
    [claim] = await chat.rows(IdentityClaim)
    assert (claim.status, claim.reason, claim.external_id) == ("pending", "privileged", "impostor")
    [to_admin] = _sent_to(chat, "蒙建华")
    assert to_admin.startswith(
        f"绑定申请 #{claim.id}：控制台账号 impostor 自称融安县实验小学的韦国庆")
    # Still a stranger: a report is not stored under anyone's name, a group is not rebound.
    assert await chat.say("impostor", REPORT) == [texts.WHO_ARE_YOU]
    assert await chat.rows(Activity) == []
    assert await chat.say("impostor", "@教联助手 绑定本群 融安县实验小学教共体", chat="某群") == [
        texts.GROUP_BIND_ADMIN_ONLY]
    assert await chat.rows(ChatGroup, chat_id="某群") == []
    assert await _links(chat, "link") == []
    # Asking again does not queue a second claim.
    again = await chat.say("impostor", "我是融安县实验小学的韦国庆")
    assert again == [texts.BIND_STILL_WAITING.format(name="韦国庆")]
    assert len(await chat.rows(IdentityClaim)) == 1


async def test_claiming_the_admin_makes_nobody_an_admin(chat: Chat) -> None:
    await _forget_account(chat, "蒙建华")
    reply = await chat.say("someone", "我是蒙建华")
    assert reply[0] == texts.BIND_WAITS.format(who="蒙建华")
    assert await chat.rows(Identity, external_id="someone") == []
    assert await chat.say("someone", "绑定本群 融安县实验小学教共体", chat="新群") == [
        texts.GROUP_BIND_ADMIN_ONLY]


async def test_a_claim_to_an_entry_already_linked_waits(chat: Chat) -> None:
    reply = await chat.say("x3", "我是沙子乡中心小学的王芳")
    assert reply[0] == texts.BIND_WAITS.format(who="沙子乡中心小学的王芳")
    [claim] = await chat.rows(IdentityClaim)
    assert claim.reason == "taken"
    assert await chat.rows(Identity, external_id="x3") == []


async def test_an_ambiguous_claim_waits_and_needs_the_member_named(chat: Chat) -> None:
    await _add_member(chat, "刘明", "沙子乡中心小学")
    await _add_member(chat, "刘明", "桥板乡中心小学")
    reply = await chat.say("lm", "我是刘明")
    assert reply[0] == texts.BIND_WAITS.format(who="刘明")
    [claim] = await chat.rows(IdentityClaim)
    assert (claim.reason, claim.member_id) == ("ambiguous", None)
    answer = await chat.say("蒙建华", f"批准 {claim.id}", p2p=True)
    assert answer == [texts.CLAIM_PICK_MEMBER.format(id=claim.id)]
    assert await chat.rows(Identity, external_id="lm") == []


# --- a teacher's claim: accepted, the principal told, 解除 undoes it -------------------------


async def test_a_teachers_claim_is_accepted_and_the_principal_can_undo_it(chat: Chat) -> None:
    await _forget_account(chat, "王芳")
    reply = await chat.say("wf-new", "我是沙子中心校的王芳")
    assert reply[0] == "绑定成功！你好，沙子乡中心小学的王芳老师。"
    assert _sent_to(chat, "廖国华") == ["王芳 已绑定 控制台账号 wf-new；如非本人请回复“解除”"]
    [identity] = await chat.rows(Identity, external_id="wf-new")
    [linked] = await _links(chat, "link")
    assert linked.after == {"member_id": identity.member_id, "platform": "console",
                            "external_id": "wf-new", "how": "claim"}
    # Another school's principal and a teacher have nothing to undo; a group is no place.
    assert await chat.say("欧阳勇", "解除", p2p=True) == [texts.UNLINK_NONE]
    assert await chat.say("张丽", "解除", p2p=True) == [texts.UNLINK_NONE]
    assert await chat.say("廖国华", "解除") == [texts.PRIVATE_ONLY]
    assert len(await chat.rows(Identity, external_id="wf-new")) == 1
    undone = await chat.say("廖国华", "解除", p2p=True)
    assert undone == ["已解除 王芳 与控制台账号 wf-new 的绑定。",
                      texts.UNLINKED_NOTICE.format(name="王芳")]
    assert await chat.rows(Identity, external_id="wf-new") == []
    [unlinked] = await _links(chat, "unlink")
    assert unlinked.before is not None and unlinked.before["external_id"] == "wf-new"
    assert unlinked.member_id == (await chat.rows(Member, name="廖国华"))[0].id
    [claim] = await chat.rows(IdentityClaim)
    assert claim.status == "undone"
    assert await chat.say("廖国华", "解除", p2p=True) == [texts.UNLINK_NONE]
    assert await chat.say("wf-new", REPORT) == [texts.WHO_ARE_YOU]
    assert await chat.rows(Activity) == []


async def test_a_teacher_linked_elsewhere_is_not_claimed_from_chat(chat: Chat) -> None:
    """The issue's "a WeCom account can claim a teacher already linked on Feishu"."""
    async with transaction(chat.runtime.factory) as session:
        member = (await chat.rows(Member, name="张丽"))[0]
        await session.execute(delete(Identity).where(Identity.member_id == member.id))  # type: ignore[arg-type]
        session.add(Identity(member_id=member.id or 0, platform="feishu", external_id="ou_zl"))
    reply = await chat.say("console-zl", "我是泗顶中心校的张丽")
    assert reply[0] == texts.BIND_WAITS.format(who="泗顶镇中心小学的张丽")
    assert await chat.rows(Identity, external_id="console-zl") == []


# --- admins decide ---------------------------------------------------------------------------


async def test_an_admin_approves_a_principals_claim_in_a_private_chat(chat: Chat) -> None:
    await _forget_account(chat, "韦国庆")
    await chat.say("wgq-new", "我是融安县实验小学的韦国庆")
    [claim] = await chat.rows(IdentityClaim)
    assert await chat.say("张丽", f"批准 {claim.id}", p2p=True) == [texts.CLAIM_ADMIN_ONLY]
    assert await chat.say("蒙建华", f"批准 {claim.id}") == [texts.PRIVATE_ONLY]
    assert await chat.rows(Identity, external_id="wgq-new") == []
    answer = await chat.say("蒙建华", f"批准 {claim.id}", p2p=True)
    assert answer == [texts.CLAIM_APPROVED.format(id=claim.id, who="融安县实验小学的韦国庆"),
                      texts.CLAIM_APPROVED_NOTICE.format(who="融安县实验小学的韦国庆")]
    [linked] = await _links(chat, "link")
    assert linked.after is not None and linked.after["how"] == f"approved claim {claim.id}"
    assert linked.member_id == (await chat.rows(Member, name="蒙建华"))[0].id
    assert (await chat.say("wgq-new", "签到"))[0].startswith("韦国庆签到成功")
    assert await chat.say("蒙建华", f"批准 {claim.id}", p2p=True) == [
        texts.CLAIM_UNKNOWN.format(id=claim.id)]


async def test_an_admin_rejects_a_claim(chat: Chat) -> None:
    await chat.say("impostor", "我是融安县实验小学的韦国庆")
    [claim] = await chat.rows(IdentityClaim)
    answer = await chat.say("蒙建华", f"驳回 {claim.id}", p2p=True)
    assert answer == [texts.CLAIM_REJECTED.format(id=claim.id), texts.CLAIM_REJECTED_NOTICE]
    assert (await chat.rows(IdentityClaim))[0].status == "rejected"
    assert len(await chat.rows(AuditLog, entity="claim", action="reject")) == 1
    assert await chat.rows(Identity, external_id="impostor") == []
    # Turned down, the claimant cannot flood the admins the same day.
    before = len(_sent_to(chat, "蒙建华"))
    assert await chat.say("impostor", "我是融安县实验小学的韦国庆") == [texts.BIND_TRY_TOMORROW]
    assert len(_sent_to(chat, "蒙建华")) == before and len(await chat.rows(IdentityClaim)) == 1


# --- binding a group -------------------------------------------------------------------------


async def test_a_group_is_bound_only_in_the_group(chat: Chat) -> None:
    reply = await chat.say("蒙建华", "绑定本群 融安县第二实验小学教共体", p2p=True)
    assert reply == [texts.GROUP_BIND_IN_GROUP]
    assert await chat.rows(ChatGroup, chat_id="私聊:蒙建华") == []


async def test_an_admin_binds_a_group_when_addressed(chat: Chat) -> None:
    reply = await chat.say("蒙建华", "@教联助手 绑定本群 融安县第二实验小学教共体", chat="新群")
    assert reply == ["本群已绑定到融安县第二实验小学教共体。"]
    [group] = await chat.rows(ChatGroup, chat_id="新群")
    [audit] = await chat.rows(AuditLog, entity="chatgroup", action="bind")
    assert audit.entity_id == group.id and audit.before is None
    assert audit.after is not None and audit.after["community_id"] == group.community_id


async def test_a_bind_with_spaces_and_a_full_stop_is_still_a_bind(chat: Chat) -> None:
    reply = await chat.say("蒙建华", "@教联助手 绑定本群：融安县第二实验小学 教共体。",
                           chat="新群")
    assert reply == ["本群已绑定到融安县第二实验小学教共体。"]
    assert await chat.say("蒙建华", "我是蒙建华") == [
        texts.BIND_ALREADY_NO_SCHOOL.format(name="蒙建华")]


async def test_only_the_lead_principal_binds_a_group_to_his_community(chat: Chat) -> None:
    own = "融安县实验小学教共体"
    assert await chat.say("张丽", f"绑定本群 {own}", chat="新群") == [texts.GROUP_BIND_ADMIN_ONLY]
    assert await chat.say("张丽", "绑定本群 没有这个教共体", chat="新群") == [
        texts.GROUP_BIND_ADMIN_ONLY]
    assert await chat.say("韦国庆", "绑定本群 没有这个教共体", chat="新群") == [
        texts.GROUP_BIND_UNKNOWN.format(scope="没有这个教共体")]
    # A member school's principal answers for his school, not for the community's groups.
    assert await chat.say("欧阳勇", f"绑定本群 {own}", chat="新群") == [
        texts.GROUP_BIND_ADMIN_ONLY]
    assert await chat.say("韦国庆", "绑定本群 融安县第二实验小学教共体", chat="新群") == [
        texts.GROUP_BIND_ADMIN_ONLY]
    assert await chat.rows(ChatGroup, chat_id="新群") == []
    assert await chat.say("韦国庆", f"绑定本群 {own}", chat="新群") == [f"本群已绑定到{own}。"]
    # Another community's group stays where it is.
    other = "融安县第二实验小学教共体群"
    before = (await chat.rows(ChatGroup, chat_id=other))[0].community_id
    assert await chat.say("韦国庆", f"绑定本群 {own}", chat=other) == [texts.GROUP_BIND_ADMIN_ONLY]
    assert (await chat.rows(ChatGroup, chat_id=other))[0].community_id == before
    assert len(await chat.rows(AuditLog, entity="chatgroup")) == 1


# --- strangers and exports -------------------------------------------------------------------


async def test_a_stranger_gets_one_hint_a_day(chat: Chat) -> None:
    assert await chat.say("陌生人", "签到") == [texts.WHO_ARE_YOU]
    assert await chat.say("陌生人", REPORT) == []
    assert await chat.say("陌生人", "签到", p2p=True) == []
    chat.clock.advance(timedelta(days=1))
    assert await chat.say("陌生人", "签到") == [texts.WHO_ARE_YOU]
    assert await chat.rows(Activity) == [] and await chat.rows(
        Identity, external_id="陌生人") == []


async def test_exports_and_digests_are_for_principals_and_admins(chat: Chat) -> None:
    assert await chat.say("张丽", "导出本月台账", p2p=True) == [texts.EXPORT_NOT_YOURS]
    [sent] = await chat.say("韦国庆", "导出本月台账", p2p=True)
    assert sent.startswith("这是2026年11月的活动台账")
    assert await chat.say("张丽", "发个周报", p2p=True) == [texts.DIGEST_NOT_YOURS]
    digest = await chat.say("韦国庆", "发个周报", p2p=True)
    assert digest and texts.DIGEST_NOT_YOURS not in digest


async def test_no_mobile_reaches_a_group_or_a_notice(chat: Chat) -> None:
    async with transaction(chat.runtime.factory) as session:
        found = await school_named(session=session, name="沙子乡中心小学")
        assert found is not None
        session.add(Member(name="新老师", role="teacher", school_id=found.id,
                           phone="13800001234"))
    await chat.say("nt", "我是沙子中心校的新老师")
    assert all("13800001234" not in m.text for m in await chat.rows(OutboxMessage))
