"""Settings are validated at start, and a bad or missing one names its variable."""

import pytest

from todo_common.settings import Env, SettingsError
from todo_frontend.settings import FrontendSettings
from todo_reader.settings import ReaderSettings
from todo_writer.settings import WriterSettings

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


def test_services_need_the_service_token_key_to_serve(monkeypatch):
    import todo_writer

    without = {k: v for k, v in DATABASE.items() if k != "SERVICE_TOKEN_KEY"}
    with pytest.raises(SettingsError, match="SERVICE_TOKEN_KEY is required"):
        ReaderSettings.from_env(Env(without))
    # The writer's commands (migrate, set-password) run without it; serving does not.
    settings = WriterSettings.from_env(Env(without))
    assert settings.service_token_keys == ()
    with pytest.raises(SystemExit, match="SERVICE_TOKEN_KEY is required"):
        todo_writer.create_app(settings)


def test_app_factory_stops_with_the_variable_name(monkeypatch):
    import todo_writer

    for name in DATABASE:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="DATABASE_HOST is required"):
        todo_writer.create_app()
