"""The pages' HTML: plain string templates, every value escaped, no script at all.

Mobile first (one column, large tap targets), readable in the WeCom and Feishu in-app
browsers; progress bars are <meter> elements, so the content security policy needs no
inline style. The Chinese here is the pages' own words (texts.py holds the chat's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from html import escape

from bot.pages.figures import Cell, CountyView, Line, ScopeView
from handlers.ledger.model import EventRow
from handlers.ledger.vocab import period_label
from handlers.periods import Period
from handlers.quotas import Quota
from handlers.sheet import Sheet
from storage.models import Activity

STATE = {"met": "已达标", "on_track": "按进度", "behind": "落后"}
STATUS = {"planned": "计划", "held": "已开展", "done": "已开展", "cancelled": "已取消"}
PERIOD_CHOICES = {"this_month": "本月", "last_month": "上月", "this_quarter": "本季度",
                  "this_semester": "本学期", "this_year": "今年"}

CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 -apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",\
sans-serif;color:#1d2129;background:#f5f6f7}
header{background:#1f6feb;color:#fff;padding:12px 16px}
header h1{font-size:19px;margin:0}
header p{margin:2px 0 0;font-size:13px;opacity:.9}
nav{display:flex;flex-wrap:wrap;gap:8px;padding:8px 16px;background:#fff;\
border-bottom:1px solid #e5e6eb}
nav a{padding:8px 12px;border-radius:8px;background:#eef3fe;color:#1f6feb;text-decoration:none;\
min-height:44px;display:inline-flex;align-items:center}
main{padding:12px 16px;max-width:720px;margin:0 auto}
section{background:#fff;border-radius:10px;padding:12px;margin:0 0 12px}
h2{font-size:17px;margin:0 0 8px}
h3{font-size:15px;margin:10px 0 4px}
.card{border-top:1px solid #f0f0f0;padding:8px 0}
.card:first-of-type{border-top:0}
.row{display:flex;justify-content:space-between;gap:8px;align-items:baseline}
.row>.fig{white-space:nowrap}
.fig{font-weight:600;font-variant-numeric:tabular-nums}
meter{width:100%;height:14px}
.met{color:#00a35c}.on_track{color:#b26a00}.behind{color:#d83931}
.tag{white-space:nowrap;font-size:13px;padding:1px 6px;border-radius:6px;background:#f2f3f5}
.muted{color:#86909c;font-size:13px}
a.big,button{display:block;width:100%;min-height:48px;font-size:17px;border:0;border-radius:10px;\
background:#1f6feb;color:#fff;text-align:center;padding:12px;margin:8px 0;text-decoration:none}
button.warn{background:#d83931}
label{display:block;margin:6px 0 2px;font-size:14px}
select,input[type=text],input[type=number]{width:100%;min-height:44px;font-size:16px;padding:6px;\
border:1px solid #c9cdd4;border-radius:8px}
.thumbs{display:flex;gap:6px;flex-wrap:wrap;margin-top:4px}
.thumbs img{width:72px;height:72px;object-fit:cover;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:14px}
td,th{padding:6px 4px;border-bottom:1px solid #f0f0f0;text-align:left;vertical-align:top}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:8px}
.chip{border:1px solid #e5e6eb;border-radius:8px;padding:6px 8px;font-size:14px}
details{margin-top:6px}
summary{min-height:44px;display:flex;align-items:center;color:#1f6feb}
"""


def e(value: object) -> str:
    return escape(str(value), quote=True)


def document(title: str, body: str, *, subtitle: str = "",
             nav: Sequence[tuple[str, str]] = ()) -> str:
    links = "".join(f'<a href="{e(href)}">{e(text)}</a>' for href, text in nav)
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            "<meta name=\"referrer\" content=\"no-referrer\">"
            f"<title>{e(title)}</title><link rel=\"stylesheet\" href=\"/p/style.css\"></head>"
            f"<body><header><h1>{e(title)}</h1>"
            + (f"<p>{e(subtitle)}</p>" if subtitle else "") + "</header>"
            + (f"<nav>{links}</nav>" if links else "") + f"<main>{body}</main></body></html>")


def notice(title: str, text: str) -> str:
    return document(title, f"<section><p>{e(text)}</p></section>")


