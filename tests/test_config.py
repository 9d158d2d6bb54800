"""Configuration: the example file is valid, and a bad file names the key and exits 2."""

from __future__ import annotations

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
        ('[[hubs]]\nid = "w"\nname = "W"\n[[hubs]]\nid = "w"\nname = "V"\n', "hub id 'w' is used twice"),
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
