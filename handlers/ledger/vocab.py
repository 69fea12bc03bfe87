"""The export's own vocabulary: sheet names, headers, status words, period and rule labels.

These are the document's words (what a principal prints and files), shared by the workbook
and the CSV renderers; chat replies keep theirs in handlers.texts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from handlers.periods import Period, add_months
from handlers.quotas import Quota

EVENTS_SHEET = "活动台账"
QUOTAS_SHEET = "指标完成情况"
SIGNINS_SHEET = "签到簿"
EXCHANGE_SHEET = "交流轮岗"
ASSESSMENT_SHEET = "考核"
ASSESSMENT_DOC = "考核表"

EVENT_HEADERS = ("日期", "时间", "学校", "教共体", "活动类型", "学科", "年级", "主题",
                 "参与人数", "登记人", "照片", "照片编号", "状态", "登记时间")
QUOTA_HEADERS = ("教共体", "学校", "指标", "规则", "周期", "要求", "完成", "结果",
                 "未覆盖学科", "计数口径")
SIGNIN_HEADERS = ("姓名", "学校", "状态", "签到时间", "签退时间", "备注")
EXCHANGE_HEADERS = ("学年", "教共体", "派出学校", "日期", "类型", "去向", "人数", "登记人",
                    "目标", "结果")
ASSESSMENT_HEADERS = ("教共体", "学校", "角色", "指标", "规则", "周期", "要求", "完成", "结果",
                      "计数口径")

EVENT_STATUS = {"planned": "计划", "held": "已开展", "done": "已开展", "cancelled": "已取消"}
SIGNIN_STATUS = {"signed": "已签到", "late": "迟到", "early": "早退", "leave": "请假",
                 "missing": "未签到", "makeup": "补签", "expected": ""}
STATE = {"met": "达标", "unmet": "未达标", "open": "进行中"}
READING = {"own": "", "taking_part": "参与即计（承办或登记）", "schools": "各成员校均达标"}
ROLE = {None: "教共体", True: "牵头学校", False: "成员校"}

TOTAL = "合计"
SUBTOTAL = "小计"
EVENTS_TOTAL = "共 {n} 项，已开展 {held} 项"
CO_REPORTERS = "{first}（另：{others}）"
NAME_SEP = "、"
COMMUNITY_ITSELF = "（教共体）"
EXCHANGE_RULE = "交流轮岗（人数）"
EXCHANGE_TARGET = "每学年至少派出{n}人"
AT_LEAST = "≥{n}"
NO_PLANS = "本期间没有计划活动"
SIGNIN_BLOCK = "{activity}　{date} {time}　地点：{venue}　{community}"
PER_PERIOD = {"month": "每月", "quarter": "每季度", "semester": "每学期", "year": "每学年"}
RULE_COUNT = "{per}至少{n}次"
RULE_EACH_SCHOOL = "{per}每所成员校至少{n}次"
RULE_COVER = "{per}各学科至少1次"
TITLE = "{scope} {sheet} {start} 至 {end}"
ASSESSMENT_TITLE = "{scope} {sheet} {term}"


def period_label(period: Period) -> str:
    """2026年11月, 2026年第4季度, 2026年秋季学期, 2026学年."""
    if period.kind == "month":
        return f"{period.start.year}年{period.start.month}月"
    if period.kind == "quarter":
        return f"{period.start.year}年第{(period.start.month - 1) // 3 + 1}季度"
    if period.kind == "semester":
        year, _, season = period.label.partition("-")
        return f"{year}年{'秋季' if season == 'autumn' else '春季'}学期"
    if period.kind == "year":
        return f"{period.label.removeprefix('SY')}学年"
    return period.label


def quota_name(quota: Quota, activity_names: Mapping[str, str]) -> str:
    return "/".join(activity_names.get(c, c) for c in quota.codes)


def rule_text(quota: Quota) -> str:
    per = PER_PERIOD.get(quota.period, quota.period)
    if quota.cover:
        return RULE_COVER.format(per=per)
    if quota.scope == "member_school":
        return RULE_EACH_SCHOOL.format(per=per, n=quota.minimum)
    return RULE_COUNT.format(per=per, n=quota.minimum)


def reporters_text(names: tuple[str, ...]) -> str:
    """`韦国庆（另：张丽、李明）`: the registrant, then who else reported it."""
    if len(names) <= 1:
        return names[0] if names else ""
    return CO_REPORTERS.format(first=names[0], others=NAME_SEP.join(names[1:]))


def span_label(start: dt.date, end: dt.date) -> str:
    """2026年11月 for a whole month, else 2026-11-01至2026-11-15."""
    if start.day == 1 and end == add_months(start, 1) - dt.timedelta(days=1):
        return f"{start.year}年{start.month}月"
    return f"{start.isoformat()}至{end.isoformat()}"
