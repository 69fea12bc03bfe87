"""Blobs in an S3-compatible object store (MinIO, 腾讯云 COS, 阿里云 OSS in S3 mode, AWS S3).

The same content addressing as the local `BlobStore`: an object is named by the SHA-256 of
its bytes under `<prefix><sha[:2]>/<sha[2:4]>/<sha>`, so writing it twice is harmless.
Requests are path-style (`<endpoint>/<bucket>/<key>`) and signed with AWS Signature
Version 4 over the payload's hash. The calls block (urllib): callers on the event loop run
them in a thread, as the photo handler does. The secret key never appears in a log line or
an error. Imports storage.blobs only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from storage.blobs import Blob, blob_name

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNED_HEADERS = "host;x-amz-content-sha256;x-amz-date"
TIMEOUT_S = 30.0


class S3Error(OSError):
    """The object store refused or failed; the status and reason, never a credential."""


@dataclass(frozen=True)
class S3Location:
    endpoint: str  # "https://cos.ap-guangzhou.myqcloud.com", "http://127.0.0.1:9000"
    bucket: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    region: str = "us-east-1"
    prefix: str = ""


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def sign(location: S3Location, method: str, url: str, payload_sha256: str,
         now: dt.datetime) -> dict[str, str]:
    """The headers that make one request a signed SigV4 request (no query string)."""
    parts = urllib.parse.urlsplit(url)
    amz_date = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {"host": parts.netloc, "x-amz-content-sha256": payload_sha256,
               "x-amz-date": amz_date}
    canonical = "\n".join([
        method, urllib.parse.quote(parts.path, safe="/-_.~"), "",
        "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), SIGNED_HEADERS,
        payload_sha256,
    ])
    scope = f"{day}/{location.region}/s3/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + location.secret_key).encode("utf-8"), day),
                            location.region), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return {
        "Host": parts.netloc, "x-amz-content-sha256": payload_sha256, "x-amz-date": amz_date,
        "Authorization": f"{ALGORITHM} Credential={location.access_key}/{scope}, "
                         f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
    }


class S3BlobStore:
    """put / get / has like `BlobStore`, against a bucket."""

    def __init__(self, location: S3Location) -> None:
        self.location = location
        # No proxies from the environment (as with the platforms' aiohttp sessions).
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def url(self, sha256: str) -> str:
        key = f"{self.location.prefix}{blob_name(sha256)}"
        return f"{self.location.endpoint.rstrip('/')}/{self.location.bucket}/{key}"

    def _request(self, method: str, sha256: str, data: bytes | None = None) -> bytes | None:
        """The body of a 2xx answer; None for 404; S3Error for anything else."""
        payload = hashlib.sha256(data or b"").hexdigest()
        url = self.url(sha256)
        headers = sign(self.location, method, url, payload, dt.datetime.now(dt.UTC))
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=TIMEOUT_S) as resp:
                return bytes(resp.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise S3Error(f"object store: {method} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError) as exc:
            raise S3Error(f"object store: {method} failed: {type(exc).__name__}") from None

    def put(self, data: bytes) -> Blob:
        sha = hashlib.sha256(data).hexdigest()
        if self._request("PUT", sha, data) is None:
            raise S3Error("object store: PUT answered HTTP 404 (no such bucket?)")
        return Blob(sha256=sha, size=len(data))

    def get(self, sha256: str) -> bytes:
        """The blob's bytes; FileNotFoundError when it is not there."""
        data = self._request("GET", sha256)
        if data is None:
            raise FileNotFoundError(sha256)
        return data

    def has(self, sha256: str) -> bool:
        return self._request("HEAD", sha256) is not None
