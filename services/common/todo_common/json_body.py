"""Strict reading of JSON request bodies: every way a body can be wrong is a clear 4xx."""

from __future__ import annotations

import json

from flask import Request

from .errors import ApiError


def read_object(request: Request) -> dict:
    """The body as a JSON object, or ApiError(400/413/415) saying what is wrong.

    Size is bounded by Flask's MAX_CONTENT_LENGTH (413 before the body is read).
    """
    if not request.is_json:
        raise ApiError(415, "send a JSON body with Content-Type: application/json")
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not valid UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data
