"""Text splitting at WeCom's 2048-byte limit. (Its send budgets — 20/min per group robot,
30/min per member unless [wecom] says otherwise — are `bot.channels.limits.SlidingWindow`s
in the channel, which answers "retry after N s" rather than waiting, so one busy robot never
holds up the others.)
Imports nothing of ours.
"""

from __future__ import annotations

TEXT_LIMIT_BYTES = 2048


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut at line ends where possible."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode("utf-8")) > limit:  # one line too long: cut by characters
            head = _prefix(line, limit - len(current.encode("utf-8")))
            if not head:
                parts.append(current)
                current = ""
                continue
            parts.append(current + head)
            current, line = "", line[len(head):]
        if len((current + line).encode("utf-8")) > limit:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return [p.rstrip("\n") for p in parts if p.strip()]


def _prefix(text: str, budget: int) -> str:
    """The longest prefix of `text` within `budget` UTF-8 bytes."""
    out, used = [], 0
    for ch in text:
        size = len(ch.encode("utf-8"))
        if used + size > budget:
            break
        out.append(ch)
        used += size
    return "".join(out)
