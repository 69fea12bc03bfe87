"""Our plain texts as WeCom markdown, which is the only thing a response_url takes.

Our sentences carry no markdown, but they quote what people wrote and list things
(`- 县实小 3次`, `1. 集体备课`, `# 3`): left alone, WeCom would draw those as lists, headings,
quotes, tables, code or links, or `<@userid>` would mention someone. `md_escape` puts a
backslash before every character that could start such a construct, line by line, and keeps
line breaks as they are (WeCom breaks the line at each `\\n`). `fit_markdown` cuts to WeCom's
byte limit without splitting an escape. Pure; imports nothing of ours.
"""

from __future__ import annotations

import re

# The response_url's markdown limit (智能机器人 → 主动回复消息).
RESPONSE_MARKDOWN_LIMIT = 20480
ELLIPSIS = "…"

# Anywhere in a line: emphasis, code, links, tables, HTML-ish tags and mentions, escapes.
INLINE = re.compile(r"([\\`*_\[\]|<>~])")
# At the start of a line (after indentation): a heading, a bullet, a numbered item (each
# followed by a space or the end), a quote, or a rule / setext underline (---, ===).
BLOCK_MARK = re.compile(r"^(\s*)(?:(#+|[-+])(?=\s|$)|(>)|(\d+)(?=[.)](?:\s|$))"
                        r"|([-=])(?=[-=\s]*$))")


def _escape_line(line: str) -> str:
    line = INLINE.sub(r"\\\1", line)
    match = BLOCK_MARK.match(line)
    if match is None:
        return line
    indent, rest = match.group(1), line[match.end():]
    number = match.group(4)
    if number is not None:  # "1." / "2)": escape the dot, keep the number
        return f"{indent}{number}\\{rest}"
    mark = match.group(2) or match.group(3) or match.group(5)
    return f"{indent}\\{mark}{rest}"


def md_escape(text: str) -> str:
    """Plain text → markdown that WeCom shows as that same text."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(_escape_line(line) for line in lines)


def _cut(escaped: str, budget: int) -> str:
    """The longest prefix within `budget` UTF-8 bytes that does not end inside an escape."""
    out, used = [], 0
    for ch in escaped:
        size = len(ch.encode("utf-8"))
        if used + size > budget:
            break
        out.append(ch)
        used += size
    head = "".join(out)
    # An odd run of trailing backslashes is an escape cut in half.
    trailing = len(head) - len(head.rstrip("\\"))
    return head[:-1] if trailing % 2 else head


def fit_markdown(text: str, limit: int = RESPONSE_MARKDOWN_LIMIT) -> str:
    """`md_escape(text)`, cut at a line end (or inside an over-long line) to `limit` bytes
    with an ellipsis: a response_url takes one POST, so a longer answer is cut, not split."""
    escaped = md_escape(text)
    if len(escaped.encode("utf-8")) <= limit:
        return escaped
    budget = limit - len(ELLIPSIS.encode("utf-8"))
    kept: list[str] = []
    used = 0
    for line in escaped.split("\n"):
        size = len(line.encode("utf-8")) + (1 if kept else 0)
        if used + size > budget:
            if not kept:
                kept.append(_cut(line, budget))
            break
        kept.append(line)
        used += size
    return "\n".join(kept).rstrip() + ELLIPSIS
