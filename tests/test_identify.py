"""The platform's word first (bot.identify): Feishu's contact API and WeCom's user/get +
user/getuserid against the fake platforms, through the real worker. A unique roster match
links the sender (audited) and the message is handled as that member; otherwise nothing is
linked and the claim path takes over. One lookup per sender and day, restarts included."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.channels.feishu import FeishuChannel
from bot.channels.wecom import WeComChannel
from bot.channels.wecom.normalise import inbox_payload
from bot.config import DatabaseSettings, settings_from_dict
from bot.runtime import Runtime, open_runtime
from handlers import texts
from handlers.clock import SHANGHAI, FixedClock
from storage.db import transaction
from storage.models import Activity, AuditLog, Identity, Member
from storage.seed_demo import seed_demo
from tests.app_support import Mono
from tests.fakes.feishu import FakeFeishu
from tests.fakes.feishu_signing import text_event
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_signing import text_message

ZHANG_MOBILE = "13800001111"


@dataclasses.dataclass
class Rig:
    runtime: Runtime
    clock: FixedClock
    fake: Any

    async def rows(self, model: type[Any], **where: Any) -> list[Any]:
        async with self.runtime.factory() as session:
            return list((await session.execute(select(model).filter_by(**where))).scalars())

    async def drain(self) -> None:
        while await self.runtime.worker.drain() + await self.runtime.delivery.drain():
            pass

    async def links(self) -> list[AuditLog]:
        return await self.rows(AuditLog, entity="identity", action="link")


async def _open(db_url: str, raw: dict[str, Any]) -> tuple[Runtime, FixedClock]:
    settings = settings_from_dict(raw)
    settings = dataclasses.replace(settings, database=DatabaseSettings(url=db_url))
    clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    runtime = await open_runtime(settings, clock=clock)
    async with transaction(runtime.factory) as session:
        await seed_demo(session=session)
        await session.execute(update(Member).where(Member.name == "张丽")  # type: ignore[arg-type]
                              .values(phone="+86 138-0000-1111"))
    return runtime, clock


@pytest.fixture
async def feishu(db_url: str) -> AsyncIterator[Rig]:
    fake = await FakeFeishu().start()
    raw = {"feishu": {"app_id": "cli_test", "app_secret": "secret", "api_base": fake.url}}
    runtime, clock = await _open(db_url, raw)
    channel = FeishuChannel(runtime.settings.feishu, clock=Mono())
    runtime.add_channel(channel)
    try:
        yield Rig(runtime, clock, fake)
    finally:
        await channel.close()
        await runtime.close()
        await fake.close()


@pytest.fixture
async def wecom(db_url: str) -> AsyncIterator[Rig]:
    fake = await FakeWeCom().start()
    raw = {"wecom": {"corp_id": "ww_corp", "agent_id": 1000002, "app_secret": "app-secret",
                     "api_base": fake.url}}
    runtime, clock = await _open(db_url, raw)
    assert runtime.settings.wecom is not None
    channel = WeComChannel(runtime.settings.wecom, factory=runtime.factory, now=clock.now,
                           clock=Mono())
    runtime.add_channel(channel)
    try:
        yield Rig(runtime, clock, fake)
    finally:
        await channel.close()
        await runtime.close()
        await fake.close()


async def say_feishu(rig: Rig, open_id: str, text: str) -> None:
    event = text_event(text, app_id="cli_test", token="t", open_id=open_id, chat_type="p2p",
                       chat_id=f"oc_p2p_{open_id}")
    await rig.runtime.inbox.save(platform="feishu", event_id=uuid.uuid4().hex,
                                 payload={"app_id": "cli_test", "via": "webhook", "event": event})
    await rig.drain()


async def say_wecom(rig: Rig, userid: str, text: str) -> None:
    message = text_message(text, userid=userid, chattype="single",
                           response_url=rig.fake.response_url())
    timestamp = int(rig.clock.now().timestamp())
    await rig.runtime.inbox.save(platform="wecom", event_id=message["msgid"],
                                 payload=inbox_payload(message, timestamp=timestamp))
    await rig.drain()


# --- Feishu: the contact record's mobile -----------------------------------------------------


async def test_feishu_mobile_links_the_sender_without_asking(feishu: Rig) -> None:
    feishu.fake.users["ou_zl"] = {"name": "张丽", "mobile": "+8613800001111",
                                  "employee_no": "E042"}
    await say_feishu(feishu, "ou_zl", "签到")
    assert feishu.fake.texts()[-1].startswith("张丽签到成功")
    [identity] = await feishu.rows(Identity, platform="feishu", external_id="ou_zl")
    [audit] = await feishu.links()
    assert audit.after == {"member_id": identity.member_id, "platform": "feishu",
                           "external_id": "ou_zl", "how": "feishu directory: mobile"}
    # Linked once: the next message asks the platform nothing.
    await say_feishu(feishu, "ou_zl", "签退")
    assert feishu.fake.contact_calls == 1


async def test_feishu_unknown_user_links_nothing_and_is_asked_once_a_day(feishu: Rig) -> None:
    await say_feishu(feishu, "ou_stranger", "签到")
    assert feishu.fake.texts() == [texts.WHO_ARE_YOU]
    await say_feishu(feishu, "ou_stranger", "签到")
    assert feishu.fake.contact_calls == 1
    assert await feishu.rows(Identity, platform="feishu") == []
    feishu.clock.advance(timedelta(days=1))
    await say_feishu(feishu, "ou_stranger", "签到")
    assert feishu.fake.contact_calls == 2


async def test_feishu_a_name_alone_proves_nothing(feishu: Rig) -> None:
    """Without the phone scope the contact record has no mobile: the claim path decides."""
    feishu.fake.users["ou_x"] = {"name": "韦国庆"}
    await say_feishu(feishu, "ou_x", "本月集体备课几次")
    assert await feishu.rows(Identity, platform="feishu") == []
    assert await feishu.links() == []


async def test_feishu_a_mobile_already_held_on_feishu_is_not_linked_again(feishu: Rig) -> None:
    zhang = (await feishu.rows(Member, name="张丽"))[0]
    async with transaction(feishu.runtime.factory) as session:
        session.add(Identity(member_id=zhang.id, platform="feishu", external_id="ou_first"))
    feishu.fake.users["ou_second"] = {"name": "张丽", "mobile": "+8613800001111"}
    await say_feishu(feishu, "ou_second", "签到")
    assert await feishu.rows(Identity, external_id="ou_second") == []
    assert await feishu.rows(Activity) == []


async def test_feishu_lookup_survives_a_refused_token_once(feishu: Rig) -> None:
    feishu.fake.users["ou_zl"] = {"name": "张丽", "mobile": "13800001111"}
    await say_feishu(feishu, "ou_someone", "你好")  # fetches a token
    feishu.fake.revoke_tokens()
    await say_feishu(feishu, "ou_zl", "签到")
    assert len(await feishu.rows(Identity, external_id="ou_zl")) == 1


# --- WeCom: user/get's name, then getuserid of the roster's mobiles --------------------------


async def test_wecom_name_and_getuserid_link_the_sender(wecom: Rig) -> None:
    wecom.fake.users["zhangli"] = {"name": "张丽", "mobile": ZHANG_MOBILE}
    await say_wecom(wecom, "zhangli", "签到")
    assert wecom.fake.mobiles_asked == [ZHANG_MOBILE]
    [identity] = await wecom.rows(Identity, platform="wecom", external_id="zhangli")
    [audit] = await wecom.links()
    assert audit.after is not None and audit.after["how"] == "wecom directory: name and mobile"
    assert identity.member_id == (await wecom.rows(Member, name="张丽"))[0].id
    assert wecom.fake.texts()[-1].startswith("张丽签到成功")
    assert all(ZHANG_MOBILE not in s.content for s in wecom.fake.sent)


async def test_wecom_same_name_other_mobile_is_not_linked(wecom: Rig) -> None:
    """Someone else called 张丽: getuserid of the roster's mobile names another userid."""
    wecom.fake.users["zhangli"] = {"name": "张丽", "mobile": ZHANG_MOBILE}
    wecom.fake.users["zhangli2"] = {"name": "张丽", "mobile": "13900002222"}
    await say_wecom(wecom, "zhangli2", "签到")
    assert wecom.fake.mobiles_asked == [ZHANG_MOBILE]
    assert await wecom.rows(Identity, platform="wecom") == []
    assert wecom.fake.texts() == [texts.WHO_ARE_YOU]


