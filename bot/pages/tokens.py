"""One-time link tokens: `<nonce>.<signature>`, the signature an HMAC of the nonce.

The nonce alone opens nothing (the database row says whose it is and whether it is spent);
the signature lets a guessed or altered token be refused before the database is asked.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from sqlalchemy.ext.asyncio import AsyncSession

from storage.pages import mint_link, page_secret

LANDING = "/p/in/"


def sign(key: str, nonce: str) -> str:
    digest = hmac.new(key.encode(), nonce.encode(), hashlib.sha256).digest()[:18]
    return f"{nonce}.{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


def verified_nonce(key: str, token: str) -> str | None:
    """The nonce of a token whose signature holds, else None."""
    nonce, _, _ = token.partition(".")
    if not nonce or len(token) > 200:
        return None
    return nonce if hmac.compare_digest(sign(key, nonce), token) else None


async def signing_key(session: AsyncSession, configured: str, now: dt.datetime) -> str:
    """`[pages] secret` when configured, else the key kept in the database."""
    return configured or await page_secret(session=session, now=now)


class LinkMaker:
    """Mints a member's one-time link: the handlers' `Services.page_link`."""

    def __init__(self, *, public_url: str, secret: str, lifetime: dt.timedelta) -> None:
        self.public_url = public_url.rstrip("/")
        self.secret = secret
        self.lifetime = lifetime

    async def __call__(self, session: AsyncSession, member_id: int, now: dt.datetime) -> str:
        nonce = await mint_link(session=session, member_id=member_id, now=now,
                                lifetime=self.lifetime)
        key = await signing_key(session, self.secret, now)
        return f"{self.public_url}{LANDING}{sign(key, nonce)}"
