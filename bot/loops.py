"""A background loop that works until idle, then sleeps until woken, polled or stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def run_until_stopped(
    drain: Callable[[], Awaitable[int]], *, wakeup: asyncio.Event, stop: asyncio.Event,
    poll: float = 1.0,
) -> None:
    while not stop.is_set():
        await drain()
        wakeup.clear()
        waiter = asyncio.ensure_future(wakeup.wait())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiter, stopper}, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stopper.cancel()
