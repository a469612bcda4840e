"""JSON error answers, ``{"error": "..."}``, never a trace: for the reader's and the
writer's whole apps and for the frontend's public API blueprint.

``ApiError`` carries a status and a message meant for the caller; HTTP errors
(404, 405, 413, ...) keep their status; anything unexpected is a logged 500. The
reader and the writer also map the database layer's errors to a 503 with
``Retry-After`` (``init_database_errors``).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


# The ``code`` of an answer whose change may or may not have been applied (the writer
# lost its database connection mid-way, or the frontend its connection to the writer).
OUTCOME_UNKNOWN = "outcome_unknown"


class ApiError(Exception):
    """An error with a status and a message meant for the caller."""

    def __init__(self, status: int, message: str, *, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict | None = None, **fields):
    response = jsonify(error=message, **fields)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def init_app(app: Flask | Blueprint) -> None:
    """Register the JSON handlers on a whole app, or on one blueprint of it."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        response = error_response(exc.code or 500, exc.description or exc.name)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal error")


def init_database_errors(app: Flask, *, writes: bool = False) -> None:
    """Answer the database layer's errors with 503 and ``Retry-After`` (reader, writer);
    for a service that ``writes``, a connection lost mid-way is a 502 whose ``code`` says
    the outcome is unknown (a 503 always means nothing was applied).

    ``db`` is imported here rather than at the top: the frontend uses this module too
    and its image has no PostgreSQL driver.
    """
    from .db import DatabaseUnavailable, OutcomeUnknown, SchemaNotReady

    @app.errorhandler(DatabaseUnavailable)
    def _database_unavailable(exc: DatabaseUnavailable):
        log.warning("database unavailable: %s", exc)
        if writes and isinstance(exc, OutcomeUnknown):
            # Maybe committed: not a failure to retry blindly (see OUTCOME_UNKNOWN).
            return error_response(
                502,
                "the connection to the database was lost while saving: the change may or may not have been"
                " saved; retry with the same Idempotency-Key, or read before repeating it",
                {"Retry-After": "1"},
                code=OUTCOME_UNKNOWN,
            )
        if isinstance(exc, SchemaNotReady):
            return error_response(
                503,
                "the database schema is not ready yet (migrations pending); try again shortly",
                {"Retry-After": "5"},
            )
        return error_response(503, "the database is unavailable, try again shortly", {"Retry-After": "1"})
