"""Every table of the bot, in one place (SQLModel on SQLAlchemy 2).

Datetimes are stored as UTC and come back timezone-aware (`UTCDateTime`), so that SQLite
and PostgreSQL behave alike; calendar dates of activities are local (Asia/Shanghai) dates.
Imports nothing of ours.
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Column, Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, naive UTC at rest."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utc_column(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def json_column() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


# --- the roster -----------------------------------------------------------------------------


class Community(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    kind: str = Field(default="共建型", max_length=20)  # 融合型 / 共建型 / 协作型
    bureau: str = Field(default="", max_length=100)


class School(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    community_id: int = Field(foreign_key="community.id", index=True)
    is_lead: bool = False
    aliases: list[str] | None = json_column()


class Role(StrEnum):
    """Who a roster member is to the bot; a StrEnum, so rows written as plain text compare."""

    TEACHER = "teacher"
    PRINCIPAL = "principal"  # of their school; the lead school's principal leads the community
    ADMIN = "admin"  # the county bureau


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, index=True)
    role: str = Field(default=Role.TEACHER.value, max_length=20)  # Role
    school_id: int | None = Field(default=None, foreign_key="school.id", index=True)
    subjects: list[str] | None = json_column()
    phone: str = Field(default="", max_length=30)
    active: bool = True


class Identity(SQLModel, table=True):
    """A member's account on one platform; unique per platform and external id."""

    __table_args__ = (sa.UniqueConstraint("platform", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    platform: str = Field(max_length=20)
    external_id: str = Field(max_length=128)


class ChatGroup(SQLModel, table=True):
    """A platform chat bound to a community (or a single school)."""

    __table_args__ = (sa.UniqueConstraint("platform", "chat_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    chat_id: str = Field(max_length=128)
    name: str = Field(default="", max_length=100)
    community_id: int | None = Field(default=None, foreign_key="community.id", index=True)
    school_id: int | None = Field(default=None, foreign_key="school.id")
    app_id: str = Field(default="", max_length=64)


class IdentityClaim(SQLModel, table=True):
    """Someone in chat said who they are (`我是…的王芳`): what became of it.

    `linked`: accepted (a teacher's unlinked entry), and `notified_id` (the school's principal)
    may undo it with 解除; `pending`: waits for an admin (a principal's or admin's entry, one
    already linked, or a name that fits several); then `approved`, `rejected` or `undone`."""

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    external_id: str = Field(max_length=128, index=True)
    account_name: str = Field(default="", max_length=100)  # the platform's display name
    name: str = Field(max_length=50)  # the name claimed
    school_id: int | None = Field(default=None, foreign_key="school.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")  # None: ambiguous
    status: str = Field(default="pending", max_length=10, index=True)
    reason: str = Field(default="", max_length=20)  # privileged / taken / ambiguous
    notified_id: int | None = Field(default=None, foreign_key="member.id")
    identity_id: int | None = None
    decided_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = utc_column()
    decided_at: datetime | None = utc_column(nullable=True)


# --- what people do -------------------------------------------------------------------------


class EventStatus(StrEnum):
    PLANNED = "planned"  # announced, not yet held
    HELD = "held"  # a plan that took place: a sign-in, a matching report, or 已开展
    DONE = "done"  # reported without a plan
    CANCELLED = "cancelled"


# What quotas, digests, queries and exports count: events that took place.
COUNTED_STATUSES = (EventStatus.HELD.value, EventStatus.DONE.value)
# Plans still on: they get reminders, a check-in window and an end-of-event summary.
PLAN_STATUSES = (EventStatus.PLANNED.value, EventStatus.HELD.value)


class Activity(SQLModel, table=True):
    """One event, however many report it: planned, held (a plan that took place), done
    (reported without a plan) or cancelled; its reports are `ActivityReport` rows."""

    # The scheduler's digests: reports per member and month; counts per period (covering).
    __table_args__ = (
        sa.Index("ix_activity_reporter_id_date", "reporter_id", "date"),
        sa.Index("ix_activity_date_status", "date", "status", "activity", "community_id",
                 "school_id", "subject", "withdrawn"),
    )
    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="done", max_length=10, index=True)  # EventStatus
    activity: str | None = Field(default=None, max_length=40, index=True)
    date: dt.date | None = Field(default=None, index=True)
    time: str | None = Field(default=None, max_length=5)
    starts_at: datetime | None = utc_column(nullable=True)
    ends_at: datetime | None = utc_column(nullable=True)
    subject: str | None = Field(default=None, max_length=20)
    grade: str | None = Field(default=None, max_length=10)
    participants: int | None = None
    topic: str | None = Field(default=None, max_length=200)
    school_id: int | None = Field(default=None, foreign_key="school.id", index=True)
    community_id: int | None = Field(default=None, foreign_key="community.id", index=True)
    group_id: int | None = Field(default=None, foreign_key="chatgroup.id")
    # The registrant: who first reported it, or the organiser who posted the plan.
    reporter_id: int = Field(foreign_key="member.id", index=True)
    source_text: str = Field(default="", max_length=2000)
    inbox_id: int | None = Field(default=None, foreign_key="inboxevent.id")
    confidence: float = 1.0
    withdrawn: bool = Field(default=False, index=True)
    # The organiser (or an admin) said it took place (已开展).
    confirmed: bool = False
    # When the organiser was asked whether a plan with no sign-in and no report took place.
    outcome_asked_at: datetime | None = utc_column(nullable=True)
    created_at: datetime = utc_column()


class ActivityReport(SQLModel, table=True):
    """One person's report (or the organiser's post) of an event: the reporters of one event.

    `slots` keeps what this person said, so a co-report that differs is not lost; `chat`
    (platform:chat_id) finds "my last entry in this chat" for corrections."""

    __table_args__ = (sa.Index("ix_activityreport_member_id_created_at", "member_id",
                               "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    kind: str = Field(default="report", max_length=10)  # report / plan
    chat: str = Field(default="", max_length=160)
    inbox_id: int | None = Field(default=None, foreign_key="inboxevent.id")
    source_text: str = Field(default="", max_length=2000)
    slots: dict[str, Any] | None = json_column()
    withdrawn: bool = False
    created_at: datetime = utc_column()


class Attendance(SQLModel, table=True):
    """A check-in, check-out or leave; late/early when tied to a planned activity."""

    # The scheduler's digests: attendance per member and month.
    __table_args__ = (sa.Index("ix_attendance_member_id_date", "member_id", "date"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    type: str = Field(max_length=10)  # checkin / checkout / leave
    date: dt.date = Field(index=True)
    at: datetime = utc_column()
    activity_id: int | None = Field(default=None, foreign_key="activity.id", index=True)
    group_id: int | None = Field(default=None, foreign_key="chatgroup.id")
    late: bool = False
    early: bool = False
    # 补签: signed for another day, or after the event was over.
    makeup: bool = False
    note: str = Field(default="", max_length=500)
    inbox_id: int | None = Field(default=None, foreign_key="inboxevent.id")
    withdrawn: bool = Field(default=False, index=True)
    created_at: datetime = utc_column()


class Photo(SQLModel, table=True):
    """A picture posted as evidence of an event, stored once by content (storage.blobs).

    Kept when its event is withdrawn: the audit trail still shows what was sent."""

    __table_args__ = (sa.UniqueConstraint("activity_id", "sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    sha256: str = Field(max_length=64, index=True)
    mime: str = Field(max_length=40)  # judged from the bytes, not from the platform's word
    size: int
    # Where it came from: "platform:message_id", so a redelivered message adds nothing.
    source: str = Field(default="", max_length=200)
    created_at: datetime = utc_column()


# --- the message spine ----------------------------------------------------------------------


class InboxEvent(SQLModel, table=True):
    """Every incoming event, saved before it is acknowledged; unique per platform event id."""

    __table_args__ = (sa.UniqueConstraint("platform", "event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    event_id: str = Field(max_length=128)
    payload: dict[str, Any] | None = json_column()
    received_at: datetime = utc_column()
    status: str = Field(default="pending", max_length=10, index=True)  # pending/done/failed
    attempts: int = 0
    claimed_until: datetime | None = utc_column(nullable=True)
    error: str = Field(default="", max_length=1000)
    # When the one answer its reply URL takes was spent (storage.inbox.spend_reply_url): one
    # mark for all the event's replies and every instance.
    reply_url_spent_at: datetime | None = utc_column(nullable=True)


class OutboxMessage(SQLModel, table=True):
    """Every message the bot sends; `key` makes a send idempotent end to end."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    platform: str = Field(max_length=20, index=True)
    app_id: str = Field(default="", max_length=64)
    target_kind: str = Field(max_length=10)  # chat / user
    target: str = Field(max_length=128)
    reply_to: str | None = Field(default=None, max_length=128)
    # The ways back to the message replied to (handlers.messages.ReplyRoute), copied when the
    # reply is queued: a URL that takes the answer until `reply_url_until`, and in a private
    # chat the person, for an answer that goes another way.
    reply_url: str | None = Field(default=None)
    reply_url_until: datetime | None = utc_column(nullable=True)
    reply_person: str = Field(default="", max_length=128)
    text: str = Field(default="")
    extra: dict[str, Any] | None = json_column()
    # Files and pictures sent after the text: [{kind, sha256, name, size}], bytes in the blobs.
    attachments: list[dict[str, Any]] | None = json_column()
    status: str = Field(default="pending", max_length=10, index=True)  # pending/sent/failed
    attempts: int = 0
    next_attempt_at: datetime = utc_column(index=True)
    claimed_until: datetime | None = utc_column(nullable=True)
    created_at: datetime = utc_column()
    sent_at: datetime | None = utc_column(nullable=True)
    error: str = Field(default="", max_length=1000)


# A chat's rows go out in id order: the claim looks for an earlier pending row of the target.
sa.Index("ix_outboxmessage_target_order", OutboxMessage.platform, OutboxMessage.app_id,  # type: ignore[arg-type]
         OutboxMessage.target_kind, OutboxMessage.target, OutboxMessage.status,  # type: ignore[arg-type]
         OutboxMessage.id)  # type: ignore[arg-type]


class SendLog(SQLModel, table=True):
    """Recent sends per rate-limit key (a chat, an app, a robot), shared by every instance so
    the platforms' limits hold for all of them together; rows older than a window are pruned."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    at: datetime = utc_column()


sa.Index("ix_sendlog_key_at", SendLog.key, SendLog.at)  # type: ignore[arg-type]


class Conversation(SQLModel, table=True):
    """A follow-up question awaiting the same person's next message in the same chat."""

    __table_args__ = (sa.UniqueConstraint("platform", "chat_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    chat_id: str = Field(max_length=128)
    member_id: int = Field(foreign_key="member.id")
    kind: str = Field(max_length=30)
    state: dict[str, Any] | None = json_column()
    expires_at: datetime = utc_column()


class AuditLog(SQLModel, table=True):
    """Every create, change and undo: who, when, before, after."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_column(index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    action: str = Field(max_length=20)  # create / update / undo / correct / cancel / merge …
    entity: str = Field(max_length=30)
    entity_id: int | None = None
    before: dict[str, Any] | None = json_column()
    after: dict[str, Any] | None = json_column()
    reason: str = Field(default="", max_length=500)


class Setting(SQLModel, table=True):
    """Small durable facts the bot must remember (e.g. a warning already given)."""

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(default="")
    updated_at: datetime = utc_column()


class PageLink(SQLModel, table=True):
    """A one-time link to the pages minted by `看板`: spent by the landing page's POST."""

    nonce: str = Field(primary_key=True, max_length=64)
    member_id: int = Field(foreign_key="member.id")
    expires_at: datetime = utc_column()
    spent_at: datetime | None = utc_column(nullable=True)


class PageSession(SQLModel, table=True):
    """A signed-in page visitor; the cookie holds a random token, this table its hash."""

    token_hash: str = Field(primary_key=True, max_length=64)
    member_id: int = Field(foreign_key="member.id", index=True)
    csrf: str = Field(max_length=64)
    expires_at: datetime = utc_column(index=True)
    created_at: datetime = utc_column()


def utcnow() -> datetime:
    return datetime.now(UTC)
