"""What every fake platform server shares: an aiohttp app on a free loopback port."""

from __future__ import annotations

from typing import Self

from aiohttp import web
from aiohttp.test_utils import TestServer


class FakeServer:
    server: TestServer | None = None
    # Uploads bigger than aiohttp's 1 MB default must reach the fake's own size checks.
    client_max_size: int = 1024 * 1024

    def routes(self, app: web.Application) -> None:
        """Add the platform's endpoints."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> Self:
        app = web.Application(client_max_size=self.client_max_size)
        self.routes(app)
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
