"""Interactive cards: a reply with a 撤销 button, and the same card after the withdrawal.

Cards use Feishu's message-card JSON (v1 layout: `elements` with a `div` and an `action`
row), which button callbacks (`card.action.trigger`) support. Imports only handlers.texts.
"""

from __future__ import annotations

from typing import Any

from handlers import texts


def _text_block(text: str) -> dict[str, Any]:
    return {"tag": "div", "text": {"tag": "plain_text", "content": text}}


def undo_card(text: str, ref: str) -> dict[str, Any]:
    button = {
        "tag": "button",
        "text": {"tag": "plain_text", "content": texts.CARD_UNDO_BUTTON},
        "type": "default",
        "value": {"intent": "undo", "undo": ref},
    }
    return {
        "config": {"wide_screen_mode": True, "update_multi": True},
        "elements": [_text_block(text), {"tag": "action", "actions": [button]}],
    }


def withdrawn_card(text: str) -> dict[str, Any]:
    """The card after its entry was withdrawn: what happened, and no button left."""
    return {
        "config": {"wide_screen_mode": True, "update_multi": True},
        "elements": [_text_block(text)],
    }


def titled_card(title: str, text: str) -> dict[str, Any]:
    """A digest or reminder as a card: the title as its header, the rest as its body."""
    first, _, rest = text.partition("\n")
    body = rest if first.strip() == title.strip() else text
    return {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": title}, "template": "blue"},
        "elements": [_text_block(body)],
    }


def toast(content: str) -> dict[str, Any]:
    """The answer to a button press, shown to the presser at once."""
    return {"toast": {"type": "info", "content": content}}
