"""Configuration: the example file is valid, and a bad file names the key and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_is_valid_and_lists_its_hub(capsys):
    assert main(["--config", str(EXAMPLE), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "configuration OK: 1 hub(s)" in out and "woking" in out


def test_imm_config_variable_names_the_file(monkeypatch, capsys):
    monkeypatch.setenv("IMM_CONFIG", str(EXAMPLE))
    assert main(["check-config"]) == 0


def test_the_console_script_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(EXAMPLE), "check-config"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("snippet", "key"),
    [
        ('[[hubs]]\nid = "wok ing"\nname = "W"\n', "hubs[0].id"),
        ('[[hubs]]\nid = "' + "a" * 65 + '"\nname = "W"\n', "hubs[0].id"),
        ('[[hubs]]\nid = "w"\nname = "W"\ntimezone = "Europe/Lundon"\n', "hubs[0].timezone"),
        ('[[hubs]]\nid = "w"\nname = "W"\n[[hubs.weekly]]\nweekday = "funday"\nstart = "10:00"\n',
         "hubs[0].weekly[0].weekday"),
        ('[[hubs]]\nid = "w"\nname = "W"\ncoordinators = ["bob"]\n', "hubs[0].coordinators[0]"),
        ('[telegram]\ntokn = "x"\n', "telegram.tokn"),
        ('[telegram]\napi_base_url = "ftp://x"\n', "telegram.api_base_url"),
        ('[[hubs]]\nid = "w"\nname = "W"\n[[hubs]]\nid = "w"\nname = "V"\n',
         "hubs[1].id: hub id 'w' is already used by hubs[0]"),
    ],
)
def test_a_bad_file_exits_2_naming_the_key(tmp_path, capsys, snippet, key):
    path = write(tmp_path, snippet)
    assert main(["--config", str(path), "check-config"]) == 2
    assert key in capsys.readouterr().err


def test_broken_toml_and_missing_file_exit_2(tmp_path, capsys):
    assert main(["--config", str(write(tmp_path, "[telegram\n")), "check-config"]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["--config", str(tmp_path / "nope.toml"), "check-config"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, '[telegram]\ntoken = "from-file"\nconcurrent_updates = 8\n')
    monkeypatch.setenv("IMM_TELEGRAM__TOKEN", "from-env")
    settings = load_settings(path)
    assert settings.telegram.token == "from-env"
    assert settings.telegram.concurrent_updates == 8


def test_a_bad_environment_value_names_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("IMM_TELEGRAM__CONCURRENT_UPDATES", "lots")
    with pytest.raises(ConfigError, match=r"telegram\.concurrent_updates"):
        load_settings(write(tmp_path, ""))


@pytest.mark.parametrize(("text", "key", "secret"), [
    ('[telegram.webhook]\nsecret_token = "s3cr3t value with spaces!"\n', "telegram.webhook.secret_token",
     "s3cr3t value with spaces!"),
    ('[telegram]\ntoken = 123456789\n', "telegram.token", "123456789"),
    ('[telegram]\ntokne = "123456:AAHsuperSecretToken"\n', "telegram.tokne", "AAHsuperSecretToken"),
    ('[privacy]\nerasure_key = ["k3y-material-xyz"]\n', "privacy.erasure_key", "k3y-material-xyz"),
])
def test_a_configuration_error_names_the_key_and_the_problem_never_a_secrets_value(tmp_path, capsys, text, key,
                                                                                   secret):
    path = write(tmp_path, text)
    assert main(["--config", str(path), "check-config"]) == 2
    err = capsys.readouterr().err
    assert key in err and secret not in err, err
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert secret not in str(raised.value) and secret not in repr(raised.value.__cause__ or "")


def test_a_secret_in_an_environment_variable_is_not_echoed_either(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IMM_TELEGRAM__WEBHOOK__SECRET_TOKEN", "bad secret/with+chars")
    path = write(tmp_path, "")
    assert main(["--config", str(path), "check-config"]) == 2
    err = capsys.readouterr().err
    assert "telegram.webhook.secret_token" in err and "bad secret" not in err


def test_a_value_that_is_not_secret_is_still_shown(tmp_path, capsys):
    path = write(tmp_path, '[[hubs]]\nid = "w"\nname = "W"\ntimezone = "Mars/Olympus"\n')
    assert main(["--config", str(path), "check-config"]) == 2
    assert "Mars/Olympus" in capsys.readouterr().err


HUB = '[[hubs]]\nid = "w"\nname = "W"\n'


@pytest.mark.parametrize(
    ("snippet", "key"),
    [
        (HUB + '[[hubs.weekly]]\nweekday = "tuesday"\nstart = "10:53:18"\n', "hubs[0].weekly[0].start"),
        (HUB + '[[hubs.weekly]]\nweekday = "tuesday"\nstart = 10:00:30\n', "hubs[0].weekly[0].start"),
        (HUB + '[[hubs.weekly]]\nweekday = "tuesday"\nstart = "9:30"\n', "hubs[0].weekly[0].start"),
        (HUB + '[[hubs.weekly]]\nweekday = "tuesday"\nstart = "24:00"\n', "hubs[0].weekly[0].start"),
        (HUB + '[[hubs.reminders]]\ndays_before = 1\nat = "18:00:05"\n', "hubs[0].reminders[0].at"),
        (HUB + '[[hubs.events]]\ndate = 2026-12-12\nstart = "14:00:00"\n', "hubs[0].events[0].start"),
        (HUB + '[hubs.weekly_summary]\nat = "9am"\n', "hubs[0].weekly_summary.at"),
        ('[retention]\nrun_at = "03:30:00"\n', "retention.run_at"),
    ],
)
def test_a_time_that_is_not_hh_mm_exits_2_naming_the_key(tmp_path, capsys, snippet, key):
    assert main(["--config", str(write(tmp_path, snippet)), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"{key}: must be a time of day as HH:MM" in err, err


def test_hh_mm_and_toml_times_without_seconds_are_accepted(tmp_path):
    settings = load_settings(write(tmp_path, HUB + '[[hubs.weekly]]\nweekday = "tuesday"\nstart = "09:30"\n'
                                   '[[hubs.reminders]]\ndays_before = 1\nat = 18:00:00\n'))
    assert settings.hubs[0].weekly[0].start.isoformat() == "09:30:00"
    assert settings.hubs[0].reminders[0].key == "d1@1800"


@pytest.mark.parametrize(
    ("snippet", "both"),
    [
        (HUB + '[[hubs.weekly]]\nweekday = "tuesday"\nstart = "10:00"\n'
         '[[hubs.weekly]]\nweekday = "thursday"\nstart = "10:00"\n'
         '[[hubs.weekly]]\nweekday = "tuesday"\nstart = "10:00"\nduration_minutes = 60\n',
         "hubs[0]: weekly[0] and weekly[2] collide (both tuesday 10:00)"),
        (HUB + '[[hubs.reminders]]\nminutes_before = 60\n[[hubs.reminders]]\nminutes_before = 60\n',
         "hubs[0]: reminders[0] and reminders[1] collide"),
        (HUB + '[[hubs.events]]\ndate = 2026-12-12\nstart = "14:00"\n'
         '[[hubs.events]]\ndate = 2026-12-12\nstart = "14:00"\ntitle = "Again"\n',
         "hubs[0]: events[0] and events[1] collide"),
    ],
)
def test_two_slots_events_or_rules_that_would_collide_exit_2_naming_both(tmp_path, capsys, snippet, both):
    assert main(["--config", str(write(tmp_path, snippet)), "check-config"]) == 2
    err = capsys.readouterr().err
    assert both in err, err


def clean_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("IMM_")]:
        monkeypatch.delenv(name)


def test_run_with_a_configuration_but_no_token_exits_2_naming_the_key(tmp_path, monkeypatch, capsys):
    clean_environment(monkeypatch, tmp_path)
    assert main(["--config", str(EXAMPLE), "run"]) == 2
    err = capsys.readouterr().err
    assert "telegram.token is not set" in err
    monkeypatch.setenv("IMM_CONFIG", str(EXAMPLE))
    assert main(["run"]) == 2
    monkeypatch.delenv("IMM_CONFIG")
    (tmp_path / "config.toml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["run"]) == 2
    (tmp_path / "config.toml").unlink()
    monkeypatch.setenv("IMM_STORAGE__PATH", str(tmp_path / "x.sqlite3"))  # as the Docker image sets
    assert main(["run"]) == 2
    assert "telegram.token" in capsys.readouterr().err


def test_the_deployed_command_line_exits_2_so_systemd_does_not_restart_a_demo(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("IMM_")}
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(EXAMPLE), "run"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "telegram.token" in result.stderr
    assert "demo" not in result.stdout


def test_check_config_says_what_run_would_do_without_a_token(tmp_path, monkeypatch, capsys):
    clean_environment(monkeypatch, tmp_path)
    assert main(["--config", str(EXAMPLE), "check-config"]) == 0
    assert "`run` would exit 2" in capsys.readouterr().out
    assert main(["check-config"]) == 2
    err = capsys.readouterr().err
    assert "no configuration found" in err and "copy config.example.toml to config.toml" in err


def test_check_config_without_any_configuration_exits_2_saying_how_to_create_one(tmp_path, monkeypatch, capsys):
    clean_environment(monkeypatch, tmp_path)
    assert main(["check-config"]) == 2
    captured = capsys.readouterr()
    assert "configuration OK" not in captured.out
    assert "no configuration found" in captured.err and "copy config.example.toml to config.toml" in captured.err


EVERY_MISTAKE = """
[telegram]
token = "123456:THE-REAL-TOKEN-abcdef"
api_base_url = "ftp://x"