def landing(action: str, bot_name: str) -> str:
    """The page a link opens: a button, so that a chat app's preview spends nothing."""
    body = (f'<section><p>这是{e(bot_name)}发给你的看板链接，只能打开一次。</p>'
            f'<form method="post" action="{e(action)}"><button type="submit">进入看板</button>'
            "</form></section>")
    return document("教共体看板", body)


def quota_name(quota: Quota, names: Mapping[str, str]) -> str:
    what = "/".join(names.get(c, c) for c in quota.codes)
    if quota.cover:
        return f"{what}学科覆盖"
    return what


def rule_text(quota: Quota) -> str:
    if quota.cover:
        return "每个任教学科至少一次"
    who = "每所成员校" if quota.scope == "member_school" else "教共体"
    return f"{who}至少{quota.minimum}次"


def _state(state: str) -> str:
    return f'<span class="tag {e(state)}">{e(STATE[state])}</span>'


def _chip(quota: Quota, period: Period, cell: Cell | None, names: Mapping[str, str]) -> str:
    if cell is None:
        return ""
    unit = "校" if cell.schools else ""
    return (f'<div class="chip {e(cell.state)}" data-quota="{e(quota.activity)}-{e(period.kind)}">'
            f"<div>{e(quota_name(quota, names))}</div>"
            f'<div class="muted">{e(period_label(period))}</div>'
            f'<div><span class="fig">{cell.done}/{cell.need}{unit}</span> '
            f"<small>{e(STATE[cell.state])}</small></div></div>")


def county_page(view: CountyView, *, title: str, names: Mapping[str, str],
                today: dt.date, nav: Sequence[tuple[str, str]]) -> str:
    """One card per community: the bundle first, then a two-column grid of its rules."""
    cards = []
    for r in view.rows:
        weakest = (f" · 最弱成员校 {e(r.weakest)} {r.weakest_met}/{r.weakest_total}"
                   if r.weakest else "")
        chips = "".join(_chip(q, p, c, names) for (q, p), c in zip(view.rules, r.cells,
                                                                   strict=True))
        cards.append(f'<section data-community="{r.community_id}"><h2>'
                     f'<a href="/p/c/{r.community_id}">{e(r.name)}</a></h2>'
                     f'<p class="muted">捆绑考核：教共体达标 <span class="fig">{r.met}/{r.total}'
                     f"</span> 项{weakest}</p><div class=\"grid\">{chips}</div></section>")
    body = (f'<p class="muted">截至 {today:%Y-%m-%d}；本月、本季度、本学期的指标。“校”为达标的'
            "成员校数；按进度：照时间进度不落后。</p>" + "".join(cards))
    return document(title, body, subtitle="全县各教共体", nav=nav)


def _line(line: Line, names: Mapping[str, str], own: bool = False) -> str:
    who = f"{line.school} · " if line.school else ""
    missing = (f'<div class="muted">未覆盖学科：{e("、".join(line.missing))}</div>'
               if line.missing else "")
    parts = ""
    if line.schools:
        items = "".join(f"<tr><td>{e(name)}</td><td class=\"fig\">{n}</td></tr>"
                        for name, n in line.schools)
        what = "本校参与次数（承办或登记）" if own else "各校参与次数（承办或登记）"
        parts = f"<details><summary>{what}</summary><table>{items}</table></details>"
    return (f'<div class="card" data-quota="{e(line.quota.activity)}-{e(line.period.kind)}">'
            f'<div class="row"><span>{e(who)}{e(quota_name(line.quota, names))}'
            f' <small class="muted">{e(period_label(line.period))} · {e(rule_text(line.quota))}'
            f'</small></span><span class="fig">{line.done}/{line.need} {_state(line.state)}'
            f'</span></div><meter min="0" max="{max(line.need, 1)}"'
            f' low="{max(line.need, 1) - 0.5}"'
            f' optimum="{max(line.need, 1)}" value="{min(line.done, max(line.need, 1))}"></meter>'
            f"{missing}{parts}</div>")


def _by_period(lines: Iterable[Line], names: Mapping[str, str], own: bool = False) -> str:
    out, current = [], None
    for line in lines:
        if line.period != current:
            current = line.period
            out.append(f"<h3>{e(period_label(line.period))}</h3>")
        out.append(_line(line, names, own))
    return "".join(out)


