"""URL converters shared by the services' routes.

``<todo_id:todo_id>`` matches a to-do id, a whole number from 1 to 2^63-1 (PostgreSQL
bigint), and hands the view an ``int``. Any other segment matches no route, so it is a
404 like any other path that names nothing: an id that can't exist is a path that
doesn't exist. Register with ``init_app(app)`` before the blueprints that use it.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from .validation import MAX_ID


class TodoIdConverter(BaseConverter):
    # ASCII digits only, and no more than bigint has: other text never reaches a view.
    regex = r"[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            # NotFound rather than ValidationError: Werkzeug turns a ValidationError on
            # one of several rules that share the path (PATCH and DELETE /todos/<id>)
            # into 405 for every method but the first.
            raise NotFound(f"nothing has the id {value[:40]}: ids are whole numbers from 1 to {MAX_ID}")
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def init_app(app: Flask) -> None:
    app.url_map.converters["todo_id"] = TodoIdConverter
    # Lists and API tokens have bigint ids too.
    app.url_map.converters["id"] = TodoIdConverter
