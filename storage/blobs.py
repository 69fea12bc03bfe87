"""Files kept by their content: photos teachers post, workbooks the bot sends.

A blob is named by the SHA-256 of its bytes, so the same picture posted twice (or a
platform's redelivery) is stored once, and a name in the database can never point at
different bytes later. Writes go to a temporary file first and are renamed into place, so a
crash never leaves half a file under a real name. Imports nothing of ours.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Magic numbers of the picture formats chat apps send; the platform's word is not trusted.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"BM", 0, "image/bmp"),
)


def image_type(data: bytes) -> str | None:
    """The picture's MIME type judged from its first bytes; None when it is not a picture."""
    for magic, offset, mime in _SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "image/heic"
    return None


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int


def blob_name(sha256: str) -> str:
    """Where a blob lives below its store's root: two levels deep by hash prefix, so no
    folder grows too large; ValueError for anything but a SHA-256 hex digest."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class BlobStorage(Protocol):
    """What keeps blobs: a local directory (`BlobStore`) or a bucket (storage.s3)."""

    def put(self, data: bytes) -> Blob: ...

    def get(self, sha256: str) -> bytes: ...

    def has(self, sha256: str) -> bool: ...


class BlobStore:
    """A directory of blobs, two levels deep by hash prefix so no folder grows too large."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / blob_name(sha256)

    def put(self, data: bytes) -> Blob:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return Blob(sha256=sha, size=len(data))

    def get(self, sha256: str) -> bytes:
        """The blob's bytes; FileNotFoundError when it is not (or no longer) here."""
        return self.path(sha256).read_bytes()

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()
