"""Strict reading of JSON request bodies: every way a body can be wrong is a clear 4xx.

Python's ``json`` accepts three things that are not usable text or numbers, and each
used to surface later as a 500: a lone UTF-16 surrogate escape (``"\\ud800"``, which
no UTF-8 encoder - PostgreSQL's driver, the log handler - can write), an integer of
more digits than ``int()`` converts (4,300: ``ValueError``), and deep nesting
(``RecursionError``). All three are refused here with a 400 that says why.
"""

from __future__ import annotations

import json

from flask import Request

from .errors import ApiError

# Deeper than any body this project accepts needs (objects of scalars), far below
# the interpreter's recursion limit.
MAX_DEPTH = 32


def _check(data) -> None:
    """Walk the decoded value without recursion: no lone surrogate in any string, no
    container nested deeper than MAX_DEPTH."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ApiError(
                    400, "the body contains a lone UTF-16 surrogate escape (like \\ud800), which is not text"
                ) from None
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ApiError(400, f"the body is nested more than {MAX_DEPTH} levels deep")
            items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
            for key, item in items:
                if key is not None:
                    stack.append((key, depth))
                stack.append((item, depth + 1))


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
    except RecursionError:
        raise ApiError(400, f"the body is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
        raise ApiError(400, "the body contains a number with too many digits") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    _check(data)
    return data