[[hubs]]
id = "woking"
name = "Woking"
[[hubs.weekly]]
weekday = "tuesday"
start = "10:00"
[[hubs.reminders]]
minutes_before = 60
[[hubs.reminders]]
days_before = 0
at = "23:00"

[[hubs]]
id = "Woking"
name = "Woking again"
timezone = "Europe/Lundon"
"""


def test_every_mistake_is_reported_in_one_run_each_at_its_key_path_and_no_secret_is_printed(tmp_path, capsys):
    """A duplicate hub id no longer waits for the other errors to be fixed, nor shows as "(top level)"."""
    assert main(["--config", str(write(tmp_path, EVERY_MISTAKE)), "check-config"]) == 2
    err = capsys.readouterr().err
    assert "telegram.api_base_url: must be an http:// or https:// address" in err
    assert "hubs[1].timezone: unknown time zone 'Europe/Lundon'" in err
    assert "hubs[1].id: hub id 'Woking' is already used by hubs[0]" in err
    assert "hubs[0].reminders[1]: a reminder at 23:00 on the day comes at or after the start of the tuesday" in err
    assert "reminders[0]" not in err and "(top level)" not in err
    assert "THE-REAL-TOKEN" not in err


@pytest.mark.parametrize(("reminder", "late"), [
    ('days_before = 0\nat = "10:00"', True),  # at the start
    ('days_before = 0\nat = "23:00"', True),
    ('days_before = 0\nat = "09:59"', False),
    ('days_before = 1\nat = "23:00"', False),
    ("minutes_before = 30", False),
])
def test_a_reminder_at_or_after_the_start_is_an_error(tmp_path, capsys, reminder, late):
    text = ('[[hubs]]\nid = "w"\nname = "W"\n[[hubs.weekly]]\nweekday = "friday"\nstart = "10:00"\n'
            f"[[hubs.reminders]]\n{reminder}\n")
    assert main(["--config", str(write(tmp_path, text)), "check-config"]) == (2 if late else 0)
    assert ("hubs[0].reminders[0]: a reminder at" in capsys.readouterr().err) == late


def test_the_default_on_the_day_reminder_after_an_early_session_names_the_hubs_reminders(tmp_path, capsys):
    text = '[[hubs]]\nid = "w"\nname = "W"\n[[hubs.weekly]]\nweekday = "friday"\nstart = "08:30"\n'
    assert main(["--config", str(write(tmp_path, text)), "check-config"]) == 2
    assert "hubs[0].reminders: the default reminder at 09:00 on the day" in capsys.readouterr().err


def test_hubs_built_in_code_are_checked_too():
    from pydantic import ValidationError

    from bot.config import HubSettings, Settings

    hub = HubSettings.model_validate({"id": "w", "name": "W"})
    with pytest.raises(ValidationError, match=r"hub id 'W' is already used by hubs\[0\]"):
        Settings(hubs=[hub, HubSettings.model_validate({"id": "W", "name": "V"})])
    early = HubSettings.model_validate({"id": "e", "name": "E", "weekly": [{"weekday": "monday", "start": "08:00"}]})
    with pytest.raises(ValidationError, match="the default reminder at 09:00 on the day"):
        Settings(hubs=[early])
