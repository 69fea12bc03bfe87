"""TOML configuration → typed settings.

Order: `--config FILE`, else `$JIAOLIAN_CONFIG`, else `./config.toml`, else built-in defaults.
A secret may be given inline or as the name of an environment variable (`*_env` keys), so
that config files can be committed without secrets. Every section and key is checked: an
unknown one or a wrong type is a one-line ConfigError naming the file, section and key.
Imports nothing of ours but the checks of the `[nlu]` and `[scheduler]` tables (at load).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DB_URL = "sqlite:///var/jiaolian.sqlite3"
DEMO_DB_URL = "sqlite:///var/demo.sqlite3"

# The platforms' documented send limits (spec/platforms.md, as docs/feishu.md and
# docs/wecom.md give them): the defaults of the send-limit settings, and kept nowhere else.
# Feishu 50/s and 1000/min per app; WeCom 20/min per group robot, 30/min per member for the
# self-built app. WeCom drops what goes over without an error: raise its figures only when
# WeCom has raised them for you.
FEISHU_SENDS_PER_S = 50
FEISHU_SENDS_PER_MIN = 1000
WECOM_WEBHOOK_SENDS_PER_MIN = 20
WECOM_MEMBER_SENDS_PER_MIN = 30


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
    # This app's send limits (messages and replies, all chats together).
    sends_per_s: int = FEISHU_SENDS_PER_S
    sends_per_min: int = FEISHU_SENDS_PER_MIN


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
    # Send limits: each group webhook robot's, and the self-built app's to one member.
    webhook_sends_per_min: int = WECOM_WEBHOOK_SENDS_PER_MIN
    member_sends_per_min: int = WECOM_MEMBER_SENDS_PER_MIN


@dataclass(frozen=True)
class PagesSettings:
    """The web pages opened from `看板` (docs/pages.md): off without a public address."""

    # The address people's phones reach `jiaolian serve` at, e.g. https://jiaolian.example.cn
    public_url: str = ""
    # The key that signs one-time links; empty: one is made and kept in the database.
    secret: str = field(default="", repr=False)
    link_minutes: int = 10
    session_minutes: int = 480
    # Sign in directly inside the app through the platform's web login (OAuth2).
    wecom_login: bool = False
    feishu_login: bool = False


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    bot: BotSettings = field(default_factory=BotSettings)
    files: FilesSettings = field(default_factory=FilesSettings)
    feishu: tuple[FeishuApp, ...] = ()
    wecom: WeComSettings | None = None
    pages: PagesSettings = field(default_factory=PagesSettings)
    # Raw tables for parts that type their own section (handlers.nlu, scheduler).
    nlu: dict[str, Any] = field(default_factory=dict)
    scheduler: dict[str, Any] = field(default_factory=dict)
    source: str = "defaults"


# Secrets may be given inline or as `<key>_env` naming an environment variable.
_FEISHU_SECRETS = ("app_secret", "verification_token", "encrypt_key")
_WECOM_SECRETS = ("token", "encoding_aes_key", "app_secret", "app_token",
                  "app_encoding_aes_key")
FEISHU_MODES = ("webhook", "long_connection")
# Send limits: whole numbers of at least 1 (0 would stop every send for good).
_FEISHU_RATES = ("sends_per_s", "sends_per_min")
_WECOM_RATES = ("webhook_sends_per_min", "member_sends_per_min")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECTIONS = ("server", "database", "bot", "files", "feishu", "wecom", "pages", "nlu",
            "scheduler")


class _Checker:
    """Checks one file's tables; every error names the file, the section and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, section: str, key: str | None, problem: str) -> ConfigError:
        where = f"[{section}] {key}" if key else f"[{section}]"
        return ConfigError(f"{self.source}: {where}: {problem}")

    def table(self, raw: Any, section: str) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(section, None, f"expected a table, got {_shown(raw)}")
        return raw

    def keys(self, table: dict[str, Any], section: str, known: set[str]) -> None:
        for key in table:
            if key not in known:
                hint = difflib.get_close_matches(key, sorted(known), n=1)
                also = f" (did you mean {hint[0]}?)" if hint else ""
                raise self.fail(section, key, f"unknown key{also}")

    def value(self, table: dict[str, Any], section: str, key: str, kind: type) -> None:
        if key not in table:
            return
        value = table[key]
        ok = (isinstance(value, kind) and not (kind is int and isinstance(value, bool)))
        if not ok:
            raise self.fail(section, key, f"expected {_KIND_NAMES[kind]}, got {_shown(value)}")

    def positive(self, table: dict[str, Any], section: str, key: str) -> None:
        self.value(table, section, key, int)
        if key in table and table[key] < 1:
            raise self.fail(section, key, f"must be at least 1, got {table[key]!r}")

    def dataclass_table(self, raw: Any, section: str, cls: type) -> Any:
        table = self.table(raw, section)
        hints = typing.get_type_hints(cls)
        self.keys(table, section, set(hints))
        for key in table:
            self.value(table, section, key, hints[key])
        return cls(**table)

    def secrets(self, table: dict[str, Any], section: str,
                keys: tuple[str, ...]) -> dict[str, str]:
        out = {}
        for key in keys:
            self.value(table, section, key, str)
            self.value(table, section, f"{key}_env", str)
            try:
                out[key] = _secret(table, key)
            except ConfigError as exc:
                raise self.fail(section, f"{key}_env", str(exc).split(": ", 1)[-1]) from exc
        return out


