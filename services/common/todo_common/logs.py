"""One log format for every service and gunicorn itself: a JSON object per line on
stderr (time, level, service, logger, message, and a request's fields), level from
LOG_LEVEL. Log collectors (Loki, Elasticsearch, Cloud Logging) read the fields as is.

Capability URLs (``/api/t/<token>/...``) and bearer credentials are masked in every
line, whatever logged them: the request lines never carry them, and this is the net
under anything else that might.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time


def _service_from_command_line() -> str | None:
    """gunicorn's app argument (``todo_writer:create_app()``) names the service."""
    for arg in sys.argv[1:]:
        if arg.startswith("todo_") and ":" in arg:
            return arg.split(":", 1)[0].removeprefix("todo_")
    return None


_service = os.environ.get("TODO_SERVICE") or _service_from_command_line() or "todo"

_SECRETS = (
    (re.compile(r"(/api/t/)[^/\s?#\"']+"), r"\1[redacted]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def set_service(service: str) -> None:
    global _service
    _service = service


class JsonFormatter(logging.Formatter):
    """A record as one JSON object; a request's fields come in ``extra={"todo": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": _service,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        fields = getattr(record, "todo", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _level() -> str:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    return level if level in logging.getLevelNamesMapping() else "INFO"


def configure(service: str) -> None:
    set_service(service)
    root = logging.getLogger()
    root.setLevel(_level())
    # Under gunicorn the root logger already has a JSON handler (gunicorn_logconfig);
    # a second app in one process (tests) adds none either.
    if any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)


def gunicorn_logconfig(*, access_log: bool = False) -> dict:
    """gunicorn's ``logconfig_dict``: its error log and the root logger (the apps')
    as JSON lines on stderr, each line printed once."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "todo_common.logs.JsonFormatter"}},
        "handlers": {
            "error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "root": {"level": _level(), "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {"level": _level(), "handlers": ["error_console"], "propagate": False},
            # gunicorn logs every request here once a logconfig_dict is given: only when asked.
            "gunicorn.access": {
                "level": "INFO" if access_log else "CRITICAL",
                "handlers": ["console"] if access_log else [],
                "propagate": False,
            },
        },
    }
