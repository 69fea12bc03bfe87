"""Apply roster rows, already read from a sheet, to the database: all or nothing.

Every row is checked against the database and the other rows first; the database is written
only when no row is bad, and a dry run stops after the check. A member is identified by
(school, name). Knows nothing of files, terminals or chat: imports nothing of ours but
storage.*.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.audit import record_audit
from storage.models import Community, Identity, Member, School, utcnow
from storage.roster import forget_lookups
from storage.roster_vocab import (
    CANONICAL_SUBJECTS,
    COMMUNITY,
    NAME,
    PHONE,
    PLATFORM_COLUMNS,
    REQUIRED_COLUMNS,
    ROLE,
    ROLE_CHOICES,
    SCHOOL,
    SCHOOL_TYPE,
    SCHOOL_TYPE_LABELS,
    SUBJECTS,
    canonical_column,
    canonical_subject,
    normalise_phone,
    parse_role,
    parse_school_type,
    split_list,
)

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total); stage is "check" or "write"."""

_PLATFORM_LABELS = {platform: column for column, platform in PLATFORM_COLUMNS.items()}
_CJK_NAME = re.compile(r"[\u3400-\u9fff·•\s]+")


@dataclass(frozen=True)
class RowError:
    """A bad row (spreadsheet numbering, header = 1), or the whole file when row is None."""

    row: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.row is None else f"第 {self.row} 行：{self.message}"


@dataclass(frozen=True)
class MemberChange:
    row: int
    kind: str  # added / updated / unchanged
    before: dict[str, Any] | None
    after: dict[str, Any]

    @property
    def changed_fields(self) -> list[str]:
        if self.before is None:
            return list(self.after)
        return [k for k in self.after if self.before.get(k) != self.after[k]]


@dataclass
class ImportReport:
    dry_run: bool
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[MemberChange] = field(default_factory=list)
    new_communities: list[str] = field(default_factory=list)
    new_schools: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def added(self) -> int:
        return self.count("added")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


@dataclass
class _NewSchool:
    name: str
    community: str
    is_lead: bool
    row: int


@dataclass
class _Entry:
    row: int
    name: str
    role: str
    school: School | _NewSchool | None
    subjects: list[str]
    phone: str
    ids: dict[str, list[str]]

    @property
    def school_name(self) -> str | None:
        return None if self.school is None else self.school.name


@dataclass
class _Roster:
    """What the database holds now, indexed for the checks."""

    communities: dict[str, Community]
    community_names: dict[int, str]
    schools: dict[str, School]  # canonical names and aliases
    school_names: dict[int, str]
    leads: dict[str, str]  # community name → lead school name
    members: dict[tuple[int | None, str], list[Member]]
    owners: dict[tuple[str, str], Member]  # (platform, external id) → member
    ids_of: dict[int, dict[str, list[str]]]
    new_schools: dict[str, _NewSchool] = field(default_factory=dict)
    new_communities: list[str] = field(default_factory=list)

    def find_school(self, text: str) -> School | _NewSchool | None:
        return self.schools.get(text) or self.new_schools.get(text)

    def member_label(self, member: Member) -> str:
        school = self.school_names.get(member.school_id or -1)
        return f"{member.name}（{school}）" if school else member.name


async def _load(session: AsyncSession) -> _Roster:
    communities = list((await session.scalars(select(Community))).all())
    schools = list((await session.scalars(select(School))).all())
    members = list((await session.scalars(select(Member).order_by(col(Member.id)))).all())
    identities = list((await session.scalars(select(Identity).order_by(col(Identity.id)))).all())
    community_names = {c.id: c.name for c in communities if c.id is not None}
    by_key: dict[str, School] = {}
    for school in schools:
        for alias in school.aliases or []:
            by_key.setdefault(alias, school)
    by_key.update({s.name: s for s in schools})
    grouped: dict[tuple[int | None, str], list[Member]] = {}
    for member in members:
        grouped.setdefault((member.school_id, member.name), []).append(member)
    by_id = {m.id: m for m in members}
    ids_of: dict[int, dict[str, list[str]]] = {}
    owners: dict[tuple[str, str], Member] = {}
    for ident in identities:
        owners[(ident.platform, ident.external_id)] = by_id[ident.member_id]
        ids_of.setdefault(ident.member_id, {}).setdefault(ident.platform, []).append(
            ident.external_id
        )
    return _Roster(
        communities={c.name: c for c in communities},
        community_names=community_names,
        schools=by_key,
        school_names={s.id: s.name for s in schools if s.id is not None},
        leads={community_names[s.community_id]: s.name for s in schools if s.is_lead},
        members=grouped,
        owners=owners,
        ids_of=ids_of,
    )


