"""The long connection's wire format: protobuf `pbbp2.Frame`, encoded and decoded by hand.

    Frame  { 1 SeqID uint64; 2 LogID uint64; 3 service int32; 4 method int32;
             5 headers repeated Header; 6 payload_encoding string; 7 payload_type string;
             8 payload bytes; 9 LogIDNew string }
    Header { 1 key string; 2 value string }

Nine fields do not justify a protobuf runtime and generated code. method 0 = control
(ping/pong), 1 = data (event/card). Imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTROL = 0
DATA = 1


class FrameError(ValueError):
    """Bytes that are not a well-formed frame."""


@dataclass
class Frame:
    seq_id: int = 0
    log_id: int = 0
    service: int = 0
    method: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    payload_encoding: str = ""
    payload_type: str = ""
    payload: bytes = b""
    log_id_new: str = ""

    def header(self, key: str, default: str = "") -> str:
        return next((v for k, v in self.headers if k == key), default)


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int32/int64 negatives are ten-byte two's complement on the wire
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _key(number, 2) + _varint(len(data)) + data


def encode(frame: Frame) -> bytes:
    out = bytearray()
    for number, value in ((1, frame.seq_id), (2, frame.log_id), (3, frame.service),
                          (4, frame.method)):
        out += _key(number, 0) + _varint(value)  # proto2 required: always written
    for k, v in frame.headers:
        out += _bytes_field(5, _bytes_field(1, k.encode()) + _bytes_field(2, v.encode()))
    for number, text in ((6, frame.payload_encoding), (7, frame.payload_type)):
        if text:
            out += _bytes_field(number, text.encode())
    if frame.payload:
        out += _bytes_field(8, frame.payload)
    if frame.log_id_new:
        out += _bytes_field(9, frame.log_id_new.encode())
    return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise FrameError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            if pos + length > len(data):
                raise FrameError("truncated field")
            out.append((number, data[pos:pos + length]))
            pos += length
        elif wire in (1, 5):  # fixed64 / fixed32: not in Frame, skipped for forward compat
            pos += 8 if wire == 1 else 4
        else:
            raise FrameError(f"unsupported wire type {wire}")
    return out


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def decode(data: bytes) -> Frame:
    frame = Frame()
    try:
        for number, value in _fields(data):
            if isinstance(value, int):
                if number == 1:
                    frame.seq_id = value
                elif number == 2:
                    frame.log_id = value
                elif number == 3:
                    frame.service = _signed32(value)
                elif number == 4:
                    frame.method = _signed32(value)
            elif number == 5:
                parts = {n: v for n, v in _fields(value) if isinstance(v, bytes)}
                frame.headers.append((parts.get(1, b"").decode(), parts.get(2, b"").decode()))
            elif number == 6:
                frame.payload_encoding = value.decode()
            elif number == 7:
                frame.payload_type = value.decode()
            elif number == 8:
                frame.payload = value
            elif number == 9:
                frame.log_id_new = value.decode()
    except UnicodeDecodeError as exc:
        raise FrameError("header is not UTF-8") from exc
    return frame
