"""Small formatting helpers for replies: dates, times and one-line activity summaries."""

from __future__ import annotations

import datetime as dt

from handlers import texts
from storage.models import Activity

# A day further back than this shows its year: a secretary must see 2025 at a glance.
YEAR_SHOWN_AFTER = dt.timedelta(days=60)


def md(day: dt.date | None, today: dt.date | None = None) -> str:
    """11月26日 — how teachers write a date; with the year when it is not this year's or
    lies more than 60 days before `today`."""
    if day is None:
        return texts.DATE_UNKNOWN
    if today is not None and (day.year != today.year or today - day > YEAR_SHOWN_AFTER):
        return texts.YEAR_DATE.format(year=day.year, month=day.month, day=day.day)
    return f"{day.month}月{day.day}日"


def hm(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M")


def activity_summary(activity: Activity, name: str, school: str | None = None,
                     today: dt.date | None = None) -> str:
    """One line that echoes what was understood: date, time, grade, subject, activity, people."""
    head = md(activity.date, today)
    if activity.time:
        head += f" {activity.time}"
    what = f"{activity.grade or ''}{activity.subject or ''}{name}"
    extras = []
    if school:
        extras.append(school)
    if activity.participants is not None:
        extras.append(texts.SUMMARY_PEOPLE.format(n=activity.participants))
    if activity.topic:
        extras.append(f"《{activity.topic}》")
    tail = f"（{'，'.join(extras)}）" if extras else ""
    return f"{head} {what}{tail}"
