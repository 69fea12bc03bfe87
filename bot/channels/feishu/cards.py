"""Interactive cards: a reply with a 撤销 button, and the same card after the withdrawal.

Cards use Feishu's message-card JSON (v1 layout: `elements` with a `div` and an `action`
row), which button callbacks (`card.action.trigger`) support. Imports only handlers.texts.
"""

from __future__ import annotations

from typing import Any

from handlers import texts

# Only a reply that says the entry is now withdrawn turns the card grey; "not yours" or
# "nothing to undo" leave the button for the person who may still press it.
_WITHDRAWN_PREFIXES = (texts.UNDO_OK.split("{", 1)[0], texts.UNDO_ALREADY)


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


def confirms_withdrawal(text: str) -> bool:
    return text.startswith(_WITHDRAWN_PREFIXES)


def toast(content: str) -> dict[str, Any]:
    """The answer to a button press, shown to the presser at once."""
    return {"toast": {"type": "info", "content": content}}
