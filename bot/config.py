"""TOML configuration → typed settings.

Order: `--config FILE`, else `$JIAOLIAN_CONFIG`, else `./config.toml`, else built-in defaults.
A secret may be given inline or as the name of an environment variable (`*_env` keys), so
that config files can be committed without secrets. Imports nothing of ours.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DB_URL = "sqlite:///var/jiaolian.sqlite3"
DEMO_DB_URL = "sqlite:///var/demo.sqlite3"


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says which key and why."""


def _secret(table: dict[str, Any], key: str) -> str:
    """`key = "…"` inline, or `key_env = "ENV_NAME"` naming an environment variable."""
    env_name = table.get(f"{key}_env")
    if env_name:
        value = os.environ.get(str(env_name))
        if value is None:
            raise ConfigError(f"{key}_env names ${env_name}, which is not set")
        return value
    return str(table.get(key, ""))


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 256 * 1024
    log_level: str = "INFO"
    access_log: bool = False


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = DEFAULT_DB_URL
    echo: bool = False


@dataclass(frozen=True)
class BotSettings:
    name: str = "教联助手"
    timezone: str = "Asia/Shanghai"
    # Follow-up questions expire after this many minutes without an answer.
    followup_minutes: int = 30


@dataclass(frozen=True)
class FilesSettings:
    """Where photos and produced workbooks are kept, and how large a picture may be."""

    dir: str = "var/files"
    max_image_bytes: int = 10 * 1024 * 1024
    # An S3-compatible bucket instead of `dir` when `s3_bucket` is set (docs/photos.md).
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_prefix: str = ""
    s3_access_key: str = field(default="", repr=False)
    s3_secret_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class FeishuApp:
    app_id: str
    app_secret: str = field(repr=False)
    verification_token: str = field(default="", repr=False)
    encrypt_key: str = field(default="", repr=False)
    mode: str = "webhook"
    api_base: str = "https://open.feishu.cn"
    bot_open_id: str = ""
    timestamp_window_s: int = 3600


@dataclass(frozen=True)
class WeComGroupWebhook:
    """A group robot (消息推送) that lets the bot start messages in one chat."""

    chat_id: str
    key: str = field(repr=False)


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str = ""
    # The intelligent robot's callback (智能机器人 → 接收消息).
    token: str = field(default="", repr=False)
    encoding_aes_key: str = field(default="", repr=False)
    # The self-built app (自建应用) that writes to people privately.
    agent_id: int = 0
    app_secret: str = field(default="", repr=False)
    api_base: str = "https://qyapi.weixin.qq.com"
    timestamp_window_s: int = 3600
    group_webhooks: tuple[WeComGroupWebhook, ...] = ()
    # The self-built app's own callback (自建应用 → 接收消息 → 设置API接收): private messages.
    app_token: str = field(default="", repr=False)
    app_encoding_aes_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    bot: BotSettings = field(default_factory=BotSettings)
    files: FilesSettings = field(default_factory=FilesSettings)
    feishu: tuple[FeishuApp, ...] = ()
    wecom: WeComSettings | None = None
    # Raw tables for parts that type their own section (handlers.nlu, scheduler).
    nlu: dict[str, Any] = field(default_factory=dict)
    scheduler: dict[str, Any] = field(default_factory=dict)
    source: str = "defaults"


def _feishu_apps(raw: Any) -> tuple[FeishuApp, ...]:
    if not raw:
        return ()
    tables = raw if isinstance(raw, list) else [raw]
    apps = []
    for t in tables:
        if not t.get("app_id"):
            continue
        apps.append(
            FeishuApp(
                app_id=str(t["app_id"]),
                app_secret=_secret(t, "app_secret"),
                verification_token=_secret(t, "verification_token"),
                encrypt_key=_secret(t, "encrypt_key"),
                mode=str(t.get("mode", "webhook")),
                api_base=str(t.get("api_base", "https://open.feishu.cn")).rstrip("/"),
                bot_open_id=str(t.get("bot_open_id", "")),
                timestamp_window_s=int(t.get("timestamp_window_s", 3600)),
            )
        )
    return tuple(apps)


def _wecom(raw: Any) -> WeComSettings | None:
    if not raw:
        return None
    hooks = tuple(
        WeComGroupWebhook(chat_id=str(t["chat_id"]), key=_secret(t, "key"))
        for t in raw.get("group_webhooks", []) if t.get("chat_id")
    )
    try:
        return WeComSettings(
            corp_id=str(raw.get("corp_id", "")),
            token=_secret(raw, "token"),
            encoding_aes_key=_secret(raw, "encoding_aes_key"),
            agent_id=int(raw.get("agent_id", 0)),
            app_secret=_secret(raw, "app_secret"),
            api_base=str(raw.get("api_base", "https://qyapi.weixin.qq.com")).rstrip("/"),
            timestamp_window_s=int(raw.get("timestamp_window_s", 3600)),
            group_webhooks=hooks,
            app_token=_secret(raw, "app_token"),
            app_encoding_aes_key=_secret(raw, "app_encoding_aes_key"),
        )
    except ValueError as exc:
        raise ConfigError(f"[wecom]: {exc}") from exc


def _files(raw: dict[str, Any]) -> FilesSettings:
    table = {k: v for k, v in raw.items() if k not in ("s3_access_key_env", "s3_secret_key_env")}
    for key in ("s3_access_key", "s3_secret_key"):
        table[key] = _secret(raw, key)
    files = FilesSettings(**table)
    if files.s3_bucket and not (files.s3_endpoint and files.s3_access_key
                                and files.s3_secret_key):
        raise ConfigError("[files] s3_bucket needs s3_endpoint, s3_access_key, s3_secret_key")
    return files


def settings_from_dict(raw: dict[str, Any], *, source: str = "dict") -> Settings:
    """Build settings from an already-parsed TOML table (tests use this directly)."""
    try:
        server = ServerSettings(**raw.get("server", {}))
        db_table = dict(raw.get("database", {}))
        if "JIAOLIAN_DATABASE_URL" in os.environ:
            db_table["url"] = os.environ["JIAOLIAN_DATABASE_URL"]
        database = DatabaseSettings(**db_table)
        bot = BotSettings(**raw.get("bot", {}))
        files = _files(raw.get("files", {}))
    except TypeError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    return Settings(
        server=server,
        database=database,
        bot=bot,
        files=files,
        feishu=_feishu_apps(raw.get("feishu")),
        wecom=_wecom(raw.get("wecom")),
        nlu=dict(raw.get("nlu", {})),
        scheduler=dict(raw.get("scheduler", {})),
        source=source,
    )


def config_path(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("JIAOLIAN_CONFIG")
    if env:
        return Path(env)
    local = Path("config.toml")
    return local if local.exists() else None


def load_settings(explicit: str | None = None) -> Settings:
    path = config_path(explicit)
    if path is None:
        return settings_from_dict({}, source="defaults")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return settings_from_dict(raw, source=str(path))