def _map_columns(columns: Sequence[str], report: ImportReport) -> dict[str, str]:
    """Raw header → canonical column; reports missing, repeated and unknown columns."""
    mapping: dict[str, str] = {}
    seen: set[str] = set()
    unknown: list[str] = []
    for raw in columns:
        if not raw.strip():
            continue
        column = canonical_column(raw)
        if column is None:
            unknown.append(raw)
        elif column in seen:
            report.errors.append(RowError(1, f"表头中“{column}”列出现了不止一次"))
        else:
            seen.add(column)
            mapping[raw] = column
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        names = "、".join(f"“{c}”" for c in missing)
        report.errors.append(
            RowError(1, f"缺少必需的列 {names}（表头须有：{'、'.join(REQUIRED_COLUMNS)}）")
        )
    if unknown:
        report.warnings.append(f"忽略无法识别的列：{'、'.join(unknown)}")
    return mapping


def _clean_name(text: str) -> str:
    text = text.strip()
    # "李  娜" is a common way to align two-character names; drop the padding.
    return re.sub(r"\s+", "", text) if _CJK_NAME.fullmatch(text) else text


def _check_school(
    row: int, cells: Mapping[str, str], role: str | None, roster: _Roster, errors: list[str]
) -> School | _NewSchool | None:
    name = cells.get(SCHOOL, "").strip()
    community = cells.get(COMMUNITY, "").strip()
    type_text = cells.get(SCHOOL_TYPE, "").strip()
    is_lead = parse_school_type(type_text) if type_text else None
    if type_text and is_lead is None:
        errors.append(f"学校类型“{type_text}”无法识别（可填：牵头、成员）")
    if not name:
        if role not in (None, "admin"):
            errors.append("学校为空（只有管理员可以不填学校）")
        return None
    found = roster.find_school(name)
    if isinstance(found, School):
        actual = roster.community_names[found.community_id]
        actual_lead = found.is_lead
    elif isinstance(found, _NewSchool):
        actual, actual_lead = found.community, found.is_lead
    else:
        return _plan_school(name, community, is_lead, type_text, row, roster, errors)
    if community and community != actual:
        errors.append(f"学校“{found.name}”属于教共体“{actual}”，不是“{community}”")
    if is_lead is not None and is_lead != actual_lead:
        errors.append(
            f"学校“{found.name}”是{SCHOOL_TYPE_LABELS[actual_lead]}学校，"
            f"不是{SCHOOL_TYPE_LABELS[is_lead]}学校"
        )
    return found


def _plan_school(
    name: str,
    community: str,
    is_lead: bool | None,
    type_text: str,
    row: int,
    roster: _Roster,
    errors: list[str],
) -> _NewSchool | None:
    if not community:
        errors.append(
            f"学校“{name}”不存在（请核对校名；要新建学校，请填写“教共体”和“学校类型”两列）"
        )
        return None
    too_long = [text for text in (name, community) if len(text) > 100]
    if too_long:
        errors.append(f"名称“{too_long[0][:20]}…”太长（最多 100 个字）")
        return None
    if is_lead is None:
        if not type_text:
            errors.append(f"新建学校“{name}”需要填写学校类型（牵头或成员）")
        return None
    if is_lead and community in roster.leads:
        errors.append(f"教共体“{community}”已有牵头学校“{roster.leads[community]}”")
        return None
    planned = _NewSchool(name=name, community=community, is_lead=is_lead, row=row)
    roster.new_schools[name] = planned
    if is_lead:
        roster.leads[community] = name
    if community not in roster.communities and community not in roster.new_communities:
        roster.new_communities.append(community)
    return planned