def entry_card(row: EventRow, photo_ids: Sequence[int], *, link: bool = True) -> str:
    what = " ".join(x for x in (row.subject, row.activity) if x)
    head = f'<a href="/p/e/{row.id}">{e(what)}</a>' if link else e(what)
    thumbs = "".join(f'<a href="/p/photo/{p}"><img src="/p/photo/{p}" alt="照片" loading="lazy">'
                     "</a>" for p in photo_ids[:6])
    detail = " · ".join(x for x in (row.school, row.topic,
                                    f"{row.participants}人" if row.participants else "") if x)
    return (f'<div class="card" data-event="{row.id}"><div class="row"><span>{head}</span>'
            f'<span class="muted">{row.date:%m-%d} {e(row.time)}</span></div>'
            f'<div class="muted">{e(detail)} · {e(STATUS.get(row.status, row.status))}'
            f" · 照片 {len(row.photos)} 张</div>"
            + (f'<div class="thumbs">{thumbs}</div>' if thumbs else "") + "</div>")


def _plan(plan: Activity, names: Mapping[str, str], schools: Mapping[int, str]) -> str:
    when = f"{plan.date:%m-%d}" if plan.date else "日期待定"
    where = schools.get(plan.school_id or -1, "")
    what = " ".join(x for x in (plan.subject or "", names.get(plan.activity or "", "活动")) if x)
    return (f'<div class="card" data-event="{plan.id}"><div class="row">'
            f'<a href="/p/e/{plan.id}">{e(what)}</a>'
            f'<span class="muted">{e(when)} {e(plan.time or "")}</span></div>'
            f'<div class="muted">{e(where)} {e(plan.topic or "")}</div></div>')


def scope_page(view: ScopeView, *, title: str, subtitle: str, names: Mapping[str, str],
               schools: Mapping[int, str], nav: Sequence[tuple[str, str]],
               member_links: Sequence[tuple[int, str]] = ()) -> str:
    counting = [x for x in view.lines if not x.quota.cover]
    cover = [x for x in view.lines if x.quota.cover]
    own = view.school_id is not None
    parts = [f"<section><h2>指标完成情况</h2>{_by_period(counting, names, own)}</section>"]
    if view.months:
        bars = []
        for label, months in view.months.items():
            rows = "".join(
                f'<tr><td>{m.month.month}月</td><td><meter min="0" max="{max(m.need, 1)}" '
                f'value="{min(m.done, max(m.need, 1))}"></meter></td>'
                f'<td class="fig">{m.done}/{m.need}</td></tr>' for m in months)
            bars.append(f"<h3>{e(label)}</h3><table>{rows}</table>")
        parts.append("<section><h2>本学期每月活动（对照月度要求）</h2>" + "".join(bars)
                     + "</section>")
    if cover:
        parts.append(f"<section><h2>学科覆盖</h2>{_by_period(cover, names, own)}</section>")
    if member_links:
        links = "".join(f'<a class="big" href="/p/s/{sid}">{e(name)}</a>'
                        for sid, name in member_links)
        parts.append(f"<section><h2>各校</h2>{links}</section>")
    plans = "".join(_plan(p, names, schools) for p in view.plans) or \
        '<p class="muted">暂无计划。</p>'
    parts.append(f"<section><h2>近期计划</h2>{plans}</section>")
    recent = "".join(entry_card(x.row, x.photo_ids) for x in view.recent) or \
        '<p class="muted">近两个月暂无记录。</p>'
    parts.append(f"<section><h2>近期活动记录</h2>{recent}</section>")
    return document(title, "".join(parts), subtitle=subtitle, nav=nav)


