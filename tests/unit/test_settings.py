"""Settings are validated at start, and a bad or missing one names its variable."""

import os
import subprocess
import sys
import time

import pytest

from todo_common.settings import CONFIGURATION_ERROR_EXIT, Env, SettingsError
from todo_frontend.settings import FrontendSettings
from todo_reader.settings import ReaderSettings
from todo_writer.settings import WriterSettings

from ..conftest import free_port

KEY = {"SERVICE_TOKEN_KEY": "s" * 40}
DATABASE = {
    "DATABASE_HOST": "db",
    "DATABASE_NAME": "todo",
    "DATABASE_USER": "todo",
    "DATABASE_PASSWORD": "pw",
    **KEY,
}
FRONTEND = {"READER_URL": "http://reader:8080", "WRITER_URL": "http://writer:8080", "SECRET_KEY": "k" * 32, **KEY}


@pytest.mark.parametrize("missing", ["DATABASE_HOST", "DATABASE_NAME", "DATABASE_USER"])
def test_writer_names_a_missing_variable(missing):
    env = {k: v for k, v in DATABASE.items() if k != missing}
    with pytest.raises(SettingsError, match=missing):
        WriterSettings.from_env(Env(env))


@pytest.mark.parametrize(
    ("name", "value"),
    [("DATABASE_PORT", "five"), ("DATABASE_PORT", "70000"), ("DATABASE_SSLMODE", "maybe"), ("DATABASE_POOL_SIZE", "0")],
)
def test_writer_names_a_bad_value(name, value):
    with pytest.raises(SettingsError, match=name):
        WriterSettings.from_env(Env({**DATABASE, name: value}))


def test_reader_fallback_is_optional_and_complete_when_given():
    assert ReaderSettings.from_env(Env(DATABASE)).fallback_database is None
    with pytest.raises(SettingsError, match="FALLBACK_DATABASE_NAME"):
        ReaderSettings.from_env(Env({**DATABASE, "FALLBACK_DATABASE_HOST": "primary"}))
    fallback = {k.replace("DATABASE_", "FALLBACK_DATABASE_"): v for k, v in DATABASE.items()}
    settings = ReaderSettings.from_env(Env({**DATABASE, **fallback, "LSN_WAIT_TIMEOUT_MS": "250"}))
    assert settings.fallback_database.host == "db"
    assert settings.lsn_wait_timeout == 0.25


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("SECRET_KEY", "", "SECRET_KEY is required"),
        ("SECRET_KEY", "short", "at least 16"),
        ("READER_URL", "reader:8080", "READER_URL must be an http"),
        ("WRITER_URL", "", "WRITER_URL is required"),
        ("SESSION_COOKIE_SECURE", "sometimes", "SESSION_COOKIE_SECURE"),
        ("SERVICE_TOKEN_KEY", "", "SERVICE_TOKEN_KEY is required"),
        ("SERVICE_TOKEN_KEY", "too short", "at least 32"),
        ("PUBLIC_URL", "todo.example", "PUBLIC_URL must be an http"),
        ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES"),
    ],
)
def test_frontend_names_a_bad_or_missing_value(name, value, words):
    with pytest.raises(SettingsError, match=words):
        FrontendSettings.from_env(Env({**FRONTEND, name: value}))


def test_database_password_never_appears_in_descriptions():
    settings = WriterSettings.from_env(Env(DATABASE))
    assert "pw" not in settings.database.describe()
    assert "pw" not in repr(settings)
    assert KEY["SERVICE_TOKEN_KEY"] not in repr(settings)
    assert "k" * 32 not in repr(FrontendSettings.from_env(Env(FRONTEND)))
    assert KEY["SERVICE_TOKEN_KEY"] not in repr(FrontendSettings.from_env(Env(FRONTEND)))


def test_services_need_the_service_token_key_to_serve(capsys):
    import todo_writer

    without = {k: v for k, v in DATABASE.items() if k != "SERVICE_TOKEN_KEY"}
    with pytest.raises(SettingsError, match="SERVICE_TOKEN_KEY is required"):
        ReaderSettings.from_env(Env(without))
    # The writer's commands (migrate, set-password) run without it; serving does not.
    settings = WriterSettings.from_env(Env(without))
    assert settings.service_token_keys == ()
    with pytest.raises(SystemExit) as stopped:
        todo_writer.create_app(settings)
    assert stopped.value.code == CONFIGURATION_ERROR_EXIT
    assert "todo-writer: configuration error: SERVICE_TOKEN_KEY is required" in capsys.readouterr().err


def test_app_factory_stops_with_the_variable_name(monkeypatch, capsys):
    import todo_writer

    for name in DATABASE:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as stopped:
        todo_writer.create_app()
    assert stopped.value.code == CONFIGURATION_ERROR_EXIT
    assert "DATABASE_HOST is required" in capsys.readouterr().err


@pytest.mark.parametrize("service", ["frontend", "reader", "writer"])
def test_gunicorn_stops_on_a_bad_setting_instead_of_restarting_workers(service, tmp_path):
    """A crash-looping worker would hide the message and never end: the master stops."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PORT": str(free_port()),
        "HOST": "127.0.0.1",
        "METRICS_PORT": str(free_port()),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "TODO_SERVICE": service,
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:todo_common.gunicorn_conf"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert time.monotonic() - started < 30
    assert f"todo-{service}: configuration error:" in result.stderr
    assert result.stderr.count("configuration error") <= 2  # one worker's try, not a loop
