"""The public JSON API, compatible with the Todo-Backend specification
(todobackend.com): one list's items as a collection, each todo at its own url.

A script gets an API token for one of its owner's lists (``POST /api/tokens`` with
HTTP Basic credentials, or on the account page) and uses it either in the URL -
``/api/t/<token>/todos``, a capability URL that works with no header and no cookie,
as Todo-Backend clients need - or as ``Authorization: Bearer <token>`` on
``/api/todos``. Without a token every method answers 401; a revoked one, 404.
Tokens are stored hashed by the writer; in URLs they are kept out of the logs.

Its clients send no cookies and read back at once after every write, so a write is
acknowledged only after the reader has replayed it (bounded by the reader's wait),
and API reads wait for the highest LSN written through this process.

A write that committed is never answered as a failure: if the reader cannot confirm
it (down, or the item was deleted meanwhile), the answer is still 2xx with the
writer's own view, and ``X-Read-Your-Writes: unconfirmed`` when the next read might
not show it yet. When the writer's answer is lost (connection dropped, timeout) the
outcome is unknown, and the answer says so (502/504 with ``code: outcome_unknown``);
``POST`` with an ``Idempotency-Key`` is then safe to repeat, and the frontend repeats
it once itself. A 503 always means nothing was changed.
"""

from __future__ import annotations

import re
import threading
import time

from flask import Blueprint, Response, current_app, g, jsonify, request

from todo_common import errors
from todo_common import lsn as lsn_util
from todo_common.errors import OUTCOME_UNKNOWN, ApiError, error_response
from todo_common.fields import checked
from todo_common.json_body import read_object
from todo_common.validation import MAX_ID, InvalidField, parse_whole

from . import identity, session_lsn
from .upstream import OutcomeUnknown, UpstreamRejected, UpstreamUnavailable, reader, writer
from .urls import external_url, unserved_host

bp = Blueprint("public_api", __name__, url_prefix="/api")
errors.init_app(bp)  # JSON errors here; the pages keep their HTML error pages

# Todo-Backend's field names -> the writer's.
FIELDS = {"title": "name", "completed": "completed", "order": "order"}

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
    "Access-Control-Expose-Headers": "Link, Location, Retry-After, X-Truncated, X-Read-Your-Writes, Idempotency-Key",
    "Access-Control-Max-Age": "86400",
}


class ProcessHighWater:
    """The highest LSN of writes made through this process's public API.

    Todo-Backend clients send no cookies, so they have no session to carry their
    LSN; reads through the API wait for this instead (on top of each write being
    acknowledged only once the reader has it).
    """

    def __init__(self, keep_seconds: float = 60):
        self._lock = threading.Lock()
        self._lsn: str | None = None
        self._advanced_at = 0.0
        self.keep_seconds = keep_seconds

    def advance(self, lsn: str | None) -> None:
        if lsn and lsn_util.is_valid(lsn):
            with self._lock:
                highest = lsn_util.highest(self._lsn, lsn)
                if highest != self._lsn:
                    self._lsn, self._advanced_at = highest, time.time()

    @property
    def lsn(self) -> str | None:
        return self._lsn

    def feedback(self, sent: str, replay_lsn: str | None, stale: bool) -> None:
        """Forget the mark when it is of no more use, as the session does
        (``session_lsn.forgettable``)."""
        with self._lock:
            if self._lsn is not None and session_lsn.forgettable(
                self._lsn, self._advanced_at, sent, replay_lsn, stale, self.keep_seconds
            ):
                self._lsn = None


def _high_water() -> ProcessHighWater:
    return current_app.extensions["todo_api_high_water"]


# What secrets.token_urlsafe(32) makes; anything else can't be a token.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def _todo_out(todo: dict) -> dict:
    return {
        "id": todo["id"],
        "title": todo["name"],
        "completed": todo["completed"],
        "order": todo["order"],
        "url": external_url("public_api.one", todo_id=todo["id"]),
    }


@bp.url_value_preprocessor
def _take_token_from_url(endpoint, values):
    if values and "token" in values:
        g.url_token = values.pop("token")


@bp.url_defaults
def _keep_token_in_urls(endpoint, values):
    """Links in an answer to a capability URL carry the same token (Werkzeug then
    builds them with the /t/<token>/ rule, never with the token as a query)."""
    if "token" not in values and g.get("url_token") is not None:
        values["token"] = g.url_token


