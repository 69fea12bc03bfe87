"""Configuration: files, defaults, secrets from the environment, URL mapping."""

from __future__ import annotations

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
