"""The suite is offline by construction: only loopback connections are allowed."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest


def test_a_connection_beyond_this_machine_fails_at_once() -> None:
    with pytest.raises(ConnectionRefusedError, match="loopback"):
        socket.create_connection(("203.0.113.7", 443), timeout=5)


async def test_aiohttp_cannot_reach_a_platform_either() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorError):
            await asyncio.wait_for(session.get("http://198.51.100.9/open-apis/"), timeout=5)


def test_loopback_stays_reachable() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    try:
        with socket.create_connection(server.getsockname()[:2], timeout=5):
            pass
    finally:
        server.close()