@bp.before_request
def _authenticate():
    """Every request here acts with an API token (never a browser session)."""
    g.api_request = True
    if request.method == "OPTIONS" or request.endpoint == "public_api.create_token":
        return
    token = g.get("url_token")
    if token is None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(
                401,
                "an API token is required: use the api_root URL you were given, or send Authorization: Bearer <token>"
                " (get one with POST /api/tokens and your username and password)",
                headers={"WWW-Authenticate": 'Bearer realm="todo"'},
            )
        token = value.strip()
    if not _TOKEN.match(token):
        raise ApiError(404, "no such API token: it may have been revoked")
    identity.use_api_token(token)


def _fields(data: dict, *, require_title: bool) -> dict:
    """Todo-Backend fields -> the writer's, checked (422 names the field). Clients
    send back the ``id`` and ``url`` they were given; those are not changes."""
    return checked(data, FIELDS, required=("title",) if require_title else (), ignored=("id", "url"))


UNCONFIRMED = {"X-Read-Your-Writes": "unconfirmed"}


def _acknowledged(lsn: str | None, todo_id: int | None = None) -> tuple[dict | None, dict]:
    """Wait (bounded, in the reader) until the replica shows the committed write; return
    the todo as the reader now sees it when one is named (None if it is gone since),
    and the headers to add. The write committed whatever the reader says: when it
    cannot confirm it on the replica (down, or still behind after the wait), the answer
    is still a success, marked unconfirmed."""
    _high_water().advance(lsn)
    try:
        # On the replica itself: a later read through another frontend process carries
        # no LSN of this write, so a confirmation from the primary would promise too much.
        if todo_id is None:
            reader().counts(min_lsn=lsn, on_replica=True)
            return None, {}
        return reader().get(todo_id, min_lsn=lsn, on_replica=True), {}
    except UpstreamRejected as exc:
        if exc.status == 404 and todo_id is not None:
            return None, {}  # deleted since it was written: the reader has seen the write and more
        return None, UNCONFIRMED
    except UpstreamUnavailable:
        return None, UNCONFIRMED


@bp.after_request
def _cors(response: Response) -> Response:
    response.headers.update(CORS_HEADERS)
    return response


@bp.errorhandler(UpstreamUnavailable)
def _unavailable(exc: UpstreamUnavailable):
    if isinstance(exc, OutcomeUnknown):
        retry = (
            f"retry with the same Idempotency-Key ({exc.idempotency_key})"
            if exc.idempotency_key
            else "read the list before repeating it (send an Idempotency-Key to make a retry safe)"
        )
        headers = {"Retry-After": "1"}
        if exc.idempotency_key:
            headers["Idempotency-Key"] = exc.idempotency_key
        return error_response(
            exc.status,
            f"the {exc.service} service {exc.message}: the outcome is unknown (the change may or may not have been"
            f" saved); {retry}",
            headers,
            code=OUTCOME_UNKNOWN,
        )
    return error_response(
        exc.status,
        f"the {exc.service} service is unavailable: {exc.message}; nothing was changed",
        {"Retry-After": "1"},
    )


@bp.errorhandler(UpstreamRejected)
def _rejected(exc: UpstreamRejected):
    return error_response(exc.status, exc.message, {"Retry-After": exc.retry_after} if exc.retry_after else None)


@bp.route("/todos", methods=["OPTIONS"])
@bp.route("/t/<token>/todos", methods=["OPTIONS"])
@bp.route("/todos/<todo_id:todo_id>", methods=["OPTIONS"])
@bp.route("/t/<token>/todos/<todo_id:todo_id>", methods=["OPTIONS"])
@bp.route("/tokens", methods=["OPTIONS"])
def preflight(todo_id: int | None = None):
    return Response(status=204)


