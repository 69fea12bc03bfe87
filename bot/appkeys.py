"""The keys under which the running bot keeps its state on the aiohttp app.

A module of its own, importing nothing that imports the channels: the webhooks (inside the
channel packages) read the runtime through it, and the runtime imports the channels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.runtime import Runtime

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")
