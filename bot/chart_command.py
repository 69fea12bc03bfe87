"""`jiaolian chart`: one community's activities per month per school, against the quota, as PNG.

`chart --community 融安县实验小学教共体 --from 2026-09 --to 2026-11 --out c.png`
draws whole months (the quota counts per month) with handlers.chart, the figures the chat and
the digests give. Reading never creates a database; a bad date, an unknown community or a
database that is not there is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.command_support import require_database, settings_for
from bot.config import ConfigError, Settings

if TYPE_CHECKING:  # the database layer and matplotlib are imported when a chart is drawn
    from sqlalchemy.ext.asyncio import AsyncSession

    from handlers.chart import ChartData


def _date(text: str, option: str) -> dt.date:
    """A day, or a month (YYYY-MM): the chart is drawn in whole months either way."""
    text = text.strip()
    try:
        return dt.date.fromisoformat(f"{text}-01" if len(text) == 7 else text)
    except ValueError as exc:
        raise ConfigError(f"{option}: expected YYYY-MM-DD or YYYY-MM, got {text!r}") from exc


async def _community_id(session: AsyncSession, wanted: str) -> int:
    """A community by its name (or its id); an unknown one names those there are."""
    from sqlalchemy import select
    from sqlmodel import col

    from storage.models import Community

    rows = (await session.execute(select(col(Community.id), col(Community.name))
                                  .order_by(col(Community.id)))).all()
    for cid, name in rows:
        if cid is not None and wanted.strip() in (name, str(cid)):
            return cid
    known = "、".join(name for _, name in rows) or "none: import a roster first"
    raise ConfigError(f"no community named {wanted!r} (there are: {known})")


async def _data(settings: Settings, args: argparse.Namespace) -> ChartData:
    from handlers.chart import ChartError, chart_data
    from scheduler.config import config_for
    from storage.db import migrated_transaction

    start, end = _date(args.date_from, "--from"), _date(args.date_to, "--to")
    try:
        config = config_for(scheduler=settings.scheduler, nlu=settings.nlu,
                            timezone=settings.bot.timezone)
    except ValueError as exc:  # SchedulerConfigError, QuotaConfigError: they name the key
        raise ConfigError(str(exc)) from exc
    await require_database(settings.database.url)
    async with migrated_transaction(settings.database.url) as session:
        community_id = await _community_id(session, args.community)
        try:
            return await chart_data(session, community_id=community_id, start=start, end=end,
                                    quotas=config.quotas, activity=args.activity,
                                    activity_name=config.name_of(args.activity))
        except ChartError as exc:
            raise ConfigError(str(exc)) from exc


def _cmd_chart(args: argparse.Namespace) -> int:
    from handlers.chart import chart_png

    settings = settings_for(args)
    data = asyncio.run(_data(settings, args))
    out = Path(args.out)
    try:
        out.write_bytes(chart_png(data))
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror or exc}") from exc
    totals = ", ".join(f"{m.label} {m.total}/{data.need}" for m in data.months)
    print(f"wrote {out} ({data.community}, {data.activity}: {totals})")
    return 0


def add_chart_command(subparsers: Any) -> None:
    """Register `chart --community C --from D --to D --out FILE.png [--activity CODE]`."""
    ch = subparsers.add_parser("chart", help="a community's monthly activities per school, PNG")
    ch.add_argument("--config", default=argparse.SUPPRESS,
                     help="config file (default: $JIAOLIAN_CONFIG or ./config.toml)")
    ch.add_argument("--demo", action="store_true", help="the demo database")
    ch.add_argument("--community", required=True, help="the community's name (or its id)")
    ch.add_argument("--from", dest="date_from", required=True,
                    help="the first month, YYYY-MM (or a day of it)")
    ch.add_argument("--to", dest="date_to", required=True,
                    help="the last month, YYYY-MM (or a day of it)")
    ch.add_argument("--out", required=True, help="the PNG file to write")
    ch.add_argument("--activity", default="lesson_prep",
                    help="the activity code of a monthly quota rule (default: lesson_prep)")
    ch.set_defaults(func=_cmd_chart)