_KIND_NAMES: dict[type, str] = {int: "a whole number", str: "a string", bool: "true or false"}


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _feishu_apps(raw: Any, check: _Checker) -> tuple[FeishuApp, ...]:
    if not raw:
        return ()
    tables = raw if isinstance(raw, list) else [raw]
    known = {"app_id", "mode", "api_base", "bot_open_id", "timestamp_window_s",
             *_FEISHU_RATES, *_FEISHU_SECRETS, *(f"{k}_env" for k in _FEISHU_SECRETS)}
    apps = []
    for n, t in enumerate(tables):
        section = "feishu" if len(tables) == 1 else f"feishu #{n + 1}"
        t = check.table(t, section)
        check.keys(t, section, known)
        for key in ("app_id", "mode", "api_base", "bot_open_id"):
            check.value(t, section, key, str)
        check.value(t, section, "timestamp_window_s", int)
        for key in _FEISHU_RATES:
            check.positive(t, section, key)
        if t.get("mode", "webhook") not in FEISHU_MODES:
            raise check.fail(section, "mode", f"expected one of {', '.join(FEISHU_MODES)}, "
                             f"got {_shown(t['mode'])}")
        if not t.get("app_id"):
            continue
        apps.append(
            FeishuApp(
                app_id=str(t["app_id"]),
                **check.secrets(t, section, _FEISHU_SECRETS),
                mode=str(t.get("mode", "webhook")),
                api_base=str(t.get("api_base", "https://open.feishu.cn")).rstrip("/"),
                bot_open_id=str(t.get("bot_open_id", "")),
                timestamp_window_s=int(t.get("timestamp_window_s", 3600)),
                sends_per_s=int(t.get("sends_per_s", FEISHU_SENDS_PER_S)),
                sends_per_min=int(t.get("sends_per_min", FEISHU_SENDS_PER_MIN)),
            )
        )
    return tuple(apps)


def _wecom(raw: Any, check: _Checker) -> WeComSettings | None:
    raw = check.table(raw, "wecom")
    if not raw:
        return None
    check.keys(raw, "wecom", {"corp_id", "agent_id", "api_base", "timestamp_window_s",
                              "group_webhooks", *_WECOM_RATES, *_WECOM_SECRETS,
                              *(f"{k}_env" for k in _WECOM_SECRETS)})
    for key in ("corp_id", "api_base"):
        check.value(raw, "wecom", key, str)
    for key in ("agent_id", "timestamp_window_s"):
        check.value(raw, "wecom", key, int)
    for key in _WECOM_RATES:
        check.positive(raw, "wecom", key)
    hook_tables = raw.get("group_webhooks", [])
    if not isinstance(hook_tables, list):
        raise check.fail("wecom", "group_webhooks", "expected [[wecom.group_webhooks]] tables")
    hooks = []
    for n, t in enumerate(hook_tables):
        section = f"wecom.group_webhooks #{n + 1}"
        t = check.table(t, section)
        check.keys(t, section, {"chat_id", "key", "key_env"})
        check.value(t, section, "chat_id", str)
        if t.get("chat_id"):
            hooks.append(WeComGroupWebhook(chat_id=str(t["chat_id"]),
                                           **check.secrets(t, section, ("key",))))
    try:
        return WeComSettings(
            corp_id=str(raw.get("corp_id", "")),
            agent_id=int(raw.get("agent_id", 0)),
            api_base=str(raw.get("api_base", "https://qyapi.weixin.qq.com")).rstrip("/"),
            timestamp_window_s=int(raw.get("timestamp_window_s", 3600)),
            group_webhooks=tuple(hooks),
            webhook_sends_per_min=int(raw.get("webhook_sends_per_min",
                                              WECOM_WEBHOOK_SENDS_PER_MIN)),
            member_sends_per_min=int(raw.get("member_sends_per_min",
                                             WECOM_MEMBER_SENDS_PER_MIN)),
            **check.secrets(raw, "wecom", _WECOM_SECRETS),
        )
    except ValueError as exc:
        raise ConfigError(f"{check.source}: [wecom]: {exc}") from exc


