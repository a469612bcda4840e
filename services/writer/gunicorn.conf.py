"""Gunicorn settings for the writer: the shared ones (see todo_common.gunicorn_conf)."""

from todo_common.gunicorn_conf import *  # noqa: F403