def _check_row(
    row: int, cells: Mapping[str, str], roster: _Roster, report: ImportReport
) -> _Entry | None:
    errors: list[str] = []
    name = _clean_name(cells.get(NAME, ""))
    if not name:
        errors.append("姓名为空")
    elif len(name) > 50:
        errors.append(f"姓名“{name[:20]}…”太长（最多 50 个字）")
    role_text = cells.get(ROLE, "").strip()
    role = parse_role(role_text) if role_text else None
    if not role_text:
        errors.append(f"角色为空（可填：{ROLE_CHOICES}）")
    elif role is None:
        errors.append(f"角色“{role_text}”无法识别（可填：{ROLE_CHOICES}）")
    school = _check_school(row, cells, role, roster, errors)
    subjects: list[str] = []
    for item in split_list(cells.get(SUBJECTS, "")):
        subject = canonical_subject(item)
        if subject is None:
            errors.append(
                f"学科“{item}”无法识别（可填：{'、'.join(CANONICAL_SUBJECTS)}；多个学科用、分隔）"
            )
        elif subject not in subjects:
            subjects.append(subject)
    phone_text = cells.get(PHONE, "").strip()
    phone = normalise_phone(phone_text)
    if phone is None:
        hint = "（Excel 把它显示成了科学计数法，请把该列设为文本）" if "E+" in phone_text else ""
        errors.append(f"手机号“{phone_text}”不是 11 位手机号码{hint}")
    ids: dict[str, list[str]] = {}
    for column, platform in PLATFORM_COLUMNS.items():
        for external_id in split_list(cells.get(column, "")):
            if len(external_id) > 128:
                errors.append(f"{column}“{external_id[:20]}…”太长")
            elif external_id not in ids.setdefault(platform, []):
                ids[platform].append(external_id)
    report.errors.extend(RowError(row, message) for message in errors)
    if errors or role is None or phone is None:
        return None
    ids = {platform: values for platform, values in ids.items() if values}
    return _Entry(row, name, role, school, subjects, phone, ids)


def _existing(entry: _Entry, roster: _Roster, report: ImportReport) -> Member | None:
    if isinstance(entry.school, _NewSchool):
        return None
    school_id = None if entry.school is None else entry.school.id
    found = roster.members.get((school_id, entry.name), [])
    if len(found) > 1:
        report.errors.append(
            RowError(
                entry.row,
                f"系统中“{entry.school_name or '（无学校）'}”有 {len(found)} 名叫“{entry.name}”"
                "的成员，无法确定更新哪一位，请先在系统中处理",
            )
        )
    return found[0] if found else None


def _check_across(
    entries: list[_Entry], roster: _Roster, report: ImportReport
) -> list[Member | None]:
    """Duplicates within the file and platform ids owned by someone else."""
    people: dict[tuple[str, str], int] = {}
    ids_seen: dict[tuple[str, str], int] = {}
    matches: list[Member | None] = []
    for entry in entries:
        key = (entry.school_name or "", entry.name)
        if key in people:
            where = f"学校“{entry.school_name}”" if entry.school_name else "无学校的成员中"
            report.errors.append(
                RowError(entry.row, f"与第 {people[key]} 行重复：{where}已有“{entry.name}”")
            )
        else:
            people[key] = entry.row
        existing = _existing(entry, roster, report)
        matches.append(existing)
        for platform, values in entry.ids.items():
            label = _PLATFORM_LABELS[platform]
            for external_id in values:
                first = ids_seen.setdefault((platform, external_id), entry.row)
                if first != entry.row:
                    report.errors.append(
                        RowError(entry.row, f"{label}“{external_id}”与第 {first} 行重复")
                    )
                owner = roster.owners.get((platform, external_id))
                if owner is not None and owner is not existing:
                    report.errors.append(
                        RowError(
                            entry.row,
                            f"{label}“{external_id}”已绑定到另一名成员"
                            f"“{roster.member_label(owner)}”",
                        )
                    )
    return matches


def _snapshot(
    *,
    name: str,
    school: str | None,
    role: str,
    subjects: list[str] | None,
    phone: str,
    active: bool,
    ids: Mapping[str, list[str]],
) -> dict[str, Any]:
    return {
        "name": name,
        "school": school,
        "role": role,
        "subjects": list(subjects or []),
        "phone": phone,
        "active": active,
        "identities": {p: list(v) for p, v in sorted(ids.items()) if v},
    }


def _merged_ids(old: Mapping[str, list[str]],
                new: Mapping[str, list[str]]) -> dict[str, list[str]]:
    merged = {platform: list(values) for platform, values in old.items()}
    for platform, values in new.items():
        target = merged.setdefault(platform, [])
        target.extend(v for v in values if v not in target)
    return merged


