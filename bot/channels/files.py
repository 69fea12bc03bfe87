"""Attachments on their way out: read from the blob store and checked against a platform's
limits before any upload, so a file the platform would refuse fails at once, for good, with a
reason a person can act on. Imports handlers.messages, storage.blobs and storage.models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from handlers.messages import Attachment
from storage.blobs import BlobStorage
from storage.models import OutboxMessage

MB = 1024 * 1024


class AttachmentError(Exception):
    """An attachment that can never be sent (missing, empty, too large): a permanent failure."""


@dataclass(frozen=True)
class Limits:
    """Bytes one upload of each kind may have on a platform."""

    file_max: int
    image_max: int
    min_bytes: int = 1

    def max_for(self, kind: str) -> int:
        return self.image_max if kind == "image" else self.file_max


@dataclass(frozen=True)
class OutgoingFile:
    kind: str  # "file" or "image"
    name: str
    data: bytes


def attachments_of(message: OutboxMessage) -> list[Attachment]:
    """The row's attachments, in order; a malformed entry is a bug upstream, reported as such.
    A recipe delivery has not made (bot.makers) is not a file yet and is left out."""
    try:
        found = [Attachment.from_dict(raw) for raw in message.attachments or []]
    except (KeyError, TypeError, ValueError) as exc:
        raise AttachmentError(f"malformed attachment on the outbox row: {exc}") from exc
    return [a for a in found if a.sha256]


def safe_name(name: str, fallback: str) -> str:
    """The bare file name (no folders, no quotes or line breaks) as a multipart header takes it."""
    bare = PureWindowsPath(PurePosixPath(name).name).name
    cleaned = "".join(c for c in bare if c not in '"\\\r\n\0').strip()
    return cleaned or fallback


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"


def load(blobs: BlobStorage | None, attachment: Attachment, limits: Limits,
         platform: str) -> OutgoingFile:
    """The attachment's bytes, or AttachmentError saying why it can never be sent."""
    label = f"{attachment.kind} {attachment.name!r}"
    if attachment.kind not in ("file", "image"):
        raise AttachmentError(f"{label}: unknown attachment kind")
    if blobs is None:
        raise AttachmentError(f"{label}: no file store is configured for {platform}")
    try:
        data = blobs.get(attachment.sha256)
    except (FileNotFoundError, ValueError) as exc:
        raise AttachmentError(
            f"{label}: not in the file store (blob {attachment.sha256[:12]}… missing)") from exc
    if len(data) < limits.min_bytes:
        raise AttachmentError(f"{label}: empty or too small for {platform} "
                              f"({len(data)} bytes, at least {limits.min_bytes})")
    if len(data) > limits.max_for(attachment.kind):
        raise AttachmentError(f"{label}: too large for {platform} ({_megabytes(len(data))}, "
                              f"at most {_megabytes(limits.max_for(attachment.kind))})")
    return OutgoingFile(kind=attachment.kind,
                        name=safe_name(attachment.name, attachment.sha256[:16]),
                        data=data)


class UploadCache:
    """Keys the platform gave for uploaded blobs (file_key, image_key, media_id), kept for a
    while so a retry after a refused *message* does not upload the same bytes again. In
    memory only: after a restart the bytes are simply uploaded once more."""

    def __init__(self, ttl_s: float, clock: Callable[[], float]) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        # By scope, kind, bytes and name: the name is part of the upload people see.
        self._keys: dict[tuple[str, str, str, str], tuple[str, float]] = {}

    def get(self, scope: str, attachment: Attachment) -> str | None:
        hit = self._keys.get((scope, attachment.kind, attachment.sha256, attachment.name))
        if hit is None or self.clock() - hit[1] >= self.ttl_s:
            return None
        return hit[0]

    def put(self, scope: str, attachment: Attachment, key: str) -> None:
        now = self.clock()
        self._keys = {k: v for k, v in self._keys.items() if now - v[1] < self.ttl_s}
        self._keys[(scope, attachment.kind, attachment.sha256, attachment.name)] = (key, now)
