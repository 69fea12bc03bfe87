"""Photos in an S3-compatible bucket: the SigV4-signed store against a fake that checks every
signature, and a picture attached end to end with `[files] s3_bucket` configured."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.feishu import FeishuChannel
from bot.config import ConfigError, settings_from_dict
from bot.runtime import open_runtime
from handlers import texts
from handlers.clock import FixedClock
from storage.models import Photo
from storage.s3 import S3BlobStore, S3Error, S3Location
from tests.app_support import prepare_demo_database
from tests.fakes.feishu import FakeFeishu
from tests.fakes.s3 import FakeS3
from tests.test_photos_feishu import APP_ID, CHAT, NOW, REPORT, USER, Rig, png, raw_settings


@pytest.fixture
async def s3() -> AsyncIterator[FakeS3]:
    server = await FakeS3().start()
    try:
        yield server
    finally:
        await server.close()


def store(s3: FakeS3, **kw: str) -> S3BlobStore:
    fields = {"endpoint": s3.url, "bucket": "photos", "access_key": "AKTEST",
              "secret_key": "s3-secret", **kw}
    return S3BlobStore(S3Location(**fields))


async def test_put_has_get_by_hash_with_signed_requests(s3: FakeS3) -> None:
    blobs = store(s3, prefix="jl/")
    data = os.urandom(2000)
    sha = hashlib.sha256(data).hexdigest()
    assert not await asyncio.to_thread(blobs.has, sha)
    blob = await asyncio.to_thread(blobs.put, data)
    assert (blob.sha256, blob.size) == (sha, 2000)
    assert s3.objects == {f"jl/{sha[:2]}/{sha[2:4]}/{sha}": data}
    assert await asyncio.to_thread(blobs.has, sha)
    assert await asyncio.to_thread(blobs.get, sha) == data
    with pytest.raises(FileNotFoundError):
        await asyncio.to_thread(blobs.get, "0" * 64)
    assert s3.refused == 0


async def test_a_wrong_secret_is_refused_and_never_shown(s3: FakeS3) -> None:
    blobs = store(s3, secret_key="wrong-secret")
    with pytest.raises(S3Error) as caught:
        await asyncio.to_thread(blobs.put, b"x")
    assert "403" in str(caught.value) and "wrong-secret" not in str(caught.value)
    assert s3.refused == 1 and s3.objects == {}
    assert "wrong-secret" not in repr(blobs.location)


def test_a_bucket_without_credentials_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="s3_bucket"):
        settings_from_dict({"files": {"s3_bucket": "photos"}})


async def test_a_picture_is_kept_in_the_bucket(
        sqlite_url: str, s3: FakeS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = await FakeFeishu(app_id=APP_ID).start()
    monkeypatch.setenv("TEST_S3_SECRET", "s3-secret")
    raw = raw_settings(sqlite_url, fake, tmp_path / "files")
    raw["files"].update({"s3_endpoint": s3.url, "s3_bucket": "photos",
                         "s3_access_key": "AKTEST", "s3_secret_key_env": "TEST_S3_SECRET"})
    settings = settings_from_dict(raw)
    await prepare_demo_database(sqlite_url, platform="feishu", user=USER, chat=CHAT,
                                app_id=APP_ID)
    clock = FixedClock(NOW)
    runtime = await open_runtime(settings, clock=clock)
    channel = FeishuChannel(settings.feishu)
    runtime.add_channel(channel)
    try:
        rig = Rig(fake, runtime, clock, tmp_path / "files")
        await rig.say(REPORT)
        data = png()
        await rig.picture(data)
        assert await rig.later(10) == [texts.PHOTOS_ATTACHED.format(n=1)]
        sha = hashlib.sha256(data).hexdigest()
        assert s3.objects == {f"{sha[:2]}/{sha[2:4]}/{sha}": data}
        assert [p.sha256 for p in await rig.rows(Photo)] == [sha]
        assert not (tmp_path / "files").exists()
    finally:
        await channel.close()
        await runtime.close()
        await fake.close()
