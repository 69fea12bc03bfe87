"""The command line: every user error is one line and a non-zero exit, a traceback only with
--debug; read-only commands never create a database or a folder; --config before or after the
subcommand; serve checks its port before it announces anything."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.config import ConfigError
from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and no configuration from the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JIAOLIAN_CONFIG", raising=False)
    monkeypatch.delenv("JIAOLIAN_DATABASE_URL", raising=False)
    return tmp_path


def config(here: Path, url: str, extra: str = "") -> str:
    path = here / "c.toml"
    path.write_text(f'[database]\nurl = "{url}"\n{extra}', encoding="utf-8")
    return str(path)


def fails_in_one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code != 0, (out, err)
    assert err.count("\n") == 1 and err.startswith("jiaolian: "), err
    assert "Traceback" not in err
    return err


def test_read_only_commands_create_no_database_and_no_folder(
    here: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = config(here, "sqlite:///data/db/bot.sqlite3")
    for argv in (["records"], ["roster", "export", "out.csv"], ["parse", "签到"],
                 ["remind", "--at", "2026-11-26 08:00", "--dry-run"],
                 ["digest", "--week", "2026-W47", "--dry-run"]):
        code = main([*argv, "--config", cfg])
        out, err = capsys.readouterr()
        assert code != 0, argv
        assert "data/db/bot.sqlite3" in err, (argv, err)
        assert err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in here.iterdir()) == ["c.toml"]


def test_config_goes_before_or_after_the_subcommand(
    here: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = config(here, "sqlite:///before-or-after.sqlite3")
    assert "before-or-after.sqlite3" in fails_in_one_line(capsys, ["--config", cfg, "records"])
    assert "before-or-after.sqlite3" in fails_in_one_line(capsys, ["records", "--config", cfg])
    assert "before-or-after.sqlite3" in fails_in_one_line(
        capsys, ["--config", cfg, "remind", "--at", "2026-11-26 08:00", "--dry-run"])


def test_bad_values_are_one_line(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(here, "sqlite:///ok.sqlite3")
    assert main(["db", "upgrade", "--config", cfg]) == 0
    err = fails_in_one_line(capsys, ["records", "--from", "2026-13-01", "--config", cfg])
    assert "--from" in err and "2026-13-01" in err
    err = fails_in_one_line(capsys, ["parse", "--demo", "--now", "garbage", "签到"])
    assert "--now" in err and "garbage" in err
    bad = here / "bad.toml"
    bad.write_text('[server]\nport = "abc"\n', encoding="utf-8")
    err = fails_in_one_line(capsys, ["records", "--config", str(bad)])
    assert "bad.toml: [server] port: expected a whole number" in err


def test_usage_mistakes_are_one_line(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["records", "--bogus"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--bogus" in err


def test_debug_shows_the_traceback(here: Path) -> None:
    with pytest.raises(ConfigError, match="--now"):
        main(["parse", "--demo", "--now", "garbage", "签到", "--debug"])


def test_unreachable_postgresql_and_a_missing_database_are_one_line(
    here: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = config(here, f"postgresql://postgres@127.0.0.1:{port}/nothing")
    err = fails_in_one_line(capsys, ["records", "--config", cfg])
    assert "cannot open the database" in err
    if not PG_URL:
        pytest.skip("no PostgreSQL configured")
    missing = make_url(PG_URL).set(database=f"jl_missing_{uuid.uuid4().hex[:8]}")
    cfg = config(here, missing.render_as_string(hide_password=False))
    err = fails_in_one_line(capsys, ["records", "--config", cfg])
    assert "does not exist" in err or "cannot open the database" in err


def test_serve_on_a_port_in_use_is_one_line_before_any_announcement(
    here: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        cfg = config(here, "sqlite:///serve.sqlite3", f"[server]\nport = {port}\n")
        err = fails_in_one_line(capsys, ["serve", "--config", cfg])
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "serving on" not in caplog.text


def test_member_link_twice_and_the_demo_database(
    here: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["db", "init", "--demo"]) == 0
    assert "var/demo.sqlite3" in capsys.readouterr().err
    assert main(["member", "link", "console", "u-1", "张丽", "--demo"]) == 0
    err = fails_in_one_line(capsys, ["member", "link", "console", "u-1", "张丽", "--demo"])
    assert "console:u-1 is already linked" in err
    assert main(["db", "reset", "--demo"]) == 0
    assert "started over: var/demo.sqlite3" in capsys.readouterr().err
    assert main(["member", "link", "console", "u-1", "张丽", "--demo"]) == 0
    err = fails_in_one_line(capsys, ["db", "reset"])
    assert "--demo" in err


def test_output_cut_short_by_head_is_quiet(here: Path) -> None:
    lines = "\n".join(["签到"] * 3000) + "\n"
    run = subprocess.run(
        f"{sys.executable} -m bot.cli parse --demo --now 2026-11-26T10:00 | head -n 1",
        shell=True, input=lines.encode(), capture_output=True, cwd=here, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert run.stdout.decode().count("\n") == 1
    assert run.stderr.decode() == ""


def test_serve_refuses_an_unreachable_postgresql_before_announcing(
    here: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        db_port = probe.getsockname()[1]
    cfg = config(here, f"postgresql://postgres@127.0.0.1:{db_port}/x", "[server]\nport = 0\n")
    err = fails_in_one_line(capsys, ["serve", "--config", cfg])
    assert "cannot open the database" in err
    assert "serving on" not in caplog.text


def test_serve_names_its_channels_and_endpoints() -> None:
    from bot.cli import _served
    from bot.config import settings_from_dict

    lines = _served(settings_from_dict({
        "feishu": [{"app_id": "cli_a", "app_secret": "s"},
                   {"app_id": "cli_b", "app_secret": "s", "mode": "long_connection"}],
        "wecom": {"corp_id": "ww1", "token": "t", "encoding_aes_key": "a" * 43}}))
    assert lines == [
        "channel feishu (app cli_a, webhook): POST /feishu/events, POST /feishu/card",
        "channel feishu (app cli_b, long_connection): a long connection to Feishu "
        "(no public endpoint)",
        "channel wecom (corp ww1): GET/POST /wecom/callback",
        "health: GET /healthz; metrics: GET /metrics",
    ]
    assert _served(settings_from_dict({}))[0].startswith("no channel configured")
