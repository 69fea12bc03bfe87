"""The words of a roster sheet: column names, roles, subjects, school types, phone numbers.

Shared by roster import and export so that what one writes the other reads. Pure functions
and constants; imports nothing of ours.
"""

from __future__ import annotations

import re

COMMUNITY = "教共体"
SCHOOL = "学校"
SCHOOL_TYPE = "学校类型"
NAME = "姓名"
ROLE = "角色"
SUBJECTS = "学科"
PHONE = "手机"
FEISHU_ID = "飞书ID"
WECOM_ID = "企业微信ID"

REQUIRED_COLUMNS: tuple[str, ...] = (SCHOOL, NAME, ROLE, SUBJECTS, PHONE)
PLATFORM_COLUMNS: dict[str, str] = {FEISHU_ID: "feishu", WECOM_ID: "wecom"}
OPTIONAL_COLUMNS: tuple[str, ...] = (COMMUNITY, SCHOOL_TYPE, *PLATFORM_COLUMNS)
EXPORT_COLUMNS: tuple[str, ...] = (
    COMMUNITY, SCHOOL, SCHOOL_TYPE, NAME, ROLE, SUBJECTS, PHONE, FEISHU_ID, WECOM_ID,
)

# Other spellings of a header that admins are likely to type; keys are upper-cased.
_HEADER_ALIASES: dict[str, str] = {
    "教联体": COMMUNITY,
    "学校名称": SCHOOL,
    "类型": SCHOOL_TYPE,
    "名字": NAME,
    "身份": ROLE,
    "职务": ROLE,
    "任教学科": SUBJECTS,
    "手机号": PHONE,
    "手机号码": PHONE,
    "飞书": FEISHU_ID,
    "飞书账号": FEISHU_ID,
    "企业微信": WECOM_ID,
    "企业微信账号": WECOM_ID,
}
_KNOWN_COLUMNS = {c.upper(): c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}


def canonical_column(header: str) -> str | None:
    """The column a header names, or None for a column we do not know."""
    key = re.sub(r"\s+", "", header).upper()
    return _KNOWN_COLUMNS.get(key) or _HEADER_ALIASES.get(key)


ROLE_LABELS: dict[str, str] = {"teacher": "教师", "principal": "校长", "admin": "管理员"}
_ROLES: dict[str, str] = {
    "教师": "teacher",
    "老师": "teacher",
    "校长": "principal",
    "副校长": "principal",
    "管理员": "admin",
    "教育局": "admin",
}
ROLE_CHOICES = "教师、校长、管理员"


def parse_role(text: str) -> str | None:
    return _ROLES.get(text.strip())


SCHOOL_TYPE_LABELS: dict[bool, str] = {True: "牵头", False: "成员"}
_SCHOOL_TYPES: dict[str, bool] = {
    "牵头": True,
    "牵头校": True,
    "牵头学校": True,
    "核心校": True,
    "成员": False,
    "成员校": False,
    "成员学校": False,
    "联合学校": False,
}


def parse_school_type(text: str) -> bool | None:
    """True for a lead school, False for a member school, None if not understood."""
    return _SCHOOL_TYPES.get(text.strip())


CANONICAL_SUBJECTS: tuple[str, ...] = (
    "语文", "数学", "英语", "物理", "化学", "生物", "历史", "地理", "道德与法治", "科学",
    "音乐", "美术", "体育", "信息科技", "心理健康", "劳动", "综合实践", "书法",
)
_SUBJECT_ALIASES: dict[str, str] = {
    "道法": "道德与法治",
    "思品": "道德与法治",
    "政治": "道德与法治",
    "思想品德": "道德与法治",
    "思想政治": "道德与法治",
    "体育与健康": "体育",
    "信息技术": "信息科技",
    "信息": "信息科技",
    "心理": "心理健康",
    "生物学": "生物",
    "劳动教育": "劳动",
    "综合实践活动": "综合实践",
}
_SUBJECTS: dict[str, str] = {**{s: s for s in CANONICAL_SUBJECTS}, **_SUBJECT_ALIASES}
LIST_SEPARATOR = "、"
_LIST_SPLIT = re.compile(r"[、,，;；/\s]+")


def split_list(text: str) -> list[str]:
    """Items of a cell that holds several, separated by 、,， ; / or spaces."""
    return [part for part in _LIST_SPLIT.split(text.strip()) if part]


def canonical_subject(text: str) -> str | None:
    return _SUBJECTS.get(text.strip())


_PHONE = re.compile(r"1[3-9]\d{9}")
_PHONE_NOISE = re.compile(r"[\s\-()（）]+")


def normalise_phone(text: str) -> str | None:
    """An 11-digit mainland mobile number (without +86), "" for none, None if invalid."""
    digits = _PHONE_NOISE.sub("", text.strip())
    if not digits:
        return ""
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if _PHONE.fullmatch(digits) else None
