"""The reader's JSON API: a list's items (keyset pages, by status), one item,
counts, the account's lists and the account page's data.

Whose data comes from the frontend's service token (the actor); another account's
list or item is a 404, as one that does not exist.

Every endpoint accepts ``X-Min-LSN`` (or ``?min_lsn=``) and then answers only with
data that includes that write; ``X-Served-By`` says which server answered,
``X-Replay-LSN`` how far the replica had replayed (so a caller can stop sending an LSN
it has reached) and ``X-Min-LSN-Status: stale`` that the LSN is ahead of the primary
(a session from before a restore: forget it; the answer holds current data). The SQL
and its running live in ``store.py``; this module reads the request and shapes the
answer.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from todo_common import lsn as lsn_util
from todo_common.errors import ApiError, error_response
from todo_common.service_auth import actor
from todo_common.validation import MAX_ID, STATUSES, InvalidField, parse_whole

from . import store
from .lsn_wait import ConsistentReader, ReplicaBehind, Served, TooManyWaits

bp = Blueprint("reader_api", __name__, url_prefix="/v1")


def _reader() -> ConsistentReader:
    return current_app.extensions["todo_reader"]


def _min_lsn() -> str | None:
    value = request.headers.get(lsn_util.MIN_LSN_HEADER) or request.args.get("min_lsn")
    if value is None:
        return None
    if not lsn_util.is_valid(value):
        raise ApiError(400, f"{lsn_util.MIN_LSN_HEADER} must be a PostgreSQL LSN like 0/16B3748, got {value[:40]!r}")
    return value.strip()


# The frontend confirming a cookieless client's write asks for the replica itself: a read
# served by the fallback would not show that a later read without an LSN sees the write.
REPLICA_ONLY_HEADER = "X-Replica-Only"


def _replica_only() -> bool:
    return request.headers.get(REPLICA_ONLY_HEADER, "").lower() == "true"


def _int_arg(name: str, default: int, minimum: int, maximum: int) -> int:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        return parse_whole(name, text, minimum, maximum)
    except InvalidField as exc:
        raise ApiError(400, str(exc)) from None


def _respond(body: str, served: Served) -> Response:
    response = Response(body, mimetype="application/json")
    response.headers.update(served.headers())
    return response


@bp.errorhandler(ReplicaBehind)
def _replica_behind(exc: ReplicaBehind):
    if isinstance(exc, TooManyWaits):
        return error_response(
            503, "too many reads are waiting for the replica to catch up; try again in a moment", {"Retry-After": "1"}
        )
    timeout_ms = current_app.extensions["todo_settings"].lsn_wait_timeout_ms
    return error_response(
        503,
        f"the replica has not caught up with your latest change after {timeout_ms} ms; try again in a moment",
        {"Retry-After": "1"},
    )


def _found(answer: tuple[str | None, Served], what: str) -> Response:
    body, served = answer
    if body is None:
        raise ApiError(404, f"{what} not found")
    return _respond(body, served)


def _list_arg() -> int | None:
    text = request.args.get("list")
    return None if text is None or text == "" else _int_arg("list", 0, 1, MAX_ID)


@bp.get("/todos")
def list_todos():
    status = request.args.get("status", "all")
    if status not in STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(STATUSES)}, got {status[:40]!r}")
    max_page = current_app.extensions["todo_settings"].max_page_size
    limit = _int_arg("limit", min(100, max_page), 1, max_page)
    after = _int_arg("after", 0, 0, MAX_ID)
    with_lists = request.args.get("with_lists") == "true"
    answer = store.page(
        _reader(),
        actor(),
        _list_arg(),
        status,
        after=after,
        limit=limit,
        with_lists=with_lists,
        min_lsn=_min_lsn(),
        kept=current_app.extensions["todo_page_cache"],
    )
    return _found(answer, "list")


@bp.get("/todos/<todo_id:todo_id>")
def get_todo(todo_id: int):
    answer = store.one(_reader(), actor(), todo_id, min_lsn=_min_lsn(), replica_only=_replica_only())
    return _found(answer, f"todo {todo_id}")


@bp.get("/counts")
def counts():
    answer = store.counts(_reader(), actor(), _list_arg(), min_lsn=_min_lsn(), replica_only=_replica_only())
    return _found(answer, "list")


@bp.get("/lists")
def lists():
    return _found(store.lists(_reader(), actor(), min_lsn=_min_lsn()), "lists")


@bp.get("/account")
def account():
    return _found(store.account(_reader(), actor(), min_lsn=_min_lsn()), "account")
