"""Dialect-aware statements that SQLAlchemy does not write portably for us."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignore(session: AsyncSession, table: Any, *, conflict: list[str],
                  returning: bool = True) -> Any:
    """`INSERT … ON CONFLICT (conflict) DO NOTHING [RETURNING id]` for SQLite and PostgreSQL;
    give the values with `.values(…)` or as the parameters of `execute` (a list of rows,
    without `returning`, goes in one executemany)."""
    return _insert_ignore(session.get_bind().dialect.name, table, tuple(conflict), returning)


@functools.cache
def _insert_ignore(dialect: str, table: Any, conflict: tuple[str, ...], returning: bool) -> Any:
    """Built once per table: statements are immutable, and building one costs more than
    running it (the outbox queues one for every reply)."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    return stmt.returning(table.c.id) if returning else stmt


_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


async def plan_each_time(session: AsyncSession) -> None:
    """PostgreSQL: plan this transaction's statements for the rows there are now. asyncpg
    prepares statements, and PostgreSQL may settle on a generic plan made while a queue
    table was nearly empty: for the outbox claim it compared every waiting row with every
    other, 18 s a claim at 8,000 rows (autovacuum, which would have refreshed it, may be off).
    A claim is one statement a round, so planning it each time costs little."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_CUSTOM_PLANS)
