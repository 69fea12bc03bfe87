"""Work that arrives together goes to the database together: one task writes what callers
queued, batch after batch, and each caller awaits only its own answer.

Used by the acknowledgements' inbox insert and by delivery's reservations and outcomes. An
asyncio.Lock that every caller queued on cost more than the writes it protected (each waiter
is woken in turn only to find its work done); and a caller that goes away (cancelled) takes
nobody else's work with it, since the writing is not done in any caller's task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batches(Generic[T, R]):
    """`await submit(item)` → what `write(batch)` answered for that item; `write` answers a
    batch with one result per item, in order, or raises (every caller in it gets the error)."""

    def __init__(self, write: Callable[[list[T]], Awaitable[Sequence[R]]]) -> None:
        self.write = write
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self.written = 0  # batches written, for tests

    async def submit(self, item: T) -> R:
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, answer))
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        return await answer

    async def _run(self) -> None:
        try:
            # One turn first: the callers that came in with the first one join its batch.
            await asyncio.sleep(0)
            while self._queue:
                batch, self._queue = self._queue, []
                await self._answer(batch)
        finally:
            self._task = None

    async def _answer(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self.write([item for item, _ in batch])
        except BaseException as exc:  # each waiting caller gets the error
            failure = exc if isinstance(exc, Exception) else RuntimeError("write interrupted")
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(failure)
            if not isinstance(exc, Exception):
                raise
            return
        self.written += 1
        for (_, answer), result in zip(batch, results, strict=True):
            if not answer.done():  # its caller may have gone (cancelled)
                answer.set_result(result)

    async def close(self) -> None:
        """After what is queued is written."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
