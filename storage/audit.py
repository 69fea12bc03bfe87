"""The audit log: every create, change and undo, with who and before/after."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from storage.models import AuditLog


def snapshot(row: SQLModel) -> dict[str, Any]:
    """A JSON-safe copy of a row for the audit log."""
    out: dict[str, Any] = {}
    for key, value in row.model_dump().items():
        if isinstance(value, dt.datetime | dt.date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def record_audit(
    *,
    session: AsyncSession,
    at: dt.datetime,
    member_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    session.add(
        AuditLog(at=at, member_id=member_id, action=action, entity=entity,
                 entity_id=entity_id, before=before, after=after, reason=reason[:500])
    )
