"""Background loops: work until idle, sleep until woken, polled or stopped; retry backoff."""

from __future__ import annotations

import asyncio
import random
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


MAX_BACKOFF_S = 600.0


def backoff(attempts: int) -> float:
    """Exponential with jitter: about 2, 4, 8 … seconds, at most ten minutes."""
    return min(2.0 ** attempts, MAX_BACKOFF_S) * random.uniform(0.8, 1.2)
