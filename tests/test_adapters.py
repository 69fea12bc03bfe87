"""One adapter contract: every platform package exports an Adapter, the registry lists them
once, and the app and the command line read that one tuple."""

from __future__ import annotations

import argparse

from bot.app import WEBHOOK_PLATFORMS, create_app
from bot.channels.base import Adapter
from bot.channels.registry import CHAT_PLATFORMS, PLATFORMS, adapters
from bot.cli import build_argparser
from bot.config import settings_from_dict


def test_every_registered_platform_exports_its_adapter() -> None:
    found = adapters()
    assert [a.name for a in found] == list(PLATFORMS) == ["feishu", "wecom"]
    assert all(isinstance(a, Adapter) for a in found)
    assert WEBHOOK_PLATFORMS == PLATFORMS
    assert (*PLATFORMS, "console") == CHAT_PLATFORMS


def test_the_app_takes_its_routes_from_the_adapters() -> None:
    settings = settings_from_dict({
        "feishu": {"app_id": "cli_x", "app_secret": "s", "verification_token": "t"},
        "wecom": {"corp_id": "ww", "token": "t", "encoding_aes_key": "a" * 43}})
    paths = {r.resource.canonical for r in create_app(settings).router.routes()
             if r.resource is not None}
    assert {"/feishu/events", "/feishu/card", "/wecom/callback"} <= paths
    bare = {r.resource.canonical for r in create_app(settings_from_dict({})).router.routes()
            if r.resource is not None}
    assert not any(p.startswith(("/feishu", "/wecom")) for p in bare)


def test_the_command_line_offers_the_registered_platforms() -> None:
    parser = build_argparser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    group = sub.choices["group"]
    bind = next(a for a in group._actions if isinstance(a, argparse._SubParsersAction))
    platform = next(a for a in bind.choices["bind"]._actions if a.dest == "platform")
    assert tuple(platform.choices or ()) == CHAT_PLATFORMS


def test_a_look_survives_the_outbox_row() -> None:
    """Handlers say what (a withdrawn entry, a titled digest); the row keeps it; the channel
    reads the same look back."""
    from handlers.messages import Look

    look = Look(kind="digest_school", to_name="欧阳勇", title="📊 周报", undo_ref="activity:3",
                update_card=True, withdrawn=True)
    assert Look.of(look.as_extra()) == look
    assert Look.of(None) == Look() and Look().as_extra() == {}
    # Rows queued before the look existed read the same.
    assert Look.of({"card": True, "title": "T", "kind": "k"}) == Look(kind="k", title="T")
