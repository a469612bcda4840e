"""Reading the HTML forms: strict UTF-8 and the same field rules the writer enforces."""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Request

from todo_common.validation import InvalidField, clean_name


def check_utf8(request: Request) -> None:
    """Werkzeug decodes form fields leniently (bad bytes become U+FFFD); refuse instead,
    so what is saved is exactly what was sent. Both percent-encoded bytes and raw ones
    (``name=café`` as a client may send it) must be UTF-8. Raises InvalidField."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return
    raw = request.get_data(cache=True)  # cached: request.form still parses it after
    try:
        parse_qsl(raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidField("the form contained bytes that are not valid UTF-8 text") from None


def name_field(request: Request) -> str:
    return clean_name(request.form.get("name", ""))


def bool_field(request: Request, field: str) -> bool:
    value = request.form.get(field)
    if value not in ("true", "false"):
        raise InvalidField(f"{field} must be true or false")
    return value == "true"