async def test_wecom_unknown_userid_asks_no_mobile(wecom: Rig) -> None:
    await say_wecom(wecom, "ghost", "签到")
    assert (wecom.fake.user_get_calls, wecom.fake.mobiles_asked) == (1, [])
    await say_wecom(wecom, "ghost", "签到")
    assert wecom.fake.user_get_calls == 1
    assert await wecom.rows(Identity, platform="wecom") == []


async def test_wecom_a_name_not_on_the_roster_asks_no_mobile(wecom: Rig) -> None:
    wecom.fake.users["newbie"] = {"name": "不在名册", "mobile": "13700003333"}
    await say_wecom(wecom, "newbie", "签到")
    assert wecom.fake.mobiles_asked == []
    assert await wecom.rows(Identity, platform="wecom") == []


async def test_wecom_an_old_app_sees_the_mobile_directly(wecom: Rig) -> None:
    wecom.fake.legacy_mobiles = True
    wecom.fake.users["zl"] = {"name": "丽丽", "mobile": ZHANG_MOBILE}
    await say_wecom(wecom, "zl", "签到")
    assert wecom.fake.mobiles_asked == []
    [audit] = await wecom.links()
    assert audit.after is not None and audit.after["how"] == "wecom directory: mobile"


# --- claims and refusals on the platforms themselves -----------------------------------------


