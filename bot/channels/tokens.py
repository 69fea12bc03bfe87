"""An access token cached ahead of its expiry, refreshed by one caller at a time.

Shared by the platform channels; each subclass only says how to ask its platform for a token.
Imports nothing of ours.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

REFRESH_AHEAD_S = 300.0


class CachedToken:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._token = ""
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def request(self) -> tuple[str, float]:
        """Ask the platform: (token, seconds it lives). Raise to report a failure."""
        raise NotImplementedError

    def _valid(self) -> bool:
        return bool(self._token) and self.clock() < self._expires_at - REFRESH_AHEAD_S

    async def get(self) -> str:
        if self._valid():
            return self._token
        async with self._lock:
            if not self._valid():  # another caller may have refreshed while we waited
                self.fetches += 1
                token, lifetime = await self.request()
                self._token, self._expires_at = token, self.clock() + lifetime
            return self._token

    def drop(self, token: str) -> None:
        """Forget `token` after the platform called it invalid (unless already replaced)."""
        if self._token == token:
            self._token, self._expires_at = "", 0.0
