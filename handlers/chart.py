"""The monthly chart of one community: each school's activities per month against the quota.

A digest is private, so its chart goes with it as a picture (docs/charts.md). The figures are
handlers.standing's — the chat's and the digest's one way of counting — over whole calendar
months: a school's bar is the events it took part in, the label above each month the
community's own count, and the dashed line the monthly minimum of the quota rule.

`chart_data` reads the database; `chart_png` is pure and deterministic (same data, same
bytes). matplotlib is imported inside `chart_png`, so `jiaolian parse` and `serve` start as
fast as before; it draws with the project's own CJK font (handlers/fonts/, built by
tools/subset_cjk_font.py) and never with whatever fonts the machine has.
Imports handlers (quotas, periods, standing, texts) and storage only.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import texts
from handlers.periods import PeriodOf, add_months, month_start, plain_period
from handlers.quotas import DEFAULT_QUOTAS, Quota, rule_for
from handlers.standing import load_county, standing

if TYPE_CHECKING:
    from matplotlib.font_manager import FontProperties

log = logging.getLogger(__name__)

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "JiaolianSansSC-Regular.otf"
FONT_FAMILY = "Jiaolian Sans SC"
# DejaVu Sans ships inside matplotlib: the fallback for the rare mark the subset lacks.
FALLBACK_FAMILY = "DejaVu Sans"
# Readable on a phone: 1200×700 px at 150 dpi.
WIDTH_PX, HEIGHT_PX, DPI = 1200, 700, 150
MAX_MONTHS = 12  # more groups of bars than this no longer fit a phone's width
QUOTA_COLOUR = "#d62728"
MET_COLOUR, SHORT_COLOUR = "#2a7d2e", "#d62728"
# The lead school in a strong blue, member schools in colour-blind-safe tones after it.
SCHOOL_COLOURS = ("#1f5fa8", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
                  "#9c755f", "#bab0ac")


class ChartError(ValueError):
    """A chart that cannot be drawn as asked; the message says why."""


@dataclass(frozen=True)
class ChartSchool:
    id: int
    name: str
    is_lead: bool


@dataclass(frozen=True)
class ChartMonth:
    """One calendar month: each school's figure (in ChartData.schools' order) and the
    community's count, which is what the quota is measured against."""

    start: dt.date
    counts: tuple[int, ...]
    total: int

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"


