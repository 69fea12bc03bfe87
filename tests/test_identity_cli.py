"""`jiaolian member pending | approve | reject | link`: an admin at the server decides who is
who; every link audited, the claimant told through the outbox, a mistake one line and exit 2.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import main
from storage.db import create_engine, session_factory, transaction, upgrade
from storage.models import AuditLog, Identity, IdentityClaim, OutboxMessage
from tests.scheduler_support import at, demo, member, school

T = TypeVar("T")


def _with_db(db_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(db_url)
        try:
            async with transaction(session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def _rows(session: AsyncSession, model: type[T]) -> list[T]:
    return list((await session.execute(select(model))).scalars())  # type: ignore[call-overload]


@pytest.fixture
def config_file(tmp_path: Path, db_url: str) -> Path:
    """Claim 1: someone says they are 韦国庆 (a principal); claim 2: a name fitting two."""
    async def prepare() -> None:
        engine = create_engine(db_url)
        await upgrade(engine)
        await demo(engine)
        await engine.dispose()

    asyncio.run(prepare())

    async def seed(session: AsyncSession) -> None:
        wei = await member(session, "韦国庆")
        lead = await school(session, "融安县实验小学")
        session.add(IdentityClaim(platform="feishu", external_id="ou_new", account_name="韦校长",
                                  name="韦国庆", school_id=lead.id, member_id=wei.id,
                                  status="pending", reason="privileged",
                                  created_at=at("2026-11-26T10:00")))
        session.add(IdentityClaim(platform="wecom", external_id="liuming", name="刘明",
                                  status="pending", reason="ambiguous",
                                  created_at=at("2026-11-26T11:00")))

    _with_db(db_url, seed)
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return path


def run(config_file: Path, *args: str) -> int:
    return main(["member", *args, "--config", str(config_file)])


def test_pending_lists_each_waiting_claim(config_file: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config_file, "pending") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:3] for line in lines] == [
        ["1", "feishu:ou_new", "韦校长"], ["2", "wecom:liuming", ""]]
    assert lines[0].split("\t")[6] == "privileged" and "several members" in lines[1]


def test_approve_links_audits_and_tells_the_claimant(
        config_file: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config_file, "approve", "1") == 0
    assert "claim 1 approved" in capsys.readouterr().out

    async def check(session: AsyncSession) -> None:
        wei = await member(session, "韦国庆")
        identities = [i for i in await _rows(session, Identity) if i.member_id == wei.id]
        assert {(i.platform, i.external_id) for i in identities} == {
            ("console", "韦国庆"), ("feishu", "ou_new")}
        [audit] = [a for a in await _rows(session, AuditLog) if a.entity == "identity"]
        assert (audit.action, audit.after["how"]) == ("link", "approved claim 1")  # type: ignore[index]
        [notice] = await _rows(session, OutboxMessage)
        assert (notice.platform, notice.target_kind, notice.target) == ("feishu", "user", "ou_new")
        assert "韦国庆" in notice.text

    _with_db(db_url, check)
    assert run(config_file, "approve", "1") == 2
    assert capsys.readouterr().err.strip() == "jiaolian: claim 1 is approved, not pending"


def test_an_ambiguous_claim_needs_the_member(config_file: Path, db_url: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config_file, "approve", "2") == 2
    assert "--member" in capsys.readouterr().err
    target = _with_db(db_url, lambda s: member(s, "张丽"))
    # 张丽 has no WeCom account yet; the admin says the claimant is her.
    assert run(config_file, "approve", "2", "--member", str(target.id)) == 0

    async def check(session: AsyncSession) -> None:
        linked = [i for i in await _rows(session, Identity) if i.external_id == "liuming"]
        assert [(i.platform, i.member_id) for i in linked] == [("wecom", target.id)]

    _with_db(db_url, check)


def test_reject_links_nothing(config_file: Path, db_url: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config_file, "reject", "1") == 0

    async def check(session: AsyncSession) -> None:
        assert [i for i in await _rows(session, Identity) if i.external_id == "ou_new"] == []
        claim = await session.get(IdentityClaim, 1)
        assert claim is not None and claim.status == "rejected"
        assert [a.action for a in await _rows(session, AuditLog)] == ["reject"]

    _with_db(db_url, check)
    assert run(config_file, "reject", "99") == 2
    assert capsys.readouterr().err.strip() == "jiaolian: no claim 99"


def test_link_is_audited_and_a_taken_account_is_one_line(
        config_file: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config_file, "link", "feishu", "ou_zl", "张丽") == 0
    assert run(config_file, "link", "feishu", "ou_zl", "李娜") == 2
    assert capsys.readouterr().err.strip() == (
        "jiaolian: feishu:ou_zl is already linked to a member")

    async def check(session: AsyncSession) -> None:
        [audit] = await _rows(session, AuditLog)
        assert audit.after is not None and audit.after["how"] == "cli"

    _with_db(db_url, check)