async def _link(rig: Rig, platform: str, **accounts: str) -> None:
    async with transaction(rig.runtime.factory) as session:
        for name, external_id in accounts.items():
            member = (await session.execute(select(Member).filter_by(name=name))).scalar_one()
            session.add(Identity(member_id=member.id or 0, platform=platform,
                                 external_id=external_id))


async def say_feishu_group(rig: Rig, open_id: str, text: str, chat_id: str = "oc_grp") -> None:
    mention = {"key": "@_user_1", "id": {"open_id": "ou_bot"}, "name": "教联助手"}
    event = text_event(f"@_user_1 {text}", app_id="cli_test", token="t", open_id=open_id,
                       chat_id=chat_id, mentions=[mention])
    await rig.runtime.inbox.save(platform="feishu", event_id=uuid.uuid4().hex,
                                 payload={"app_id": "cli_test", "via": "webhook", "event": event})
    await rig.drain()


def feishu_private(rig: Rig, open_id: str) -> list[str]:
    return [s.content["text"] for s in rig.fake.sent
            if s.kind == "send" and s.receive_id_type == "open_id" and s.target == open_id]


async def test_feishu_outsider_claiming_a_principal_waits_and_the_admin_is_told(
        feishu: Rig) -> None:
    await _link(feishu, "feishu", 蒙建华="ou_admin")
    await say_feishu(feishu, "ou_outsider", "我是融安县实验小学的韦国庆")
    assert feishu.fake.texts()[0] == texts.BIND_WAITS.format(who="融安县实验小学的韦国庆")
    [notice] = feishu_private(feishu, "ou_admin")
    assert notice.startswith("绑定申请 #1：飞书账号 ou_outsider 自称融安县实验小学的韦国庆")
    assert await feishu.rows(Identity, external_id="ou_outsider") == []
    await say_feishu_group(feishu, "ou_outsider", "绑定本群 融安县实验小学教共体")
    assert feishu.fake.texts()[-1] == texts.GROUP_BIND_ADMIN_ONLY
    assert await feishu.links() == []
    assert await feishu.rows(AuditLog, entity="chatgroup") == []


