"""Writes the golden frames of tests/test_feishu_longconn.py with the official SDK's own
protobuf definition and ack code (lark-oapi), so our hand-written codec is checked against
bytes we did not produce. Not a test and not part of the bot; run it in a scratch venv:

    python3 -m venv /tmp/larkvenv && /tmp/larkvenv/bin/pip install lark-oapi protobuf
    /tmp/larkvenv/bin/python tests/data/feishu_ws/make_golden.py

Each frame is written as <name>.bin next to this file.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
from typing import Any

from lark_oapi.ws import client as sdk
from lark_oapi.ws.pb.pbbp2_pb2 import Frame

HERE = pathlib.Path(__file__).parent
EVENT = {"schema": "2.0", "header": {"event_id": "golden-1", "event_type":
         "im.message.receive_v1", "app_id": "cli_ws", "token": ""},
         "event": {"message": {"content": json.dumps({"text": "签到"})}}}


def data_frame(seq_id: int, headers: list[tuple[str, str]], payload: bytes) -> Frame:
    frame = Frame(SeqID=seq_id, LogID=0, service=7, method=1, payload=payload,
                  payload_encoding="none", payload_type="json", LogIDNew="log-1")
    for key, value in headers:
        header = frame.headers.add()
        header.key, header.value = key, value
    return frame


def event_headers(msg_id: str, total: int, seq: int, kind: str = "event") -> list[tuple[str, str]]:
    return [("type", kind), ("message_id", msg_id), ("sum", str(total)), ("seq", str(seq)),
            ("trace_id", "trace-1")]


class Handler:
    """Stands in for the SDK's event dispatcher: returns `result`, or raises."""

    def __init__(self, result: Any = None, fail: bool = False) -> None:
        self.result, self.fail = result, fail

    def _do_without_validation(self, payload: bytes) -> Any:
        if self.fail:
            raise RuntimeError("handler failed")
        return self.result


def sdk_ack(frame: Frame, handler: Handler) -> bytes:
    """The bytes the SDK itself sends back for `frame` (biz_rt forced to 0 ms)."""
    written: list[bytes] = []
    client = sdk.Client("cli_ws", "secret", event_handler=handler)

    async def capture(data: bytes) -> None:
        written.append(data)

    client._write_message = capture  # type: ignore[method-assign]
    sdk.time.time = lambda: 1_700_000_000.0  # type: ignore[attr-defined]
    sdk.loop.run_until_complete(client._handle_data_frame(frame))
    [data] = written
    return data


def main() -> None:
    payload = json.dumps(EVENT, ensure_ascii=False).encode()
    half = len(payload) // 2
    frames = {
        "ping": sdk._new_ping_frame(7).SerializeToString(),
        "pong": Frame(SeqID=0, LogID=0, service=7, method=0, headers=[],
                      payload=json.dumps({"PingInterval": 30, "ReconnectCount": 5,
                                          "ReconnectInterval": 60, "ReconnectNonce": 10}
                                         ).encode()).SerializeToString(),
        "event_whole": data_frame(1, event_headers("m-whole", 1, 0), payload)
        .SerializeToString(),
        "event_part0": data_frame(2, event_headers("m-split", 2, 0), payload[:half])
        .SerializeToString(),
        "event_part1": data_frame(3, event_headers("m-split", 2, 1), payload[half:])
        .SerializeToString(),
        "ack_ok": sdk_ack(data_frame(1, event_headers("m-whole", 1, 0), payload), Handler()),
        "ack_data": sdk_ack(data_frame(1, event_headers("m-whole", 1, 0), payload),
                            Handler({"toast": {"type": "info", "content": "正在撤销…"}})),
        "ack_failed": sdk_ack(data_frame(1, event_headers("m-whole", 1, 0), payload),
                              Handler(fail=True)),
    }
    pong = Frame()
    pong.ParseFromString(frames["pong"])
    header = pong.headers.add()
    header.key, header.value = "type", "pong"
    frames["pong"] = pong.SerializeToString()
    for name, data in frames.items():
        (HERE / f"{name}.bin").write_bytes(data)
    asyncio.set_event_loop(None)


if __name__ == "__main__":
    main()
