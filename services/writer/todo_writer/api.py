"""The writer's JSON API: every change to a person's lists and items, each answered
with the WAL position (``X-Commit-LSN`` header and ``lsn`` field) it committed at.

Whose data a request may touch comes from the frontend's service token (the actor);
another account's list or item answers 404, as one that does not exist.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Blueprint, current_app, jsonify, request

from todo_common.errors import ApiError, error_response
from todo_common.fields import checked
from todo_common.json_body import read_object
from todo_common.lsn import COMMIT_LSN_HEADER
from todo_common.service_auth import actor
from todo_common.validation import MAX_ID, InvalidField, clean_name, parse_whole

from . import store, usage

log = logging.getLogger(__name__)

bp = Blueprint("writer_api", __name__, url_prefix="/v1")

IDEMPOTENCY_HEADER = "Idempotency-Key"
# The fields a todo has here, each under its own name (the public API maps title -> name).
FIELDS = {"name": "name", "completed": "completed", "order": "order"}
_PURGE_EVERY_SECONDS = 600
_purge_lock = threading.Lock()
_last_purge = 0.0


def _db():
    return current_app.extensions["todo_db"]


def _settings():
    return current_app.extensions["todo_settings"]


def _answer(body: dict, lsn: str, status: int = 200):
    response = jsonify({**body, "lsn": lsn})
    response.status_code = status
    response.headers[COMMIT_LSN_HEADER] = lsn
    return response


def _idempotency_key() -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not (1 <= len(key) <= 255) or not key.isascii() or not key.isprintable():
        raise ApiError(400, f"{IDEMPOTENCY_HEADER} must be 1 to 255 printable ASCII characters")
    return key


def _purge_old_keys_now_and_then() -> None:
    """Expired idempotency keys go in passing, at most every ten minutes per process."""
    global _last_purge
    now = time.monotonic()
    if now - _last_purge < _PURGE_EVERY_SECONDS or not _purge_lock.acquire(blocking=False):
        return
    try:
        _last_purge = now
        purged = store.purge_idempotency_keys(_db(), _settings().idempotency_ttl_hours)
        if purged:
            log.info("purged %d expired idempotency keys", purged)
    finally:
        _purge_lock.release()


def _list_field(data: dict) -> int | None:
    """The optional ``list`` a change goes to (default: the token's list, or the
    account's first)."""
    value = data.pop("list", None)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID):
        raise ApiError(422, "list must be the id of one of your lists")
    return value


def _list_arg() -> int | None:
    text = request.args.get("list")
    if text is None:
        return None
    try:
        return parse_whole("list", text, 1, MAX_ID)
    except InvalidField as exc:
        raise ApiError(400, str(exc)) from None


@bp.errorhandler(store.NotFound)
def _not_found(exc: store.NotFound):
    return error_response(404, "not found: no such list or item")


@bp.errorhandler(store.ListFull)
def _list_full(exc: store.ListFull):
    return error_response(409, f"this list is full: a list can hold at most {exc.args[0]} items")


@bp.errorhandler(store.TooManyLists)
def _too_many_lists(exc: store.TooManyLists):
    return error_response(409, f"you have the most lists an account can have ({exc.args[0]}); delete one first")


@bp.errorhandler(store.LastList)
def _last_list(exc: store.LastList):
    return error_response(409, "this is your only list; an account keeps at least one")


@bp.post("/todos")
def create_todo():
    data = read_object(request)
    list_id = _list_field(data)
    fields = checked(data, FIELDS, required=("name",))
    name, completed, order = fields["name"], fields.get("completed", False), fields.get("order")
    settings = _settings()
    key = _idempotency_key()
    if key is None:
        todo, lsn = store.create(_db(), actor(), list_id, name, completed, order, max_items=settings.max_items_per_list)
        usage.ITEMS_CREATED.inc()
        return _answer({"todo": todo}, lsn, 201)
    try:
        todo, lsn, replayed = store.create_idempotent(
            _db(),
            actor(),
            list_id,
            key,
            name,
            completed,
            order,
            max_items=settings.max_items_per_list,
            ttl_hours=settings.idempotency_ttl_hours,
        )
    except store.KeyReused:
        raise ApiError(422, f"this {IDEMPOTENCY_HEADER} was already used with a different request") from None
    _purge_old_keys_now_and_then()
    response = _answer({"todo": todo}, lsn, 201)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    else:
        usage.ITEMS_CREATED.inc()
    return response


@bp.patch("/todos/<todo_id:todo_id>")
def update_todo(todo_id: int):
    changes = checked(read_object(request), FIELDS)
    if not changes:
        raise ApiError(422, "nothing to change: send name, completed and/or order")
    todo, lsn = store.update(_db(), actor(), todo_id, changes)
    if changes.get("completed") is True:
        usage.ITEMS_COMPLETED.inc()
    return _answer({"todo": todo}, lsn)


@bp.delete("/todos/<todo_id:todo_id>")
def delete_todo(todo_id: int):
    list_id, lsn = store.delete(_db(), actor(), todo_id)
    usage.ITEMS_DELETED.inc()
    return _answer({"deleted": 1, "list": list_id}, lsn)


@bp.delete("/todos")
def delete_todos():
    """``?completed=true`` clears completed items; without it, empties the list."""
    which = request.args.get("completed")
    if which not in (None, "true"):
        raise ApiError(400, "completed may only be 'true' (clear completed items)")
    list_id, deleted, lsn = store.delete_all(_db(), actor(), _list_arg(), completed_only=which == "true")
    usage.ITEMS_DELETED.inc(deleted)
    return _answer({"deleted": deleted, "list": list_id}, lsn)


@bp.post("/todos/mark-all")
def mark_all():
    data = read_object(request)
    list_id = _list_field(data)
    completed = checked(data, {"completed": "completed"}, required=("completed",))["completed"]
    list_id, updated, lsn = store.set_all_completed(_db(), actor(), list_id, completed)
    if completed:
        usage.ITEMS_COMPLETED.inc(updated)
    return _answer({"updated": updated, "list": list_id}, lsn)


def _list_name(data: dict) -> str:
    unknown = sorted(set(data) - {"name"})
    if unknown:
        raise ApiError(422, f"unknown field(s): {', '.join(unknown)}; allowed: name")
    if "name" not in data:
        raise ApiError(422, "name is required")
    try:
        return clean_name(data["name"])
    except InvalidField as exc:
        raise ApiError(422, str(exc)) from None


@bp.post("/lists")
def create_list():
    name = _list_name(read_object(request))
    todo_list, lsn = store.create_list(_db(), actor(), name, max_lists=_settings().max_lists_per_account)
    return _answer({"list": todo_list}, lsn, 201)


@bp.patch("/lists/<id:list_id>")
def rename_list(list_id: int):
    todo_list, lsn = store.rename_list(_db(), actor(), list_id, _list_name(read_object(request)))
    return _answer({"list": todo_list}, lsn)


@bp.delete("/lists/<id:list_id>")
def delete_list(list_id: int):
    lsn = store.delete_list(_db(), actor(), list_id)
    return _answer({"deleted": list_id}, lsn)
