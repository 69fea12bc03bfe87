"""The neutral message types every channel converts to and from.

A channel turns its platform payload into an `IncomingMessage`; handlers answer with
`Reply` objects; the worker turns those into outbox rows. Imports nothing of ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

LEADING_MENTIONS = re.compile(r"^\s*(?:@\S+\s*)+")


def without_mentions(text: str) -> str:
    """The words after any leading @mentions (the console keeps them in the text)."""
    return LEADING_MENTIONS.sub("", text).strip()


@dataclass(frozen=True)
class ImageRef:
    """A picture in a platform message, not fetched yet; `ref` is what its channel needs to
    fetch it (Feishu: "message_id/image_key"; WeCom: the robot's encrypted-file URL)."""

    ref: str


@dataclass(frozen=True, repr=False)
class Picture:
    """A picture fetched and checked by the bot layer (a picture by its bytes, within the size
    limit), not stored yet: the photo handler keeps it only when it has a record to go to."""

    data: bytes
    sha256: str
    mime: str

    @property
    def size(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"Picture({self.sha256[:12]}, {self.mime}, {self.size} bytes)"


@dataclass(frozen=True)
class ReplyRoute:
    """The ways back to a message that its chat alone does not give, read by the channel from
    the platform's payload: a URL that takes the answer for `lifetime` after the message came
    in (WeCom's response_url), and in a private chat the person, for an answer that has to go
    another way. The worker writes it into each answer's outbox row, so that delivery needs
    nothing of the inbox."""

    url: str = ""
    lifetime: timedelta = timedelta(0)
    person: str = ""


@dataclass(frozen=True)
class IncomingMessage:
    platform: str
    chat_id: str
    chat_type: str  # "group" or "p2p"
    sender_id: str  # the platform's user id (open_id, userid, console name)
    text: str
    message_id: str
    received_at: datetime
    app_id: str = ""
    sender_name: str = ""
    kind: str = "message"  # "message", "action" (a card button), "bot_added"
    action: dict[str, Any] | None = None
    # The message @mentions the bot (WeCom's robot hears nothing else in a group).
    addressed: bool = False
    # Pictures the message carries (a Feishu image or post, a WeCom image or mixed message),
    # then, filled in by the bot layer before handling: those fetched and checked, and how
    # many were refused for good (not a picture, too large, gone).
    images: tuple[ImageRef, ...] = ()
    pictures: tuple[Picture, ...] = ()
    refused: int = 0
    reply_route: ReplyRoute | None = None

    @property
    def is_group(self) -> bool:
        return self.chat_type == "group"


@dataclass(frozen=True)
class Target:
    """Where a message goes: a chat, or one person privately."""

    kind: str  # "chat" or "user"
    id: str
    name: str = ""  # as people know it, for previews and the console


@dataclass(frozen=True)
class Attachment:
    """A file or picture sent with a message; its bytes wait in the blob store under
    `sha256`. Or, with `make`, a recipe delivery follows just before sending (a chart drawn
    then, not inside the scheduler's beat): `make` names it, `args` are plain JSON values."""

    kind: str  # "file" or "image"
    sha256: str
    name: str  # as the recipient sees it: 融安县实验小学教共体_活动台账_2026年11月.xlsx
    size: int
    make: str = ""
    args: tuple[tuple[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "sha256": self.sha256, "name": self.name,
                               "size": self.size}
        if self.make:
            out.update(make=self.make, args=dict(self.args))
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Attachment:
        return cls(kind=str(raw["kind"]), sha256=str(raw.get("sha256") or ""),
                   name=str(raw["name"]), size=int(raw.get("size") or 0),
                   make=str(raw.get("make") or ""),
                   args=tuple(sorted(dict(raw.get("args") or {}).items())))

    @classmethod
    def to_make(cls, kind: str, name: str, make: str, **args: Any) -> Attachment:
        return cls(kind=kind, sha256="", name=name, size=0, make=make,
                   args=tuple(sorted(args.items())))


@dataclass(frozen=True)
class Look:
    """How an outgoing message is meant to be drawn, whatever the platform; each channel
    decides what that is on its platform (a Feishu card, plain text in WeCom). Kept in the
    outbox row's `extra` (`as_extra`) and read back by the channels (`of`), in one place."""

    kind: str = ""  # what it is (reply, digest_school, term_summary…): previews, metrics
    to_name: str = ""  # the addressee as people know them (previews, the console)
    title: str = ""  # a titled card where the platform has cards
    undo_ref: str = ""  # "activity:12": offer a 撤销 button
    update_card: bool = False  # the answer to a card press: update that card once withdrawn
    withdrawn: bool = False  # this answer withdrew an entry

    def as_extra(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("kind", "to_name", "undo_ref"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.title:
            out.update(card=True, title=self.title)
        for key in ("update_card", "withdrawn"):
            if getattr(self, key):
                out[key] = True
        return out

    @classmethod
    def of(cls, extra: dict[str, Any] | None) -> Look:
        raw = extra or {}
        return cls(kind=str(raw.get("kind", "")), to_name=str(raw.get("to_name", "")),
                   title=str(raw.get("title", "")) if raw.get("card") else "",
                   undo_ref=str(raw.get("undo_ref", "")),
                   update_card=bool(raw.get("update_card")), withdrawn=bool(raw.get("withdrawn")))


@dataclass
class Reply:
    text: str
    target: Target | None = None  # None: the chat the message came from
    undo_ref: str | None = None  # "activity:12": channels that can, offer a 撤销 button
    # The answer withdrew an entry (channels with cards take the 撤销 button away).
    withdrawn: bool = False
    # Sent after the text, in order; files and workbooks go only to a person (a Target user).
    attachments: tuple[Attachment, ...] = ()
    # Answers of a burst (several pictures in a row): a still-pending answer queued under this
    # key prefix takes this one's text instead of another being queued, `delay` after now.
    burst: str | None = None
    delay: timedelta = timedelta(0)
