"""What the files-out tests share: blobs made on the spot and attachments that name them."""

from __future__ import annotations

from typing import Any

from handlers.messages import Attachment
from storage.blobs import BlobStore

MB = 1024 * 1024
WORKBOOK = "融安县实验小学教共体_活动台账_2026年11月.xlsx"
# Not a real workbook or picture: the platforms take the bytes as they are.
XLSX_BYTES = b"PK\x03\x04" + "活动台账".encode() * 64
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def attach(blobs: BlobStore, data: bytes, name: str = WORKBOOK, kind: str = "file") -> Attachment:
    blob = blobs.put(data)
    return Attachment(kind=kind, sha256=blob.sha256, name=name, size=blob.size)


def as_rows(*attachments: Attachment) -> list[dict[str, Any]]:
    return [a.as_dict() for a in attachments]
