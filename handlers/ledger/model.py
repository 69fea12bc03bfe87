"""What a ledger export holds, as plain data: the gathering modules fill it, the workbook and
CSV modules render it, and the chat or the scheduler may read it directly.

Values are raw (dates, codes, counts); the renderers turn them into the document's words.
Imports handlers.periods and handlers.quotas only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from handlers.periods import Period
from handlers.quotas import Quota


@dataclass(frozen=True)
class LedgerScope:
    """The whole county, one community, or one school."""

    kind: str  # county / community / school
    id: int | None = None

    @classmethod
    def county(cls) -> LedgerScope:
        return cls("county")

    @classmethod
    def community(cls, community_id: int) -> LedgerScope:
        return cls("community", community_id)

    @classmethod
    def school(cls, school_id: int) -> LedgerScope:
        return cls("school", school_id)


@dataclass(frozen=True)
class EventRow:
    """One event of 活动台账 (one row however many reported it)."""

    id: int
    date: dt.date
    time: str  # "14:00" or "14:00–16:00", "" when not stated
    school: str  # the venue
    community: str
    activity: str  # the Chinese name
    subject: str
    grade: str
    topic: str
    participants: int | None
    reporters: tuple[str, ...]  # the registrant first
    photos: tuple[str, ...]  # SHA-256 of each photo, oldest first
    status: str  # planned / held / done / cancelled
    registered: dt.datetime  # local time

    @property
    def counted(self) -> bool:
        return self.status in ("held", "done")


def target_state(met: bool, finished: bool) -> str:
    """met / unmet / open (not met, the period still running): a shortfall is final only
    once its period is over."""
    if met:
        return "met"
    return "unmet" if finished else "open"


@dataclass(frozen=True)
class QuotaRow:
    """One quota over one period, for a community (school_id None) or one of its schools."""

    quota: Quota
    period: Period
    community_id: int
    school_id: int | None
    done: int
    need: int
    missing: tuple[str, ...]
    finished: bool  # the period is over, so a shortfall is final
    # "own": the rule's own figure; "taking_part": a school's events of a community-wide rule
    # (venue or reporter), met with at least one (spec/conversation.md).
    reading: str = "own"

    @property
    def met(self) -> bool:
        return self.done >= self.need

    @property
    def state(self) -> str:
        return target_state(self.met, self.finished)


@dataclass(frozen=True)
class SignInLine:
    member_id: int
    name: str
    school: str
    status: str  # signed / late / early / leave / missing / makeup / expected (plan ahead)
    checkin: dt.datetime | None  # local time
    checkout: dt.datetime | None
    note: str


@dataclass(frozen=True)
class SignInBlock:
    event_id: int
    activity: str  # the Chinese name
    date: dt.date
    time: str
    venue: str
    community: str
    lines: tuple[SignInLine, ...]


@dataclass(frozen=True)
class ExchangeLine:
    """People one school sent on one rotation or shadowing event."""

    event_id: int
    date: dt.date
    activity: str  # the Chinese name
    school_id: int  # the sending school
    venue: str
    people: int
    reporters: tuple[str, ...]


@dataclass(frozen=True)
class ExchangeTotal:
    """People a school sent in one school year, against its target."""

    year: Period
    community_id: int
    school_id: int
    people: int
    target: int
    finished: bool
    lines: tuple[ExchangeLine, ...] = ()

    @property
    def met(self) -> bool:
        return self.people >= self.target

    @property
    def state(self) -> str:
        return target_state(self.met, self.finished)


@dataclass(frozen=True)
class Ledger:
    scope: LedgerScope
    scope_name: str
    start: dt.date
    end: dt.date  # inclusive
    communities: dict[int, str]
    schools: dict[int, str]
    activity_names: dict[str, str]
    events: list[EventRow] = field(default_factory=list)
    quotas: list[QuotaRow] = field(default_factory=list)
    sign_ins: list[SignInBlock] = field(default_factory=list)
    exchanges: list[ExchangeTotal] = field(default_factory=list)
    # The terms that overlap the range, each assessed for the scope's communities.
    assessments: list[Assessment] = field(default_factory=list)


@dataclass(frozen=True)
class Bundled:
    """捆绑考核 of one community: its quotas met, and its weakest member school's."""

    community_id: int
    met: int
    total: int
    weakest_school_id: int | None
    weakest_met: int
    weakest_total: int


@dataclass(frozen=True)
class SchoolAssessment:
    community_id: int
    school_id: int | None  # None: the community itself
    quotas: tuple[QuotaRow, ...]
    exchange: ExchangeTotal | None

    @property
    def met(self) -> int:
        return (sum(q.met for q in self.quotas)
                + (1 if self.exchange is not None and self.exchange.met else 0))

    @property
    def total(self) -> int:
        return len(self.quotas) + (1 if self.exchange is not None else 0)


@dataclass(frozen=True)
class Assessment:
    term: Period
    year: Period
    scope_name: str
    communities: dict[int, str]
    schools: dict[int, str]
    lead: dict[int, bool]
    activity_names: dict[str, str]
    parts: list[SchoolAssessment] = field(default_factory=list)
    bundled: list[Bundled] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The scope's name, as `file_name`/`assessment_file_name` take it (the chat's
        handlers.exports reads it under this name)."""
        return self.scope_name
