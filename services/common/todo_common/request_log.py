"""Request ids and one JSON log line per request.

Every request has an id: the caller's ``X-Request-ID`` when it is a short, plain token
(the frontend passes its own to the reader and the writer, so one click can be
followed across the three services), else a new one. The answer carries it back, and
the frontend's error pages show it, so a person can quote it.

The line names the route's template, never a path's values, and the account only as
an opaque id (a keyed hash, the same in the three services): never a username, a
password, a cookie, a token or a header.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
import uuid
from collections.abc import Callable

from flask import Flask, g, has_request_context, request

from .logs import redact
from .metrics import method_label, route_label
from .service_token import Actor

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and ._:- only, at most 64 characters: UUIDs, ULIDs and trace ids fit;
# nothing a log reader could mistake for another field or line.
_VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_MAX_PATH = 200
_PROBES = frozenset({"/healthz", "/readyz"})

log = logging.getLogger("todo.request")


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def outgoing_headers() -> dict[str, str]:
    """The header that carries this request's id to the next service."""
    current = request_id()
    return {REQUEST_ID_HEADER: current} if current else {}


def _incoming_id() -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex


class AccountIds:
    """Opaque account ids for logs: HMAC-SHA256 of the id under a key derived from the
    service-token key (which the three services share), cut to 12 hex digits."""

    def __init__(self, key: str):
        self._key = hmac.new(key.encode(), b"todo log account ids", hashlib.sha256).digest()

    def __call__(self, account_id: int) -> str:
        return hmac.new(self._key, str(account_id).encode(), hashlib.sha256).hexdigest()[:12]


def _actor_fields(actor: Actor | None, account_ids: AccountIds) -> dict:
    if actor is None:
        return {}
    if actor.api_token_hash is not None:
        return {"actor": "api_token"}
    if actor.account_id is not None:
        return {"actor": "session", "account": account_ids(actor.account_id)}
    return {"actor": "anonymous"}


def init_app(app: Flask, *, key: str, actor: Callable[[], Actor | None]) -> None:
    """``actor()`` says who the request acted for (called after the view)."""
    account_ids = AccountIds(key)

    @app.before_request
    def _begin():
        g.request_id = _incoming_id()
        g.request_log_started = time.perf_counter()

    @app.after_request
    def _end(response):
        current = g.get("request_id")
        if current is None:
            return response
        response.headers[REQUEST_ID_HEADER] = current
        try:
            who = actor()
        except Exception:  # who it was is not worth a failed answer
            who = None
        fields = {
            "request_id": current,
            "method": method_label(request.method),
            "route": route_label(),
            "path": redact(request.path)[:_MAX_PATH],
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.request_log_started) * 1000, 2),
            **_actor_fields(who, account_ids),
        }
        served_by = response.headers.get("X-Served-By")
        if served_by:
            fields["served_by"] = served_by
        # Probes come every few seconds from the kubelet: only their failures are news.
        level = logging.DEBUG if request.path in _PROBES and response.status_code < 400 else logging.INFO
        log.log(level, "%s %s %s", fields["method"], fields["route"], response.status_code, extra={"todo": fields})
        return response

    @app.context_processor
    def _request_id():
        return {"request_id": request_id()}
