"""The scheduler's durable memory in `Setting` rows: the last run, and things done once.

Imports storage only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Setting

LAST_RUN = "scheduler:last_run"
ONCE_PREFIX = "scheduler:once:"


def _insert(session: AsyncSession) -> object:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(Setting)


async def read_setting(*, session: AsyncSession, key: str) -> str | None:
    stmt = select(col(Setting.value)).where(col(Setting.key) == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def last_run(*, session: AsyncSession) -> datetime | None:
    value = await read_setting(session=session, key=LAST_RUN)
    return datetime.fromisoformat(value) if value else None


async def save_last_run(*, session: AsyncSession, moment: datetime) -> None:
    """Move the mark forward only: a slower second instance must not move it back."""
    value = moment.astimezone(UTC).isoformat(timespec="microseconds")
    ins = _insert(session).values(key=LAST_RUN, value=value, updated_at=moment)  # type: ignore[attr-defined]
    # Same format and zone on both sides, so the strings order like the moments.
    stmt = ins.on_conflict_do_update(
        index_elements=["key"], set_={"value": ins.excluded.value,
                                      "updated_at": ins.excluded.updated_at},
        where=col(Setting.value) < ins.excluded.value,
    )
    await session.execute(stmt)


async def claim_beat(*, session: AsyncSession, now: datetime) -> datetime | None:
    """Claim the beat window (last run, now] for this transaction: the last run (`now` on a
    fresh install: it must not announce what it never missed), recorded as `now` on commit;
    None when another instance already ran up to `now`. On PostgreSQL a transaction lock
    makes the beats of several instances take turns, each seeing the one before it."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                              {"key": LAST_RUN})
    previous = await last_run(session=session)
    if previous is not None and previous >= now:
        return None
    await save_last_run(session=session, moment=now)
    return previous or now


async def done_before(*, session: AsyncSession, key: str) -> bool:
    return await read_setting(session=session, key=ONCE_PREFIX + key) is not None


async def claim_once(*, session: AsyncSession, key: str, now: datetime) -> bool:
    """True the first time a key is claimed, ever (across restarts and instances)."""
    stmt = _insert(session).values(  # type: ignore[attr-defined]
        key=ONCE_PREFIX + key, value=now.astimezone(UTC).isoformat(), updated_at=now,
    ).on_conflict_do_nothing(index_elements=["key"]).returning(col(Setting.key))
    return (await session.execute(stmt)).scalar_one_or_none() is not None