@dataclass(frozen=True)
class ChartData:
    community_id: int
    community: str
    activity: str  # the quota rule's activity code (lesson_prep)
    activity_name: str  # as people say it (集体备课)
    need: int  # the rule's monthly minimum, for the whole community
    schools: tuple[ChartSchool, ...]  # lead school first
    months: tuple[ChartMonth, ...]

    def count(self, school_id: int, month: str) -> int:
        """A school's figure for a month given as YYYY-MM (0 for a month not charted)."""
        index = [s.id for s in self.schools].index(school_id)
        return next((m.counts[index] for m in self.months if m.label == month), 0)

    @property
    def range_text(self) -> str:
        """2026年9月—11月; the year repeated only when the range crosses one."""
        first, last = self.months[0].start, self.months[-1].start
        start = texts.CHART_YEAR_MONTH.format(year=first.year, month=first.month)
        if first == last:
            return start
        end = (texts.CHART_MONTH.format(month=last.month) if last.year == first.year
               else texts.CHART_YEAR_MONTH.format(year=last.year, month=last.month))
        return f"{start}{texts.CHART_RANGE_SEP}{end}"

    @property
    def title(self) -> str:
        return texts.CHART_TITLE.format(community=self.community, range=self.range_text)


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of the months from `start`'s to `end`'s, both included."""
    if end < start:
        raise ChartError(f"the range ends ({end}) before it starts ({start})")
    first, last = month_start(start), month_start(end)
    out = [first]
    while out[-1] < last:
        out.append(add_months(out[-1], 1))
    if len(out) > MAX_MONTHS:
        raise ChartError(f"{len(out)} months do not fit one chart; at most {MAX_MONTHS}")
    return out


async def chart_data(
    session: AsyncSession, *, community_id: int, start: dt.date, end: dt.date,
    quotas: Iterable[Quota] = DEFAULT_QUOTAS, activity: str = "lesson_prep",
    activity_name: str | None = None, period_of: PeriodOf = plain_period,
) -> ChartData:
    """Each school's monthly figure and the community's count of `activity`, for every month
    from `start`'s to `end`'s (whole months, as the quota counts them), against the monthly
    rule for it in `quotas` (the scheduler's config). Pass the running bot's `period_of`
    (SchoolCalendar.period) to count exactly the digest's months; plain months are the same
    today. Raises ChartError for an unknown community, a bad range or no monthly rule."""
    found = await charts_data(session, community_ids=[community_id], start=start, end=end,
                              quotas=quotas, activity=activity, activity_name=activity_name,
                              period_of=period_of)
    if community_id not in found:
        raise ChartError(f"no community #{community_id}")
    return found[community_id]


async def charts_data(
    session: AsyncSession, *, community_ids: Iterable[int] | None, start: dt.date,
    end: dt.date, quotas: Iterable[Quota] = DEFAULT_QUOTAS, activity: str = "lesson_prep",
    activity_name: str | None = None, period_of: PeriodOf = plain_period,
) -> dict[int, ChartData]:
    """`chart_data` of several communities (None: all), from one reading of the county and
    one county-wide count a month: the month's first digests chart every community at once.
    Communities the county does not have are left out. Raises ChartError for a bad range or
    no monthly rule."""
    firsts = months_between(start, end)
    rules = tuple(quotas)
    rule = rule_for(rules, activity, "month")
    if rule is None or rule.scope != "community":
        raise ChartError(f"no monthly community-wide quota rule for {activity!r}")
    county = await load_county(session=session)
    cids = sorted(county.communities if community_ids is None
                  else {c for c in community_ids if c in county.communities})
    if not cids:
        return {}
    schools = {cid: tuple(ChartSchool(s.id, s.name, s.is_lead)
                          for s in county.schools_of(cid)) for cid in cids}
    months: dict[int, list[ChartMonth]] = {cid: [] for cid in cids}
    for first in firsts:
        period = period_of("month", first)
        statuses = await standing(session=session, county=county, quotas=[rule],
                                  periods={"month": period}, per_school=True,
                                  communities=cids)
        for status in statuses:
            each = dict(status.schools)
            months[status.community_id].append(ChartMonth(
                period.start, tuple(each.get(s.id, 0) for s in schools[status.community_id]),
                status.done))
    if activity_name is None:
        from handlers.nlu.lexicon import activity_names

        activity_name = activity_names().get(activity, activity)
    return {cid: ChartData(cid, county.communities[cid], rule.activity, activity_name,
                           rule.minimum, schools[cid], tuple(months[cid])) for cid in cids}


# --- drawing --------------------------------------------------------------------------------

_font_lock = threading.Lock()
_font_added: list[bool] = []


def _register_font() -> None:
    """Add the project's font to matplotlib's font list once per process (charts may be
    drawn from worker threads)."""
    from matplotlib import font_manager

    with _font_lock:
        if not _font_added:
            font_manager.fontManager.addfont(str(FONT_PATH))
            _font_added.append(True)


def font(size: float) -> FontProperties:
    """The project's CJK font at `size` points, with matplotlib's own DejaVu Sans behind it."""
    from matplotlib.font_manager import FontProperties

    _register_font()
    return FontProperties(family=[FONT_FAMILY, FALLBACK_FAMILY], size=size)


def missing_glyphs(text: str) -> str:
    """The characters of `text` the project's font cannot draw (they would come out as
    boxes), in order of first appearance."""
    from matplotlib.font_manager import get_font

    face = get_font(str(FONT_PATH))
    seen = dict.fromkeys(c for c in text if not c.isspace())
    return "".join(c for c in seen if face.get_char_index(ord(c)) == 0)


def _tick_labels(months: tuple[ChartMonth, ...]) -> list[str]:
    """9月, 10月…; with the year over the first month and each January when the range
    crosses a year."""
    one_year = months[0].start.year == months[-1].start.year
    out = []
    for i, m in enumerate(months):
        label = texts.CHART_MONTH.format(month=m.start.month)
        if not one_year and (i == 0 or m.start.month == 1):
            label = f"{m.start.year}\n{label}"
        out.append(label)
    return out


def _row_major(items: list[tuple[Any, str]], ncol: int) -> list[tuple[Any, str]]:
    """Legend entries reordered so that matplotlib, which fills columns first, shows them
    row by row: the lead school first."""
    rows = -(-len(items) // ncol)
    return [items[r * ncol + c] for c in range(ncol) for r in range(rows)
            if r * ncol + c < len(items)]


def chart_png(data: ChartData) -> bytes:
    """The chart as a 1200×700 PNG. Pure: no database, no global matplotlib state changed
    but the font registered, and no timestamp in the file. Takes a few hundred ms; from the
    event loop, call it through asyncio.to_thread."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    missing = missing_glyphs(data.title + "".join(s.name for s in data.schools))
    if missing:
        log.warning("chart font lacks %s; they will show as boxes", missing)
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    n_schools, n_months = len(data.schools), len(data.months)
    ticks = _tick_labels(data.months)
    two_lines = any("\n" in t for t in ticks)
    legend_rows = -(-(n_schools + 1) // 3)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.77 - 0.045 * legend_rows,
                        bottom=0.16 if two_lines else 0.12)
    ax = fig.add_subplot()
    width = 0.8 / max(n_schools, 1)
    small, normal = font(9 if n_months * n_schools <= 24 else 8), font(10)
    total_text = texts.CHART_TOTAL if n_months <= 6 else texts.CHART_TOTAL_SHORT
    entries: list[tuple[Any, str]] = []  # legend: the schools, lead first, then the quota
    for i, school in enumerate(data.schools):
        xs = [m + (i - (n_schools - 1) / 2) * width for m in range(n_months)]
        heights = [month.counts[i] for month in data.months]
        bars = ax.bar(xs, heights, width * 0.92,
                      color=SCHOOL_COLOURS[i % len(SCHOOL_COLOURS)], zorder=2)
        ax.bar_label(bars, padding=2, fontproperties=small)
        entries.append((bars, school.name))
    line = ax.axhline(data.need, color=QUOTA_COLOUR, linestyle="--", linewidth=1.6, zorder=3)
    entries.append((line, texts.CHART_QUOTA.format(need=data.need)))
    top = max([data.need, *(max(m.counts, default=0) for m in data.months)])
    ax.set_ylim(0, top + 1.4)
    for m, month in enumerate(data.months):
        ax.annotate(total_text.format(n=month.total), (m, top + 1.4),
                    xytext=(0, -4), textcoords="offset points", ha="center", va="top",
                    color=MET_COLOUR if month.total >= data.need else SHORT_COLOUR,
                    fontproperties=normal)
    ax.set_xticks(range(n_months), ticks, fontproperties=font(11))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    for label in ax.get_yticklabels():
        label.set_fontproperties(normal)
    pad = max(0.0, (3 - n_months) / 2)  # one or two months: bars no wider than three's
    ax.set_xlim(-0.6 - pad, n_months - 0.4 + pad)
    ax.set_ylabel(texts.CHART_Y_LABEL.format(activity=data.activity_name),
                  fontproperties=font(11))
    ax.set_xlabel(texts.CHART_X_LABEL, fontproperties=font(11))
    ax.grid(axis="y", color="#dddddd", zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    # 15 pt fits about 34 hanzi across; a longer community name gets a smaller title.
    fig.suptitle(data.title, x=0.5, y=0.975,
                 fontproperties=font(15 if len(data.title) <= 34 else 15 * 34 / len(data.title)))
    fig.text(0.5, 0.885, texts.CHART_SUBTITLE.format(activity=data.activity_name,
                                                     need=data.need),
             ha="center", va="center", color="#555555", fontproperties=normal)
    ncol = min(len(entries), 3)
    ordered = _row_major(entries, ncol)
    fig.legend([h for h, _ in ordered], [lab for _, lab in ordered], loc="upper center",
               bbox_to_anchor=(0.5, 0.845), ncol=ncol, frameon=False, prop=normal,
               handlelength=1.6, columnspacing=1.6)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return out.getvalue()