async def test_feishu_a_teacher_claiming_an_admin_act_is_refused(feishu: Rig) -> None:
    await _link(feishu, "feishu", 张丽="ou_zhang", 蒙建华="ou_admin")
    await say_feishu(feishu, "ou_outsider", "我是融安县实验小学的韦国庆")
    await say_feishu(feishu, "ou_zhang", "批准 1")
    await say_feishu_group(feishu, "ou_zhang", "绑定本群 融安县实验小学教共体")
    await say_feishu(feishu, "ou_zhang", "导出本月台账")
    assert feishu.fake.texts()[-3:] == [texts.CLAIM_ADMIN_ONLY, texts.GROUP_BIND_ADMIN_ONLY,
                                        texts.EXPORT_NOT_YOURS]
    assert await feishu.rows(Identity, external_id="ou_outsider") == []
    # The admin's group bind from a private chat is refused too; in the group it works.
    await say_feishu(feishu, "ou_admin", "绑定本群 融安县实验小学教共体")
    assert feishu.fake.texts()[-1] == texts.GROUP_BIND_IN_GROUP
    await say_feishu_group(feishu, "ou_admin", "绑定本群 融安县实验小学教共体")
    assert feishu.fake.texts()[-1] == "本群已绑定到融安县实验小学教共体。"
    [audit] = await feishu.rows(AuditLog, entity="chatgroup", action="bind")
    assert audit.member_id == (await feishu.rows(Member, name="蒙建华"))[0].id


async def test_wecom_teacher_claim_principal_told_and_undone(wecom: Rig) -> None:
    await _link(wecom, "wecom", 廖国华="liaogh")
    await say_wecom(wecom, "wf", "我是沙子中心校的王芳")  # 王芳 is linked on the console only
    assert wecom.fake.texts()[-1] == texts.BIND_WAITS.format(who="沙子乡中心小学的王芳")
    await say_wecom(wecom, "nl", "我是沙子中心校的农志刚")
    assert await wecom.rows(Identity, external_id="nl") == []  # linked elsewhere: waits too
    async with transaction(wecom.runtime.factory) as session:
        session.add(Member(name="覃秀梅", role="teacher",
                           school_id=(await wecom.rows(Member, name="王芳"))[0].school_id))
    await say_wecom(wecom, "xl", "我是沙子中心校的覃秀梅")
    assert len(await wecom.rows(Identity, external_id="xl")) == 1
    to_principal = [s.content for s in wecom.fake.sent if s.kind == "app" and s.target == "liaogh"]
    assert to_principal == ["覃秀梅 已绑定 企业微信账号 xl；如非本人请回复“解除”"]
    await say_wecom(wecom, "liaogh", "解除")
    assert await wecom.rows(Identity, external_id="xl") == []
    [unlink] = await wecom.rows(AuditLog, entity="identity", action="unlink")
    assert unlink.before == {"member_id": (await wecom.rows(Member, name="覃秀梅"))[0].id,
                             "platform": "wecom", "external_id": "xl"}


async def test_wecom_token_refreshed_for_a_lookup(wecom: Rig) -> None:
    wecom.fake.users["zhangli"] = {"name": "张丽", "mobile": ZHANG_MOBILE}
    await say_wecom(wecom, "ghost", "你好")  # fetches a token
    wecom.fake.revoke_tokens()
    await say_wecom(wecom, "zhangli", "签到")
    assert len(await wecom.rows(Identity, external_id="zhangli")) == 1
