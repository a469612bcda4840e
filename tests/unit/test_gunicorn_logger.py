"""gunicorn builds an access-log record only when the access log is on."""

from __future__ import annotations

import datetime

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from todo_common.gunicorn_logger import Logger
from todo_common.logs import gunicorn_logconfig


class _Untouchable:
    """A request or response that fails the test if anything reads it."""

    def __getattr__(self, name):
        raise AssertionError(f"an access-log record was built (read .{name})")


def _config(access_log: bool) -> Config:
    cfg = Config()
    cfg.set("logconfig_dict", gunicorn_logconfig(access_log=access_log))
    cfg.set("accesslog", "-" if access_log else None)
    return cfg


def test_no_record_is_built_while_the_access_log_is_off():
    Logger(_config(access_log=False)).access(_Untouchable(), _Untouchable(), {}, datetime.timedelta(0))


def test_stock_gunicorn_builds_one_for_nothing():
    """What the class is for: with a logconfig_dict, gunicorn's own logger reads the
    request and response for a record it then throws away."""
    with pytest.raises(AssertionError, match="access-log record was built"):
        glogging.Logger(_config(access_log=False)).access(_Untouchable(), _Untouchable(), {}, datetime.timedelta(0))


def test_the_access_log_still_works_when_on():
    with pytest.raises(AssertionError, match="access-log record was built"):
        Logger(_config(access_log=True)).access(_Untouchable(), _Untouchable(), {}, datetime.timedelta(0))


def test_the_services_use_it():
    import todo_common.gunicorn_conf as conf

    assert conf.logger_class == "todo_common.gunicorn_logger.Logger"
