"""The 融安县 demo county of spec/domain.md as plain data.

Pure data, no database access: the parser's `--demo` gazetteer and `jiaolian db init --demo`
both read it. Imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BUREAU = "融安县教育局"
COMMUNITY_TYPE = "共建型"


@dataclass(frozen=True)
class DemoSchool:
    name: str
    aliases: tuple[str, ...]
    principal: str
    teachers: tuple[tuple[str, str], ...]  # (name, subjects separated by 、)


@dataclass(frozen=True)
class DemoCommunity:
    name: str
    group: str
    lead: DemoSchool
    members: tuple[DemoSchool, ...] = field(default_factory=tuple)

    @property
    def schools(self) -> tuple[DemoSchool, ...]:
        return (self.lead, *self.members)


ADMIN = ("蒙建华", "教育局教研室")

COMMUNITIES: tuple[DemoCommunity, ...] = (
    DemoCommunity(
        name="融安县初级中学教共体",
        group="融安县初级中学教共体群",
        lead=DemoSchool(
            "融安县初级中学", ("融安初中", "县初中"), "莫振宇",
            (("覃海燕", "化学"), ("罗文斌", "数学"), ("梁小红", "语文"), ("龙建军", "物理"),
             ("陆秀英", "英语"), ("潘志明", "历史"), ("廖春燕", "生物"), ("蓝天宇", "地理"),
             ("韦丽萍", "道德与法治")),
        ),
        members=(
            DemoSchool(
                "浮石镇初级中学", ("浮石中学", "浮石初中"), "吴德胜",
                (("黄志强", "物理"), ("谢美玲", "语文"), ("杨光辉", "数学"), ("石慧敏", "英语"),
                 ("卢永红", "化学"), ("邓小军", "体育"), ("周晓燕", "音乐"), ("唐国平", "历史")),
            ),
        ),
    ),
    DemoCommunity(
        name="融安县实验小学教共体",
        group="融安县实验小学教共体群",
        lead=DemoSchool(
            "融安县实验小学", ("县实小", "实验小学"), "韦国庆",
            (("李娜", "语文"), ("陈静", "数学"), ("刘芳", "英语"), ("何俊", "科学"),
             ("赵敏", "音乐"), ("孙丽华", "美术"), ("覃明", "体育"), ("张晓梅", "语文"),
             ("钟伟", "信息科技")),
        ),
        members=(
            DemoSchool(
                "泗顶镇中心小学", ("泗顶中心小学", "泗顶中心校", "泗顶小学"), "欧阳勇",
                (("张丽", "数学"), ("韦春兰", "语文"), ("黄海波", "英语"), ("莫小燕", "科学"),
                 ("吴秀珍", "语文"), ("蒙志刚", "体育"), ("廖玉梅", "美术"), ("贲凤英", "数学")),
            ),
        ),
    ),
    DemoCommunity(
        name="融安县第二实验小学教共体",
        group="融安县第二实验小学教共体群",
        lead=DemoSchool(
            "融安县第二实验小学", ("二实小", "第二实验小学"), "郑玉兰",
            (("刘洋", "英语"), ("王建平", "数学"), ("徐晓丽", "语文"), ("胡志勇", "科学"),
             ("朱红梅", "音乐"), ("高峰", "体育"), ("林小娟", "美术"), ("马丽", "道德与法治")),
        ),
        members=(
            DemoSchool(
                "桥板乡中心小学", ("桥板中心小学", "桥板中心校", "桥板小学"), "覃立新",
                (("罗秀兰", "语文"), ("韦家宝", "数学"), ("杨雪", "英语"), ("石玉凤", "科学"),
                 ("龙德明", "体育"), ("梁美华", "音乐"), ("潘永福", "数学"), ("莫丽娟", "语文")),
            ),
        ),
    ),
    DemoCommunity(
        name="融安县第三实验小学教共体",
        group="融安县第三实验小学教共体群",
        lead=DemoSchool(
            "融安县第三实验小学", ("三实小", "第三实验小学"), "黄卫东",
            (("周敏", "语文"), ("吴静", "数学"), ("陈晓东", "英语"), ("蓝凤", "科学"),
             ("谭丽", "美术"), ("钱国强", "体育"), ("冯春梅", "音乐"), ("卢海燕", "心理健康")),
        ),
        members=(
            DemoSchool(
                "沙子乡中心小学", ("沙子中心小学", "沙子中心校", "沙子小学"), "廖国华",
                (("王芳", "数学"), ("韦永宁", "语文"), ("覃小玲", "英语"), ("黄金凤", "科学"),
                 ("陆家强", "体育"), ("杨丽君", "语文"), ("邓美兰", "美术"), ("农志刚", "数学")),
            ),
        ),
    ),
    DemoCommunity(
        name="长安镇中心小学教共体",
        group="长安镇中心小学教共体群",
        lead=DemoSchool(
            "长安镇中心小学", ("长安中心小学", "长安中心校"), "梁永昌",
            (("韦晓红", "语文"), ("李建国", "数学"), ("赵春燕", "英语"), ("何丽萍", "科学"),
             ("蒋文华", "体育"), ("秦小梅", "音乐"), ("吕志红", "美术"), ("罗海英", "语文")),
        ),
        members=(
            DemoSchool(
                "板榄镇中心小学", ("板榄中心小学", "板榄中心校", "板榄小学"), "覃宏伟",
                (("黄秋菊", "语文"), ("莫建新", "数学"), ("韦丽娟", "英语"), ("潘德华", "科学"),
                 ("吴家明", "体育"), ("廖小凤", "音乐"), ("陈美玉", "数学"), ("欧秀梅", "语文")),
            ),
        ),
    ),
)


def demo_schools() -> list[tuple[str, tuple[str, ...]]]:
    """Every demo school with its aliases, lead schools first within each community."""
    return [(s.name, s.aliases) for c in COMMUNITIES for s in c.schools]