def event_page(row: EventRow, photo_ids: Sequence[int], sheet: Sheet | None, *,
               nav: Sequence[tuple[str, str]]) -> str:
    parts = [f"<section><h2>活动</h2>{entry_card(row, photo_ids, link=False)}"
             f'<p class="muted">登记人：{e("、".join(row.reporters))}</p></section>']
    if sheet is None:
        parts.append('<section><h2>签到表</h2><p class="muted">这项活动没有发布计划，'
                     "没有签到表。</p></section>")
    else:
        groups = (("signed", "已签到", sheet.signed), ("late", "迟到", sheet.late),
                  ("early", "早退", sheet.early), ("leave", "请假", sheet.leave),
                  ("missing", "未签到", sheet.missing))
        rows = "".join(f'<tr data-sheet="{key}"><th>{label}</th><td class="fig">{len(names)}</td>'
                       f"<td>{e('、'.join(names))}</td></tr>" for key, label, names in groups)
        invited = len(sheet.signed) + len(sheet.leave) + len(sheet.missing)
        parts.append(f"<section><h2>签到表</h2><p>应到 <span class=\"fig\" data-sheet=\"invited\">"
                     f"{invited}</span> 人</p><table>{rows}</table></section>")
    return document("活动详情", "".join(parts), nav=nav)


def _options(choices: Iterable[tuple[str, str]], chosen: str) -> str:
    return "".join(f'<option value="{e(v)}"{" selected" if v == chosen else ""}>{e(t)}</option>'
                   for v, t in choices)


def record_page(rows: Sequence[tuple[EventRow, Sequence[int]]], *, period: Period,
                chosen: Mapping[str, str], schools: Sequence[tuple[int, str]],
                activities: Mapping[str, str], manages: bool, csrf: str, query: str,
                nav: Sequence[tuple[str, str]], done: str = "", total: int = 0) -> str:
    form = ('<section><h2>筛选</h2><form method="get" action="/p/record">'
            '<label for="period">时段</label><select id="period" name="period">'
            + _options(PERIOD_CHOICES.items(), chosen.get("period", "this_month")) + "</select>"
            + '<label for="school">学校</label><select id="school" name="school">'
            + _options([("", "全部"), *((str(i), n) for i, n in schools)],
                       chosen.get("school", "")) + "</select>"
            + '<label for="activity">活动</label><select id="activity" name="activity">'
            + _options([("", "全部"), *activities.items()], chosen.get("activity", ""))
            + '</select><button type="submit">查看</button></form></section>')
    span = f"{period.start:%Y-%m-%d} 至 {period.end - dt.timedelta(days=1):%Y-%m-%d}"
    items = "".join(entry_card(r, p) for r, p in rows) or '<p class="muted">这段时间没有记录。</p>'
    total = max(total, len(rows))
    more = (f'<p class="muted">这里列出最近 {len(rows)} 条；全部记录请下载 Excel 台账。</p>'
            if total > len(rows) else "")
    listing = (f'<section><h2>活动记录 <span class="fig" id="count">{total}</span> 条</h2>'
               f'<p class="muted">{e(span)}</p>{more}{items}')
    if manages:
        listing += f'<a class="big" href="/p/record.xlsx?{e(query)}">下载 Excel 台账</a>'
    listing += "</section>"
    parts = [f'<section><p class="met">{e(done)}</p></section>' if done else "", form, listing]
    if manages and rows:
        ids = [(str(r.id), f"#{r.id} {r.date:%m-%d} {r.school} {r.activity}") for r, _ in rows]
        token = f'<input type="hidden" name="csrf" value="{e(csrf)}">'
        back = f'<input type="hidden" name="back" value="{e(query)}">'
        parts.append(
            '<section><h2>撤回记录</h2><form method="post" action="/p/record/withdraw">'
            f'{token}{back}<label for="w-id">记录</label><select id="w-id" name="event">'
            + _options(ids, "") + '</select><label for="w-reason">原因（必填）</label>'
            '<input type="text" id="w-reason" name="reason" required maxlength="200">'
            '<button class="warn" type="submit">撤回</button></form></section>'
            '<section><h2>合并重复记录</h2><form method="post" action="/p/record/merge">'
            f'{token}{back}<label for="m-keep">保留</label><select id="m-keep" name="keep">'
            + _options(ids, "") + '</select><label for="m-drop">并入后撤回</label>'
            '<select id="m-drop" name="drop">' + _options(ids, "")
            + '</select><label for="m-reason">原因（必填）</label>'
            '<input type="text" id="m-reason" name="reason" required maxlength="200">'
            '<button type="submit">合并</button></form></section>')
    return document("活动记录", "".join(parts), nav=nav)
