"""The writer's JSON API: every change to the list, each answered with the WAL
position (``X-Commit-LSN`` header and ``lsn`` field) the change committed at."""

from __future__ import annotations

import logging
import threading
import time

from flask import Blueprint, current_app, jsonify, request

from todo_common.errors import ApiError
from todo_common.fields import checked
from todo_common.json_body import read_object
from todo_common.lsn import COMMIT_LSN_HEADER

from . import store

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


@bp.post("/todos")
def create_todo():
    fields = checked(read_object(request), FIELDS, required=("name",))
    name, completed, order = fields["name"], fields.get("completed", False), fields.get("order")
    key = _idempotency_key()
    if key is None:
        todo, lsn = store.create(_db(), name, completed, order)
        return _answer({"todo": todo}, lsn, 201)
    try:
        todo, lsn, replayed = store.create_idempotent(
            _db(), key, name, completed, order, _settings().idempotency_ttl_hours
        )
    except store.KeyReused:
        raise ApiError(422, f"this {IDEMPOTENCY_HEADER} was already used with a different request") from None
    _purge_old_keys_now_and_then()
    response = _answer({"todo": todo}, lsn, 201)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.patch("/todos/<todo_id:todo_id>")
def update_todo(todo_id: int):
    changes = checked(read_object(request), FIELDS)
    if not changes:
        raise ApiError(422, "nothing to change: send name, completed and/or order")
    try:
        todo, lsn = store.update(_db(), todo_id, changes)
    except store.NotFound:
        raise ApiError(404, f"todo {todo_id} not found") from None
    return _answer({"todo": todo}, lsn)


@bp.delete("/todos/<todo_id:todo_id>")
def delete_todo(todo_id: int):
    try:
        lsn = store.delete(_db(), todo_id)
    except store.NotFound:
        raise ApiError(404, f"todo {todo_id} not found") from None
    return _answer({"deleted": 1}, lsn)


@bp.delete("/todos")
def delete_todos():
    """``?completed=true`` clears completed items; without it, deletes every item."""
    which = request.args.get("completed")
    if which not in (None, "true"):
        raise ApiError(400, "completed may only be 'true' (clear completed items)")
    deleted, lsn = store.delete_all(_db(), completed_only=which == "true")
    return _answer({"deleted": deleted}, lsn)


@bp.post("/todos/mark-all")
def mark_all():
    completed = checked(read_object(request), {"completed": "completed"}, required=("completed",))["completed"]
    updated, lsn = store.set_all_completed(_db(), completed)
    return _answer({"updated": updated}, lsn)
