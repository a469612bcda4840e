"""The public JSON API, compatible with the Todo-Backend specification
(todobackend.com): a collection at /api/todos and each todo at its own url.

Its clients send no cookies and read back at once after every write, so a write is
acknowledged only after the reader has replayed it (bounded by the reader's wait),
and API reads wait for the highest LSN written through this process.
"""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from todo_common import errors
from todo_common import lsn as lsn_util
from todo_common.errors import ApiError, error_response
from todo_common.fields import checked
from todo_common.json_body import read_object
from todo_common.validation import MAX_ID, InvalidField, parse_whole

from .upstream import UpstreamRejected, UpstreamUnavailable, reader, writer

bp = Blueprint("public_api", __name__, url_prefix="/api")
errors.init_app(bp)  # JSON errors here; the pages keep their HTML error pages

# Todo-Backend's field names -> the writer's.
FIELDS = {"title": "name", "completed": "completed", "order": "order"}

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key",
    "Access-Control-Expose-Headers": "Link, Location, X-Truncated",
    "Access-Control-Max-Age": "86400",
}


class ProcessHighWater:
    """The highest LSN of writes made through this process's public API.

    Todo-Backend clients send no cookies, so they have no session to carry their
    LSN; reads through the API wait for this instead (on top of each write being
    acknowledged only once the reader has it).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._lsn: str | None = None

    def advance(self, lsn: str | None) -> None:
        if lsn and lsn_util.is_valid(lsn):
            with self._lock:
                self._lsn = lsn_util.highest(self._lsn, lsn)

    @property
    def lsn(self) -> str | None:
        return self._lsn


def _high_water() -> ProcessHighWater:
    return current_app.extensions["todo_api_high_water"]


def _todo_out(todo: dict) -> dict:
    return {
        "id": todo["id"],
        "title": todo["name"],
        "completed": todo["completed"],
        "order": todo["order"],
        "url": url_for("public_api.one", todo_id=todo["id"], _external=True),
    }


def _fields(data: dict, *, require_title: bool) -> dict:
    """Todo-Backend fields -> the writer's, checked (422 names the field). Clients
    send back the ``id`` and ``url`` they were given; those are not changes."""
    return checked(data, FIELDS, required=("title",) if require_title else (), ignored=("id", "url"))


def _acknowledged(lsn: str, todo_id: int | None = None) -> dict | None:
    """Wait (bounded, in the reader) until the replica shows the write; return the
    todo as the reader now sees it when one is named."""
    _high_water().advance(lsn)
    if todo_id is None:
        reader().counts(min_lsn=lsn)
        return None
    return reader().get(todo_id, min_lsn=lsn)


@bp.after_request
def _cors(response: Response) -> Response:
    response.headers.update(CORS_HEADERS)
    return response


@bp.errorhandler(UpstreamUnavailable)
def _unavailable(exc: UpstreamUnavailable):
    return error_response(exc.status, f"the {exc.service} service is unavailable: {exc.message}", {"Retry-After": "1"})


@bp.errorhandler(UpstreamRejected)
def _rejected(exc: UpstreamRejected):
    return error_response(exc.status, exc.message)


@bp.route("/todos", methods=["OPTIONS"])
@bp.route("/todos/<todo_id:todo_id>", methods=["OPTIONS"])
def preflight(todo_id: int | None = None):
    return Response(status=204)


@bp.get("/todos")
def collection():
    """The items in id order, a page at a time: clients of the spec read one array, and
    a longer list continues at the ``Link: <...>; rel="next"`` URL (``?after=<id>``)."""
    try:
        after = parse_whole("after", request.args.get("after", "0"), 0, MAX_ID)
    except InvalidField as exc:
        raise ApiError(400, str(exc)) from None
    limit = current_app.extensions["todo_settings"].api_page_size
    page = reader().page(status="all", after=after, limit=limit, min_lsn=_high_water().lsn)
    response = jsonify([_todo_out(todo) for todo in page["items"]])
    if page.get("next_after"):
        next_url = url_for("public_api.collection", after=page["next_after"], _external=True)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
        response.headers["X-Truncated"] = "true"
    return response


@bp.post("/todos")
def create():
    fields = _fields(read_object(request), require_title=True)
    key = request.headers.get("Idempotency-Key")
    body, lsn = writer().create(fields, idempotency_key=key)
    todo = _acknowledged(lsn, body["todo"]["id"]) or body["todo"]
    response = jsonify(_todo_out(todo))
    response.status_code = 201
    response.headers["Location"] = _todo_out(todo)["url"]
    return response


@bp.delete("/todos")
def delete_all():
    _, lsn = writer().delete_all(completed_only=False)
    _acknowledged(lsn)
    return Response(status=204)


@bp.get("/todos/<todo_id:todo_id>")
def one(todo_id: int):
    return jsonify(_todo_out(reader().get(todo_id, min_lsn=_high_water().lsn)))


@bp.patch("/todos/<todo_id:todo_id>")
def update(todo_id: int):
    fields = _fields(read_object(request), require_title=False)
    if not fields:
        return one(todo_id)
    body, lsn = writer().update(todo_id, fields)
    return jsonify(_todo_out(_acknowledged(lsn, todo_id) or body["todo"]))


@bp.delete("/todos/<todo_id:todo_id>")
def delete(todo_id: int):
    _, lsn = writer().delete(todo_id)
    _acknowledged(lsn)
    return Response(status=204)


def init_app(app, csrf) -> None:
    app.extensions["todo_api_high_water"] = ProcessHighWater()
    csrf.exempt(bp)  # no cookies are read here, so there is nothing to forge
    app.register_blueprint(bp)
