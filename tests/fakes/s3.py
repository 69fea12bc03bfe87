"""A fake S3-compatible object store on 127.0.0.1, port 0: path-style PUT, GET and HEAD of
objects in one bucket, each request's AWS Signature Version 4 checked (403 when it does not
match), the payload checked against its declared hash.

Written independently of storage.s3 (shares no code with it), so a mistake in the bot's
signing cannot cancel out against the same mistake here.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from aiohttp import web

from tests.fakes.server import FakeServer

AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                  r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")


class FakeS3(FakeServer):
    def __init__(self, *, bucket: str = "photos", access_key: str = "AKTEST",
                 secret_key: str = "s3-secret", region: str = "us-east-1") -> None:
        self.bucket, self.access_key, self.secret_key = bucket, access_key, secret_key
        self.region = region
        self.objects: dict[str, bytes] = {}
        self.refused = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{bucket}/{key:.+}", self._object)

    def _signature_ok(self, request: web.Request, body: bytes) -> bool:
        match = AUTH.match(request.headers.get("Authorization", ""))
        if match is None:
            return False
        access_key, day, region, signed, given = match.groups()
        if access_key != self.access_key or region != self.region:
            return False
        payload = request.headers.get("x-amz-content-sha256", "")
        if payload != hashlib.sha256(body).hexdigest():
            return False
        names = signed.split(";")
        lines = "".join(f"{n}:{request.headers.get(n, '').strip()}\n" for n in names)
        canonical = f"{request.method}\n{request.raw_path}\n\n{lines}\n{signed}\n{payload}"
        amz_date = request.headers.get("x-amz-date", "")
        scope = f"{day}/{region}/s3/aws4_request"
        text = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + hashlib.sha256(
            canonical.encode()).hexdigest()
        key = ("AWS4" + self.secret_key).encode()
        for part in (day, region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, given) and amz_date.startswith(day)

    async def _object(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not self._signature_ok(request, body):
            self.refused += 1
            return web.Response(status=403, text="SignatureDoesNotMatch")
        if request.match_info["bucket"] != self.bucket:
            return web.Response(status=404, text="NoSuchBucket")
        key = request.match_info["key"]
        if request.method == "PUT":
            self.objects[key] = body
            return web.Response(status=200)
        if key not in self.objects:
            return web.Response(status=404, text="NoSuchKey")
        if request.method == "HEAD":
            return web.Response(status=200)
        if request.method == "GET":
            return web.Response(body=self.objects[key])
        return web.Response(status=405)
