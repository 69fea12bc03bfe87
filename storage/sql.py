"""Dialect-aware statements that SQLAlchemy does not write portably for us."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignore(session: AsyncSession, table: Any, *, conflict: list[str]) -> Any:
    """`INSERT … ON CONFLICT (conflict) DO NOTHING RETURNING id` for SQLite and PostgreSQL."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(table)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(table.c.id)
    )
