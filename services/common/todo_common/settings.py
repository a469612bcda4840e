"""Reading settings from environment variables, validated once at start.

Each service declares a frozen dataclass built by ``from_env``; a missing or bad
value raises ``SettingsError`` naming the variable, and the app factory turns that
into a one-line message instead of a traceback deep inside a request.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


class Env:
    """Typed access to an environment mapping (``os.environ`` by default). Any variable
    may instead be given as ``<NAME>_FILE``, the path of a file holding its value."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            value = self._from_file(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def _from_file(self, name: str) -> str | None:
        """NAME_FILE names a file holding the value (a mounted Secret), when NAME is unset."""
        path = self._environ.get(f"{name}_FILE", "").strip()
        if not path:
            return None
        try:
            with open(path, encoding="utf-8") as file:
                return file.read()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE names a file that cannot be read: {exc.strerror} ({path})") from None

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self._raw(name)
        if value is None:
            if required:
                raise SettingsError(f"{name} is required but not set")
            return default
        return value

    def int(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        return self._number(name, default, int, "an integer", minimum, maximum)

    def float(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        return self._number(name, default, float, "a number", minimum, None)

    def _number(self, name, default, parse, kind: str, minimum, maximum):
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = parse(value)
        except ValueError:
            raise SettingsError(f"{name} must be {kind}, got {value!r}") from None
        if number < minimum or (maximum is not None and number > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise SettingsError(f"{name} must be {bound}, got {number}")
        return number

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"{name} must be true or false, got {value!r}")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._raw(name) or default
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def url(self, name: str, *, required: bool = True) -> str | None:
        value = self.str(name, required=required)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise SettingsError(f"{name} must be an http(s) URL like http://host:port, got {value!r}")
        return value.rstrip("/")


SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True)
class DatabaseSettings:
    """Where one PostgreSQL server is. Variables share a prefix, e.g. ``DATABASE_HOST``.

    Components rather than a URL so the password can come from a Secret on its own
    and may contain any character.
    """

    host: str
    port: int
    name: str
    user: str
    password: str | None = field(repr=False)  # never in logs or tracebacks
    sslmode: str
    application_name: str
    pool_size: int
    connect_timeout: int

    @classmethod
    def from_env(cls, env: Env, prefix: str, *, application_name: str, pool_size: int) -> DatabaseSettings:
        return cls(
            host=env.str(f"{prefix}_HOST", required=True),
            port=env.int(f"{prefix}_PORT", 5432, minimum=1, maximum=65535),
            name=env.str(f"{prefix}_NAME", required=True),
            user=env.str(f"{prefix}_USER", required=True),
            password=env.str(f"{prefix}_PASSWORD"),
            sslmode=env.choice(f"{prefix}_SSLMODE", "prefer", SSL_MODES),
            application_name=application_name,
            pool_size=env.int(f"{prefix}_POOL_SIZE", pool_size, minimum=1, maximum=200),
            connect_timeout=env.int(f"{prefix}_CONNECT_TIMEOUT", 5, minimum=1, maximum=120),
        )

    def connect_kwargs(self) -> dict:
        kwargs = {
            "host": self.host,
            "port": self.port,
            "dbname": self.name,
            "user": self.user,
            "sslmode": self.sslmode,
            "application_name": self.application_name,
            "connect_timeout": self.connect_timeout,
            # Notice a dead peer (node gone, failover) within ~30 s instead of hanging.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        }
        if self.password is not None:
            kwargs["password"] = self.password
        return kwargs

    def describe(self) -> str:
        """Where, without the password: safe for logs."""
        return f"{self.user}@{self.host}:{self.port}/{self.name}"


# gunicorn's "worker failed to boot": the master stops instead of starting the worker
# again and again, so a bad setting ends the process (and the pod says why).
CONFIGURATION_ERROR_EXIT = 3


def configuration_error(service: str, message: str) -> SystemExit:
    """Print one line naming what to fix; the SystemExit to raise after it."""
    print(f"todo-{service}: configuration error: {message}", file=sys.stderr, flush=True)
    return SystemExit(CONFIGURATION_ERROR_EXIT)


def load(settings_class, service: str):
    """``settings_class.from_env()``, or exit with one line naming the bad variable
    (a crash-looping pod then says what to fix, instead of printing a traceback)."""
    try:
        return settings_class.from_env()
    except SettingsError as exc:
        raise configuration_error(service, str(exc)) from None


DEFAULT_THREADS = 8  # gunicorn threads per worker; todo_common.gunicorn_conf reads it through threads_per_worker


def threads_per_worker(env: Env) -> int:
    """The gunicorn thread count; pools default to it so no request waits for a connection."""
    return env.int("GUNICORN_THREADS", DEFAULT_THREADS, minimum=1, maximum=64)
