"""What fetching a picture from a platform may end in, shared by the channels.

`ImageGone` is a refusal for good (not found, no permission, too large, not decryptable):
the picture is skipped and the message handled without it. `ImageUnavailable` may pass
(network, 5xx, rate limit, token trouble): the bot layer lets it propagate, so the worker
retries the whole event later and nothing is lost. Neither carries a URL or a token.
"""

from __future__ import annotations

import aiohttp


class ImageGone(Exception):
    """The platform will not give us this picture, now or later."""


class ImageUnavailable(Exception):
    """Fetching failed in a way that may pass; try the event again later."""


async def read_limited(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, refused as too large by its Content-Length or after reading limit+1 bytes,
    so an oversize file costs at most limit+1 bytes of memory."""
    if resp.content_length is not None and resp.content_length > limit:
        raise ImageGone(f"too large: {resp.content_length} bytes")
    data = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise ImageGone(f"too large: more than {limit} bytes")
    return bytes(data)
