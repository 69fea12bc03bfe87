"""`create_app(settings)`: the aiohttp application, the one composition root of `serve`.

State lives on the app under typed keys; the runtime and its background tasks are owned by
a cleanup context and awaited on shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from bot.channels.feishu import add_feishu_routes, start_feishu
from bot.channels.wecom import add_wecom_routes, start_wecom
from bot.config import Settings
from bot.runtime import Runtime, open_runtime
from handlers.clock import Clock, SystemClock
from scheduler.config import config_for
from scheduler.setup import SchedulerService

RUNTIME = web.AppKey("runtime", Runtime)


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    app = web.Application(client_max_size=settings.server.max_body_bytes)
    app.router.add_get("/healthz", _health)
    add_feishu_routes(app, settings)
    add_wecom_routes(app, settings)

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        runtime = await open_runtime(settings, clock=clock or SystemClock())
        app[RUNTIME] = runtime
        close_feishu = await start_feishu(runtime)
        close_wecom = await start_wecom(runtime)
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(runtime.worker.run(stop), name="worker"),
            asyncio.create_task(runtime.delivery.run(stop), name="delivery"),
        ]
        scheduler = SchedulerService(
            factory=runtime.factory, clock=runtime.clock, on_queued=runtime.delivery.wakeup.set,
            files=runtime.blobs,
            config=config_for(scheduler=settings.scheduler, nlu=settings.nlu,
                              timezone=settings.bot.timezone))
        if scheduler.config.enabled:
            scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()
            stop.set()
            await asyncio.gather(*tasks)
            await close_feishu()
            await close_wecom()
            await runtime.close()

    app.cleanup_ctx.append(runtime_ctx)
    return app