@bp.post("/tokens")
def create_token():
    """A token for the caller's default list (or ``{"list": id}``), from HTTP Basic
    credentials; the answer's ``api_root`` works with no header and no cookie."""
    credentials = request.authorization
    if credentials is None or credentials.type != "basic" or not credentials.username:
        raise ApiError(
            401,
            "send your username and password with HTTP Basic authentication",
            headers={"WWW-Authenticate": 'Basic realm="todo", charset="UTF-8"'},
        )
    data = read_object(request) if request.get_data(cache=True) else {}
    unknown = sorted(set(data) - {"list"})
    if unknown:
        raise ApiError(422, f"unknown field(s): {', '.join(unknown)}; allowed: list")
    list_id = data.get("list")
    if list_id is not None and (isinstance(list_id, bool) or not isinstance(list_id, int) or list_id < 1):
        raise ApiError(422, "list must be the id of one of your lists")
    # Checked before the token exists: it is handed out once, with its link.
    unserved = unserved_host()
    if unserved is not None:
        raise ApiError(400, unserved)
    try:
        answer = writer().create_token(list_id, username=credentials.username, password=credentials.password or "")
    except UpstreamRejected as exc:
        if exc.status == 401:
            raise ApiError(
                401, exc.message, headers={"WWW-Authenticate": 'Basic realm="todo", charset="UTF-8"'}
            ) from None
        raise
    token = answer["token"]
    # The next request may go to another pod through the replica: wait until it
    # knows the token, so the api_root works at once.
    identity.use_api_token(token["token"])
    _, extra = _acknowledged(answer["lsn"])
    response = jsonify(
        token=token["token"],
        list=token["list"],
        api_root=external_url("public_api.collection", token=token["token"]),
    )
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(extra)
    return response


@bp.get("/t/<token>/todos")
@bp.get("/todos")
def collection():
    """The items in id order, a page at a time: clients of the spec read one array, and
    a longer list continues at the ``Link: <...>; rel="next"`` URL (``?after=<id>``)."""
    try:
        after = parse_whole("after", request.args.get("after", "0"), 0, MAX_ID)
    except InvalidField as exc:
        raise ApiError(400, str(exc)) from None
    limit = current_app.extensions["todo_settings"].api_page_size
    page = reader().page(None, status="all", after=after, limit=limit, min_lsn=_high_water().lsn)
    response = jsonify([_todo_out(todo) for todo in page["items"]])
    if page.get("next_after"):
        next_url = external_url("public_api.collection", after=page["next_after"])
        response.headers["Link"] = f'<{next_url}>; rel="next"'
        response.headers["X-Truncated"] = "true"
    return response


@bp.post("/t/<token>/todos")
@bp.post("/todos")
def create():
    """201 for a create that committed, also when it is deleted before the read-back or
    the reader cannot confirm it; a repeat with the same ``Idempotency-Key`` answers
    the same todo again (the writer remembers it)."""
    fields = _fields(read_object(request), require_title=True)
    key = request.headers.get("Idempotency-Key")
    body, lsn = writer().create(None, fields, idempotency_key=key)
    seen, extra = _acknowledged(lsn, body["todo"]["id"])
    todo = _todo_out(seen or body["todo"])
    response = jsonify(todo)
    response.status_code = 201
    response.headers["Location"] = todo["url"]
    response.headers.update(extra)
    return response


@bp.delete("/t/<token>/todos")
@bp.delete("/todos")
def delete_all():
    _, lsn = writer().delete_all(None, completed_only=False)
    return Response(status=204, headers=_acknowledged(lsn)[1])


@bp.get("/t/<token>/todos/<todo_id:todo_id>")
@bp.get("/todos/<todo_id:todo_id>")
def one(todo_id: int):
    return jsonify(_todo_out(reader().get(todo_id, min_lsn=_high_water().lsn)))


@bp.patch("/t/<token>/todos/<todo_id:todo_id>")
@bp.patch("/todos/<todo_id:todo_id>")
def update(todo_id: int):
    fields = _fields(read_object(request), require_title=False)
    if not fields:
        return one(todo_id)
    body, lsn = writer().update(todo_id, fields)
    seen, extra = _acknowledged(lsn, todo_id)
    response = jsonify(_todo_out(seen or body["todo"]))
    response.headers.update(extra)
    return response


@bp.delete("/t/<token>/todos/<todo_id:todo_id>")
@bp.delete("/todos/<todo_id:todo_id>")
def delete(todo_id: int):
    try:
        _, lsn = writer().delete(todo_id)
    except UpstreamRejected as exc:
        if exc.status == 404 and exc.after_unknown:
            # The first attempt's answer was lost and the repeat finds nothing: the
            # first one deleted it. Done, though the reader is not asked to confirm.
            return Response(status=204, headers=UNCONFIRMED)
        raise
    return Response(status=204, headers=_acknowledged(lsn)[1])


def init_app(app, csrf) -> None:
    app.extensions["todo_api_high_water"] = ProcessHighWater(app.extensions["todo_settings"].lsn_keep_seconds)
    csrf.exempt(bp)  # no cookies are read here, so there is nothing to forge
    app.register_blueprint(bp)
