"""The platforms the bot speaks, in one tuple: the app adds their routes and starts them,
the command line offers their names.

A new platform is a package `bot/channels/<name>/` exporting `ADAPTER` (a
bot.channels.base.Adapter: routes, start, and a Channel with `normalise` and `send`) and
one line below. The packages are imported only when the app is built, so `jiaolian parse`
does not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line reads the names without loading the channels
    from bot.channels.base import Adapter

PLATFORMS: tuple[str, ...] = (
    "feishu",
    "wecom",
)
# Accounts and groups may also belong to the local console chat (`make demo`).
CHAT_PLATFORMS: tuple[str, ...] = (*PLATFORMS, "console")


def adapters() -> tuple[Adapter, ...]:
    """Each platform package's ADAPTER, in the order above."""
    from bot.channels.base import Adapter

    out = []
    for name in PLATFORMS:
        adapter = importlib.import_module(f"bot.channels.{name}").ADAPTER
        if not isinstance(adapter, Adapter) or adapter.name != name:
            raise TypeError(f"bot.channels.{name}.ADAPTER must be an Adapter named {name!r}")
        out.append(adapter)
    return tuple(out)
