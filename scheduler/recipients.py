"""Who a scheduled message goes to: a community's groups, or a person's platform identity.

Every message is a `storage.outbox.NewMessage` whose key ends with its recipient, and whose
look (handlers.messages.Look: kind, the name people know the recipient by, a card title) is
written to `extra` in the one way the channels read it back; other facts a caller keeps
there (an activity id) stay beside it. People without an identity are skipped. Attachments
(a workbook, a chart) ride only on `to_person`: files never go to a group.
Imports storage, scheduler.queries and handlers.messages (the neutral Attachment) only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.messages import Attachment, Look
from scheduler.queries import GroupRow, Person, Roster
from storage.outbox import NewMessage


def to_groups(
    roster: Roster, community_id: int, *, key: str, kind: str, text: str,
    extra: dict[str, Any] | None = None, group_id: int | None = None, title: str = "",
) -> list[NewMessage]:
    """One message per community-wide group (or only `group_id` when it is one of them)."""
    groups: list[GroupRow] = roster.groups.get(community_id, [])
    if group_id is not None and any(g.id == group_id for g in groups):
        groups = [g for g in groups if g.id == group_id]
    return [
        NewMessage(key=f"{key}:chat:{g.id}", platform=g.platform, target_kind="chat",
                   target=g.chat_id, text=text, app_id=g.app_id,
                   extra={**(extra or {}),
                          **Look(kind=kind, to_name=g.name, title=title).as_extra()})
        for g in groups
    ]


def to_person(
    roster: Roster, person: Person, *, key: str, kind: str, text: str,
    community_id: int | None = None, extra: dict[str, Any] | None = None,
    attachments: Sequence[Attachment] = (), title: str = "",
) -> list[NewMessage]:
    """A private message on the platform of the community's groups when the person has an
    account there, else on the first platform they have one; nothing without an identity."""
    identities = roster.identities.get(person.id, [])
    if not identities:
        return []
    groups = roster.groups.get(community_id, []) if community_id is not None else []
    if not groups:
        groups = [g for gs in roster.groups.values() for g in gs]
    preferred = [g.platform for g in groups]
    ranked = sorted(identities, key=lambda i: (
        preferred.index(i[0]) if i[0] in preferred else len(preferred)))
    platform, external_id = ranked[0]
    app_id = next((g.app_id for g in groups if g.platform == platform), "")
    return [NewMessage(key=f"{key}:member:{person.id}", platform=platform, target_kind="user",
                       target=external_id, text=text, app_id=app_id,
                       extra={**(extra or {}),
                              **Look(kind=kind, to_name=person.name, title=title).as_extra()},
                       attachments=[a.as_dict() for a in attachments] or None)]
