"""`create_app(settings)`: the aiohttp application, the one composition root of `serve`.

State lives on the app under typed keys; the runtime and its background tasks are owned by
a cleanup context and awaited on shutdown, which closes everything even after failures.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from bot.appkeys import RUNTIME
from bot.channels.registry import PLATFORMS, adapters
from bot.config import Settings
from bot.health import STALE_AFTER_S, LoopState, health_report
from bot.metrics import CONTENT_TYPE_LATEST
from bot.pages.routes import add_page_routes
from bot.runtime import open_runtime
from handlers.clock import Clock, SystemClock
from scheduler.config import config_for
from scheduler.setup import SchedulerService

log = logging.getLogger(__name__)

SCHEDULER = web.AppKey("scheduler", SchedulerService)

# Webhook paths start with a platform's name; their refusals and answer times are counted.
WEBHOOK_PLATFORMS = PLATFORMS
REFUSAL_REASONS = {400: "malformed", 401: "unauthenticated", 403: "forbidden",
                   404: "no_route", 405: "method", 413: "too_large"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _loops(app: web.Application) -> list[tuple[LoopState, float]]:
    runtime = app[RUNTIME]
    loops: list[tuple[LoopState, float]] = [(runtime.worker.loop, STALE_AFTER_S),
                                            (runtime.delivery.loop, STALE_AFTER_S)]
    scheduler = app.get(SCHEDULER)
    if scheduler is not None and scheduler.scheduler.running:
        # A beat every tick_seconds: stale after two missed beats, never sooner than a minute.
        loops.append((scheduler, max(STALE_AFTER_S, 2.0 * scheduler.config.tick_seconds)))
    return loops


async def _health(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    ok, body = await health_report(factory=runtime.factory, loops=_loops(request.app),
                                   now=runtime.clock.now())
    return web.json_response(body, status=200 if ok else 503)


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[RUNTIME].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@web.middleware
async def _webhook_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Webhooks: count refusals and answer times, and hold the worker back while one is
    answered; a body nested too deeply for the JSON parser is a 400, not a 500."""
    platform = request.path.strip("/").split("/", 1)[0]
    if platform not in WEBHOOK_PLATFORMS or request.method != "POST":
        return await handler(request)
    started = time.perf_counter()
    runtime = request.app.get(RUNTIME)
    try:
        if runtime is None:
            response = await handler(request)
        else:
            with runtime.inbox.acks.in_hand():  # the worker and delivery let it go first
                response = await handler(request)
    except web.HTTPException as exc:
        _count(request, platform, exc.status, started)
        raise
    except RecursionError:
        response = web.json_response({"error": "body nested too deeply"}, status=400)
    _count(request, platform, response.status, started)
    return response


def _count(request: web.Request, platform: str, status: int, started: float) -> None:
    runtime = request.app.get(RUNTIME)
    if runtime is None:
        return
    if status < 400:
        runtime.metrics.observe_ack(platform, time.perf_counter() - started)
    elif status < 500:
        runtime.metrics.events_refused.labels(REFUSAL_REASONS.get(status, str(status))).inc()


async def _close_all(steps: list[tuple[str, Callable[[], Awaitable[object]]]]) -> None:
    """Run every closing step even when an earlier one fails; each failure is logged."""
    for name, step in steps:
        try:
            await step()
        except Exception:  # shutting down: the rest must still close
            log.exception("shutdown: %s failed", name)


def freeze_startup_objects() -> None:
    """What start-up made (modules, the parser's dictionary, the schema, the channels) lives
    as long as the process. Frozen, it is no longer walked by every full collection: those
    took 60–75 ms each, every few seconds under load, and were what made an acknowledgement's
    p99 (docs/performance.md); a full collection now takes about 5 ms."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, *, clock: Clock | None = None,
               freeze_heap: bool = False) -> web.Application:
    """`freeze_heap`: `serve` (a long-lived process) freezes what start-up made; tests, which
    build many apps in one process, leave the collector alone."""
    app = web.Application(client_max_size=settings.server.max_body_bytes,
                          middlewares=[_webhook_guard])
    app.router.add_get("/healthz", _health)
    app.router.add_get("/metrics", _metrics)
    platforms = adapters()
    for adapter in platforms:
        adapter.add_routes(app, settings)
    add_page_routes(app, settings, lambda a: a[RUNTIME])

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        runtime = await open_runtime(settings, clock=clock or SystemClock())
        app[RUNTIME] = runtime
        closers: list[tuple[str, Callable[[], Awaitable[object]]]] = [("runtime", runtime.close)]
        try:
            for adapter in platforms:
                closers.insert(0, (adapter.name, await adapter.start(runtime)))
        except BaseException:
            await _close_all(closers)
            raise
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(runtime.worker.run(stop), name="worker"),
            asyncio.create_task(runtime.delivery.run(stop), name="delivery"),
        ]
        scheduler = SchedulerService(
            factory=runtime.factory, clock=runtime.clock, on_queued=runtime.delivery.wakeup.set,
            files=runtime.blobs,
            config=config_for(scheduler=settings.scheduler, nlu=settings.nlu,
                              timezone=settings.bot.timezone),
            on_run=lambda outcome: runtime.metrics.scheduler_runs.labels(outcome).inc())
        app[SCHEDULER] = scheduler
        if scheduler.config.enabled:
            scheduler.start()
        if freeze_heap:
            freeze_startup_objects()

        async def stop_loops() -> None:
            stop.set()
            for task, result in zip(tasks, await asyncio.gather(*tasks, return_exceptions=True),
                                    strict=True):
                if isinstance(result, BaseException):
                    log.error("shutdown: the %s loop had ended with %r", task.get_name(), result)

        try:
            yield
        finally:
            await _close_all([("scheduler", scheduler.stop), ("loops", stop_loops), *closers])

    app.cleanup_ctx.append(runtime_ctx)
    return app
