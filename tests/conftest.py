"""Shared fixtures: a fresh, migrated database per test (SQLite file, and PostgreSQL)."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.nlu import Parser
from storage.db import create_engine, upgrade
from storage.demo_county import demo_schools
from tests.chat_harness import Chat, open_chat

# The local server these machines run; any other via $JIAOLIAN_TEST_PG_URL, none with "".
PG_URL = os.environ.get("JIAOLIAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("JIAOLIAN_REQUIRE_PG") == "1"


_REAL_CONNECT = socket.socket.connect
_REAL_CONNECT_EX = socket.socket.connect_ex


def _loopback_only(sock: socket.socket, address: object) -> None:
    """Tests talk to this machine only: the fakes, PostgreSQL, Redis. A connection anywhere
    else is a test that would pass or fail with the network, so it fails at once."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return
    host = str(address[0])
    try:
        loopback = ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ConnectionRefusedError(f"tests may reach only loopback addresses, not {host}")


def _guarded_connect(sock: socket.socket, address: object) -> None:
    _loopback_only(sock, address)
    _REAL_CONNECT(sock, address)  # type: ignore[arg-type]


def _guarded_connect_ex(sock: socket.socket, address: object) -> int:
    _loopback_only(sock, address)
    return _REAL_CONNECT_EX(sock, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _guarded_connect)
        patch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
        yield


async def _pg_admin_execute(sql: str) -> None:
    import asyncpg

    url = make_url(PG_URL)
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username or "postgres",
        password=url.password, database=url.database or "test",
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _pg_reachable() -> bool:
    if not PG_URL:
        return False
    try:
        await _pg_admin_execute("SELECT 1")
    except Exception:  # any failure means "not reachable"; the reason is in the notice
        return False
    return True


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards.

    A plain fixture (run outside the test's event loop) so parametrised fixtures can use it.
    """
    if not asyncio.run(_pg_reachable()):
        msg = (f"PostgreSQL not reachable at {PG_URL or '(none)'}: "
               "set JIAOLIAN_TEST_PG_URL to a server to run these tests")
        if REQUIRE_PG:
            pytest.fail(msg + " (JIAOLIAN_REQUIRE_PG=1 makes them mandatory)")
        pytest.skip(msg)
    name = f"jl_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin_execute(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        asyncio.run(_pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/test.sqlite3"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """Each test that takes `db_url` runs on a fresh SQLite file and a fresh PG database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/test.sqlite3"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    await upgrade(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture(scope="session")
def demo_parser() -> Parser:
    """One parser for the whole run: building one loads jieba's dictionary (about 0.5 s)."""
    return Parser(schools=demo_schools())


@pytest.fixture
async def chat(db_url: str, demo_parser: Parser) -> AsyncIterator[Chat]:
    """The demo county on a fresh database, driven through the real message path."""
    c = await open_chat(db_url, parser=demo_parser)
    try:
        yield c
    finally:
        await c.runtime.close()