def _diff(entry: _Entry, existing: Member | None, roster: _Roster) -> MemberChange:
    old_ids = roster.ids_of.get(existing.id or -1, {}) if existing else {}
    after = _snapshot(
        name=entry.name, school=entry.school_name, role=entry.role, subjects=entry.subjects,
        phone=entry.phone, active=True, ids=_merged_ids(old_ids, entry.ids),
    )
    if existing is None:
        return MemberChange(entry.row, "added", None, after)
    before = _snapshot(
        name=existing.name, school=entry.school_name, role=existing.role,
        subjects=existing.subjects, phone=existing.phone, active=existing.active, ids=old_ids,
    )
    return MemberChange(entry.row, "unchanged" if before == after else "updated", before, after)


def _pk(row: Community | School | Member) -> int:
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id after flush")
    return row.id


def _bureau(roster: _Roster) -> str:
    """The bureau of new communities: the existing ones' if they all share one."""
    bureaus = {c.bureau for c in roster.communities.values()}
    return bureaus.pop() if len(bureaus) == 1 else ""


async def _write(
    session: AsyncSession,
    roster: _Roster,
    plan: list[tuple[_Entry, Member | None, MemberChange]],
    progress: Progress | None,
) -> None:
    now = utcnow()

    def audit(entity: str, entity_id: int | None, before: Any, after: Any) -> None:
        record_audit(session=session, at=now, member_id=None, action="import", entity=entity,
                     entity_id=entity_id, before=before, after=after)

    bureau = _bureau(roster)
    for name in roster.new_communities:
        community = Community(name=name, bureau=bureau)
        session.add(community)
        await session.flush()
        roster.communities[name] = community
        audit("community", community.id, None,
              {"name": name, "kind": community.kind, "bureau": bureau})
    created: dict[str, School] = {}
    for planned in roster.new_schools.values():
        school = School(name=planned.name, community_id=_pk(roster.communities[planned.community]),
                        is_lead=planned.is_lead, aliases=[])
        session.add(school)
        await session.flush()
        created[planned.name] = school
        audit("school", school.id, None,
              {"name": planned.name, "community": planned.community, "is_lead": planned.is_lead})
    todo = [item for item in plan if item[2].kind != "unchanged"]
    for done, (entry, existing, change) in enumerate(todo, start=1):
        member = existing or Member(name=entry.name)
        if isinstance(entry.school, _NewSchool):
            member.school_id = created[entry.school.name].id
        elif entry.school is not None:
            member.school_id = entry.school.id
        member.role = entry.role
        member.subjects = list(entry.subjects)
        member.phone = entry.phone
        member.active = True
        session.add(member)
        await session.flush()
        old_ids = change.before["identities"] if change.before else {}
        for platform, values in change.after["identities"].items():
            for external_id in values:
                if external_id not in old_ids.get(platform, []):
                    session.add(
                        Identity(member_id=_pk(member), platform=platform, external_id=external_id)
                    )
        audit("member", member.id, change.before, change.after)
        if progress:
            progress("write", done, len(todo))
    await session.flush()
    forget_lookups(session)


async def apply_roster(
    *,
    session: AsyncSession,
    rows: Sequence[tuple[int, Mapping[str, str]]],
    dry_run: bool,
    columns: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check `rows` (spreadsheet row number, cells by header) and, if all are good, apply them.

    `columns` is the header as read (default: the keys of the rows). Writes through `session`
    without committing; writes nothing when any row is bad or on a dry run.
    """
    report = ImportReport(dry_run=dry_run)
    if columns is None:
        columns = list(dict.fromkeys(key for _, cells in rows for key in cells))
    if not columns:
        report.errors.append(RowError(None, "文件为空：没有表头，也没有数据"))
        return report
    mapping = _map_columns(columns, report)
    if not rows:
        report.errors.append(RowError(None, "文件中没有数据行（只有表头）"))
    if report.errors:
        return report
    roster = await _load(session)
    entries: list[_Entry] = []
    for done, (number, raw) in enumerate(rows, start=1):
        cells = {mapping[k]: (v or "") for k, v in raw.items() if k in mapping}
        entry = _check_row(number, cells, roster, report)
        if entry is not None:
            entries.append(entry)
        if progress:
            progress("check", done, len(rows))
    matches = _check_across(entries, roster, report)
    report.errors.sort(key=lambda e: e.row or 0)
    if report.errors:
        return report
    plan = [
        (entry, existing, _diff(entry, existing, roster))
        for entry, existing in zip(entries, matches, strict=True)
    ]
    report.changes = [change for _, _, change in plan]
    report.new_communities = list(roster.new_communities)
    report.new_schools = list(roster.new_schools)
    if not dry_run:
        await _write(session, roster, plan, progress)
    return report
