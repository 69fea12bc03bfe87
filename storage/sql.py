"""Dialect-aware statements that SQLAlchemy does not write portably for us."""

from __future__ import annotations

import functools
from typing import Any

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