def _check_typed_elsewhere(settings: Settings, check: _Checker) -> None:
    """`[nlu]` and `[scheduler]` are typed by their own modules; building them here makes a
    bad key fail at load time, named like the rest."""
    from handlers.nlu.lexicon import NluConfigError, check_nlu_table
    from handlers.quotas import QuotaConfigError
    from scheduler.config import SchedulerConfigError, check_scheduler_table, config_for

    try:
        check_nlu_table(settings.nlu)
    except NluConfigError as exc:
        raise _named(check, "nlu", str(exc)) from exc
    try:
        check_scheduler_table(settings.scheduler)
        config_for(scheduler=settings.scheduler, nlu=settings.nlu,
                   timezone=settings.bot.timezone)
    except (SchedulerConfigError, QuotaConfigError) as exc:
        raise _named(check, "scheduler", str(exc)) from exc


def _named(check: _Checker, section: str, message: str) -> ConfigError:
    """"scheduler.quotas[0].activity: …" → "file: [scheduler] quotas[0].activity: …"."""
    key, _, problem = message.partition(": ")
    key = key.removeprefix(f"{section}.").removeprefix(section)
    if not problem:
        key, problem = "", message
    return check.fail(section, key or None, problem)


_FILES_SECRETS = ("s3_access_key", "s3_secret_key")


def _files(raw: Any, check: _Checker) -> FilesSettings:
    """`[files]`: typed like the other sections; the bucket's keys may come from the
    environment (`s3_access_key_env`)."""
    table = check.table(raw, "files")
    check.keys(table, "files", {*typing.get_type_hints(FilesSettings),
                                *(f"{k}_env" for k in _FILES_SECRETS)})
    plain = {k: v for k, v in table.items()
             if k not in _FILES_SECRETS and not k.endswith("_env")}
    files: FilesSettings = dataclasses.replace(
        check.dataclass_table(plain, "files", FilesSettings),
        **check.secrets(table, "files", _FILES_SECRETS))
    if files.s3_bucket and not (files.s3_endpoint and files.s3_access_key
                                and files.s3_secret_key):
        raise check.fail("files", "s3_bucket", "needs s3_endpoint, s3_access_key and "
                         "s3_secret_key")
    return files


def _pages(raw: Any, check: _Checker) -> PagesSettings:
    """`[pages]`: typed like the rest; the signing key may come from the environment."""
    table = check.table(raw, "pages")
    check.keys(table, "pages", {*typing.get_type_hints(PagesSettings), "secret_env"})
    plain = {k: v for k, v in table.items() if k not in ("secret", "secret_env")}
    pages: PagesSettings = dataclasses.replace(
        check.dataclass_table(plain, "pages", PagesSettings),
        **check.secrets(table, "pages", ("secret",)))
    url = pages.public_url.rstrip("/")
    if url and not url.startswith(("https://", "http://")):
        raise check.fail("pages", "public_url", f"expected an http(s):// address, got {url!r}")
    for key in ("link_minutes", "session_minutes"):
        if getattr(pages, key) < 1:
            raise check.fail("pages", key, "must be at least 1")
    return dataclasses.replace(pages, public_url=url)


def settings_from_dict(raw: dict[str, Any], *, source: str = "dict") -> Settings:
    """Build settings from an already-parsed TOML table (tests use this directly); anything
    unknown or of the wrong type is a ConfigError naming the source, section and key."""
    check = _Checker(source)
    for section in raw:
        if section not in SECTIONS:
            hint = difflib.get_close_matches(section, SECTIONS, n=1)
            also = f" (did you mean [{hint[0]}]?)" if hint else ""
            raise ConfigError(f"{source}: [{section}]: unknown section{also}")
    server = check.dataclass_table(raw.get("server"), "server", ServerSettings)
    if server.log_level.upper() not in LOG_LEVELS:
        raise check.fail("server", "log_level", f"expected one of {', '.join(LOG_LEVELS)}, "
                         f"got {server.log_level!r}")
    db_table = dict(check.table(raw.get("database"), "database"))
    if "JIAOLIAN_DATABASE_URL" in os.environ:
        db_table["url"] = os.environ["JIAOLIAN_DATABASE_URL"]
    settings = Settings(
        server=server,
        database=check.dataclass_table(db_table, "database", DatabaseSettings),
        bot=check.dataclass_table(raw.get("bot"), "bot", BotSettings),
        files=_files(raw.get("files"), check),
        feishu=_feishu_apps(raw.get("feishu"), check),
        wecom=_wecom(raw.get("wecom"), check),
        pages=_pages(raw.get("pages"), check),
        nlu=dict(check.table(raw.get("nlu"), "nlu")),
        scheduler=dict(check.table(raw.get("scheduler"), "scheduler")),
        source=source,
    )
    try:
        ZoneInfo(settings.bot.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise check.fail("bot", "timezone", f"unknown time zone {settings.bot.timezone!r}"
                         ) from exc
    if settings.pages.wecom_login and not (settings.wecom and settings.wecom.corp_id
                                           and settings.wecom.app_secret):
        raise check.fail("pages", "wecom_login", "needs [wecom] corp_id and app_secret")
    if settings.pages.feishu_login and not settings.feishu:
        raise check.fail("pages", "feishu_login", "needs a [feishu] app")
    _check_typed_elsewhere(settings, check)
    return settings


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
