"""Configuration: files, defaults, secrets from the environment, URL mapping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, settings_from_dict
from storage.db import async_url

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_loads_and_matches_defaults() -> None:
    example = load_settings(str(ROOT / "config.example.toml"))
    defaults = settings_from_dict({})
    assert example.server == defaults.server
    assert example.database == defaults.database
    assert example.bot == defaults.bot
    assert example.feishu == ()


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[server]\nport = 9001\n', encoding="utf-8")
    monkeypatch.setenv("JIAOLIAN_CONFIG", str(path))
    assert load_settings().server.port == 9001


def test_secret_from_named_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SECRET", "s3cr3t")
    settings = settings_from_dict({"feishu": {"app_id": "cli_1", "app_secret_env": "MY_SECRET"}})
    assert settings.feishu[0].app_secret == "s3cr3t"
    assert "s3cr3t" not in repr(settings)  # secrets stay out of logs and tracebacks


def test_missing_secret_variable_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="NOPE_NOT_SET"):
        settings_from_dict({"feishu": {"app_id": "cli_1", "app_secret_env": "NOPE_NOT_SET"}})


def test_unknown_key_and_bad_toml_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="prot"):
        settings_from_dict({"server": {"prot": 1}})
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_settings(str(bad))
    with pytest.raises(ConfigError, match="not found"):
        load_settings(str(tmp_path / "missing.toml"))


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIAOLIAN_DATABASE_URL", "postgresql://u@h:5432/db")
    assert settings_from_dict({}).database.url == "postgresql://u@h:5432/db"


@pytest.mark.parametrize(("plain", "driver"), [
    ("sqlite:///var/x.sqlite3", "sqlite+aiosqlite:///var/x.sqlite3"),
    ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
    ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
])
def test_plain_urls_map_to_async_drivers(plain: str, driver: str) -> None:
    assert async_url(plain) == driver


@pytest.mark.parametrize(("toml", "message"), [
    ('[databse]\nurl = "x"\n',
     r"c\.toml: \[databse\]: unknown section \(did you mean \[database\]\?\)"),
    ('[server]\nport = "abc"\n', r"c\.toml: \[server\] port: expected a whole number, got 'abc'"),
    ("[server]\naccess_log = 1\n", r"c\.toml: \[server\] access_log: expected true or false"),
    ('[server]\nlog_level = "LOUD"\n', r"c\.toml: \[server\] log_level: expected one of"),
    ('[bot]\ntimezone = "Mars/Olympus"\n', r"c\.toml: \[bot\] timezone: unknown time zone"),
    ('[feishu]\napp_id = "cli_1"\nmode = "poll"\n', r"c\.toml: \[feishu\] mode: expected one of"),
    ('[feishu]\napp_id = "cli_1"\napp_secert = "x"\n',
     r"c\.toml: \[feishu\] app_secert: unknown key \(did you mean app_secret\?\)"),
    ('[wecom]\nagent_id = "1000002"\n', r"c\.toml: \[wecom\] agent_id: expected a whole number"),
    ('[[wecom.group_webhooks]]\nchat_id = "c"\nkee = "k"\n',
     r"c\.toml: \[wecom\.group_webhooks #1\] kee: unknown key"),
    ('[feishu]\napp_id = "cli_1"\nsends_per_sec = 500\n',
     r"c\.toml: \[feishu\] sends_per_sec: unknown key \(did you mean sends_per_s\?\)"),
    ('[feishu]\napp_id = "cli_1"\nsends_per_s = 0\n',
     r"c\.toml: \[feishu\] sends_per_s: must be at least 1, got 0"),
    ('[feishu]\napp_id = "cli_1"\nsends_per_min = -5\n',
     r"c\.toml: \[feishu\] sends_per_min: must be at least 1, got -5"),
    ('[feishu]\napp_id = "cli_1"\nsends_per_s = "500"\n',
     r"c\.toml: \[feishu\] sends_per_s: expected a whole number, got '500'"),
    ('[feishu]\napp_id = "cli_1"\nsends_per_s = 50.5\n',
     r"c\.toml: \[feishu\] sends_per_s: expected a whole number, got 50\.5"),
    ('[[feishu]]\napp_id = "cli_1"\n[[feishu]]\napp_id = "cli_2"\nsends_per_s = true\n',
     r"c\.toml: \[feishu #2\] sends_per_s: expected a whole number, got True"),
    ('[wecom]\ncorp_id = "ww1"\nwebhook_sends_per_min = 0\n',
     r"c\.toml: \[wecom\] webhook_sends_per_min: must be at least 1, got 0"),
    ('[wecom]\ncorp_id = "ww1"\nmember_sends_per_min = "30"\n',
     r"c\.toml: \[wecom\] member_sends_per_min: expected a whole number"),
    ("[nlu]\nsubject = 1\n", r"c\.toml: \[nlu\] subject: unknown key"),
    ('[nlu.activities.reading]\nnam = "读书"\n',
     r"c\.toml: \[nlu\] activities\.reading\.nam: unknown"),
    ('[scheduler]\nreminder_tme = "08:00"\n', r"c\.toml: \[scheduler\] reminder_tme: unknown key"),
    ('[scheduler]\ntick_seconds = "60"\n', r"c\.toml: \[scheduler\] tick_seconds: expected"),
    ('[[scheduler.quotas]]\nactivity = "lesson_prepp"\nperiod = "month"\n',
     r"c\.toml: \[scheduler\] quotas\[0\]\.activity: unknown activity code 'lesson_prepp'"),
    ('[[scheduler.quotas]]\nactivity = "lesson_prep"\nperiod = "month"\nalso = ["opn"]\n',
     r"c\.toml: \[scheduler\] quotas\[0\]\.activity: unknown activity code 'opn'"),
])
def test_every_mistake_is_one_line_naming_file_section_and_key(
    tmp_path: Path, toml: str, message: str,
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(str(path))
    assert "\n" not in str(caught.value)


def test_send_limits_default_to_the_platforms_documented_figures() -> None:
    """spec/platforms.md: Feishu 50/s and 1000/min per app; WeCom 20/min per group robot and
    30/min per member for the self-built app."""
    settings = settings_from_dict({"feishu": {"app_id": "cli_1"}, "wecom": {"corp_id": "ww1"}})
    assert (settings.feishu[0].sends_per_s, settings.feishu[0].sends_per_min) == (50, 1000)
    assert settings.wecom is not None
    assert (settings.wecom.webhook_sends_per_min, settings.wecom.member_sends_per_min) == (20, 30)


def test_each_feishu_app_has_its_own_send_limits() -> None:
    settings = settings_from_dict({"feishu": [
        {"app_id": "cli_busy", "sends_per_s": 500, "sends_per_min": 30000},
        {"app_id": "cli_calm"},
    ], "wecom": {"corp_id": "ww1", "webhook_sends_per_min": 40, "member_sends_per_min": 60}})
    busy, calm = settings.feishu
    assert (busy.sends_per_s, busy.sends_per_min) == (500, 30000)
    assert (calm.sends_per_s, calm.sends_per_min) == (50, 1000)
    assert settings.wecom is not None
    assert (settings.wecom.webhook_sends_per_min, settings.wecom.member_sends_per_min) == (40, 60)


def test_a_county_activity_may_have_a_quota(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[nlu.activities.reading]\nname = "读书分享"\ntriggers = ["读书分享"]\n'
                    '[[scheduler.quotas]]\nactivity = "reading"\nperiod = "month"\n',
                    encoding="utf-8")
    assert load_settings(str(path)).scheduler["quotas"][0]["activity"] == "reading"


def test_example_config_with_its_examples_switched_on_loads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """Every commented key of the example, uncommented, is a key the loader knows."""
    for name in ("FEISHU_APP_SECRET", "FEISHU_VERIFICATION_TOKEN", "FEISHU_ENCRYPT_KEY",
                 "WECOM_ROBOT_TOKEN", "WECOM_ROBOT_AES_KEY", "WECOM_APP_SECRET", "WECOM_APP_TOKEN",
                 "WECOM_APP_AES_KEY",
                 "WECOM_HOOK_SIDING", "JIAOLIAN_PAGES_SECRET"):
        monkeypatch.setenv(name, "x" * 43)
    lines = []
    for line in (ROOT / "config.example.toml").read_text(encoding="utf-8").splitlines():
        body = line.removeprefix("# ")
        if line.startswith("# ") and re.match(r"(\[\[?[a-z_.]+\]\]?|[a-z_]+ = )", body) and \
                not body.startswith(("url =", "default_length_minutes = 120")):
            line = body
        lines.append(line)
    path = tmp_path / "all.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    settings = load_settings(str(path))
    assert settings.feishu[0].app_id == "cli_a1b2c3d4e5"
    assert settings.wecom is not None and settings.wecom.group_webhooks[0].key == "x" * 43
