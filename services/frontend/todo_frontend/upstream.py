"""HTTP clients for the reader and the writer: pooled keep-alive connections, timeouts,
and errors turned into two exceptions the views can explain to a person.

``init_app`` builds one client per service and process; the views reach them with
``reader()`` and ``writer()``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlencode, urlsplit

import orjson
import urllib3
from flask import Flask, current_app, g

from todo_common import request_log
from todo_common.errors import OUTCOME_UNKNOWN
from todo_common.lsn import COMMIT_LSN_HEADER, MIN_LSN_HEADER
from todo_common.service_auth import NOT_SIGNED_IN, SESSION_ENDED

from . import identity, session_lsn
from .settings import FrontendSettings
from .upstream_metrics import RETRIES, observed

# How a call can fail, as the person or script should hear it: a service that cannot
# be reached (503: nothing was applied), one that did not answer in time (504), and -
# for a change - a connection lost after the request went out, where the change may or
# may not have been applied (OutcomeUnknown: 502, or 504 after a timeout).
_CONNECT_ERRORS = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
# Methods that may be sent twice: reads, and changes that set a state (PATCH sets
# fields, DELETE removes one thing). A POST is repeated only with an Idempotency-Key.
_REPEATABLE = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})


class UpstreamUnavailable(Exception):
    """The service could not be reached or answered 5xx; ``status`` is what to tell the browser."""

    def __init__(self, service: str, message: str, status: int = 503):
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.status = status

    def for_a_person(self) -> str:
        """What a form's page says when the form could not be handled."""
        return f"That did not work: the {self.service} service is unavailable ({self.message}). Please try again."


class Unreachable(UpstreamUnavailable):
    """Nothing reached the service (could not connect), or a read lost its connection:
    safe to send once more."""


class OutcomeUnknown(UpstreamUnavailable):
    """A change went out and no answer came back (connection lost, timeout, or the
    writer lost its database mid-way): it may or may not have been applied. Tell the
    caller so, never "failed": a blind retry would apply it twice."""

    def __init__(self, service: str, message: str, status: int = 502, idempotency_key: str | None = None):
        super().__init__(service, message, status)
        self.idempotency_key = idempotency_key


class UpstreamRejected(Exception):
    """The service refused the request (4xx): its message is meant for the user.
    ``after_unknown``: an earlier attempt of the same call may have been applied (a
    DELETE that answers 404 the second time had done its work the first)."""

    def __init__(self, status: int, message: str, retry_after: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.after_unknown = False


class SessionEnded(UpstreamRejected):
    """The person's session ended elsewhere (logout, password change, deleted account)."""


@dataclass(frozen=True)
class Answer:
    status: int
    data: dict  # the decoded JSON body ({} when not asked to decode)
    headers: urllib3.HTTPHeaderDict
    body: bytes = b""


class Upstream:
    """One service behind a keep-alive connection pool (one per process and service)."""

    def __init__(self, name: str, base_url: str, *, timeout: float, pool_size: int):
        parts = urlsplit(base_url)
        self.name = name
        self._prefix = parts.path.rstrip("/")
        # block=True: a thread waits for a free connection rather than opening a
        # throw-away one, so connections are reused, never churned.
        self._pool = urllib3.connection_from_url(
            base_url,
            maxsize=pool_size,
            block=True,
            timeout=urllib3.Timeout(connect=min(timeout, 2.0), read=timeout),
            retries=False,
        )

    @observed
    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict | None = None,
        headers: dict | None = None,
        query: dict | None = None,
        decode: bool = True,
    ) -> Answer:
        """``decode=False``: leave a successful answer's JSON undecoded (``body``)."""
        url = self._prefix + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        all_headers = {"Accept": "application/json", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        key = all_headers.get("Idempotency-Key")
        repeatable = method in _REPEATABLE or key is not None
        unknown: OutcomeUnknown | None = None  # an earlier attempt's change may have been applied
        for attempt in (1, 2):
            try:
                return self._once(method, url, payload, all_headers, decode)
            except OutcomeUnknown as exc:
                exc.idempotency_key = key
                if not repeatable or attempt == 2:
                    raise
                unknown = exc  # safe to send again: the repeat is a replay
                RETRIES.labels(self.name).inc()
            except UpstreamUnavailable as exc:
                if unknown is not None:  # the repeat could not be sent: still unknown
                    raise unknown from exc
                if attempt == 2 or not isinstance(exc, Unreachable):
                    raise  # an answer (a 503 says why) or a timeout: not repeated
                # Nothing was applied: once more, a restarted pod may be there now.
                RETRIES.labels(self.name).inc()
                time.sleep(0.05)
            except UpstreamRejected as exc:
                exc.after_unknown = unknown is not None
                raise
        raise AssertionError("unreachable")

    def _once(self, method: str, url: str, payload: bytes | None, headers: dict, decode: bool) -> Answer:
        change = method not in ("GET", "HEAD")
        try:
            response = self._pool.urlopen(method, url, body=payload, headers=headers, retries=False)
        except urllib3.exceptions.MaxRetryError as exc:  # only if a caller passes retries
            self._raise_for(exc.reason or exc, change)
        except urllib3.exceptions.HTTPError as exc:
            self._raise_for(exc, change)
        if response.status < 400 and not decode:
            return Answer(response.status, {}, response.headers, response.data)
        try:
            data = orjson.loads(response.data) if response.data else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status >= 500:
            message = data.get("error") or f"answered {response.status}"
            if change and (response.status != 503 or data.get("code") == OUTCOME_UNKNOWN):
                # Only a 503 says "nothing applied"; a 500 or 502 may come after a commit.
                raise OutcomeUnknown(self.name, message, 502)
            raise UpstreamUnavailable(self.name, message, 503 if response.status != 504 else 504)
        if response.status == 401 and data.get("code") in (SESSION_ENDED, NOT_SIGNED_IN):
            raise SessionEnded(401, data["error"])
        if response.status >= 400:
            message = data.get("error") or f"request refused ({response.status})"
            raise UpstreamRejected(response.status, message, response.headers.get("Retry-After"))
        return Answer(response.status, data, response.headers, response.data)

    def _raise_for(self, exc: BaseException, change: bool) -> NoReturn:
        if isinstance(exc, _CONNECT_ERRORS):
            raise Unreachable(self.name, "unreachable (could not connect)", 503) from None
        if isinstance(exc, urllib3.exceptions.TimeoutError):  # the request went out; no answer in time
            if change:
                raise OutcomeUnknown(self.name, "did not answer in time", 504) from None
            raise UpstreamUnavailable(self.name, "did not answer in time", 504) from None
        # The connection dropped after the request went out (ProtocolError and the like).
        if change:
            raise OutcomeUnknown(self.name, f"the connection was lost ({type(exc).__name__})", 502) from None
        raise Unreachable(self.name, f"the connection was lost ({type(exc).__name__})", 503) from None


def _lsn_feedback(sent: str, headers) -> None:
    """Pass on what the reader said about the LSN we sent: to the session (pages) or
    to the process's high-water mark (public API), which forget it when useless."""
    replay, stale = headers.get("X-Replay-LSN"), headers.get("X-Min-LSN-Status") == "stale"
    if g.get("api_request"):
        current_app.extensions["todo_api_high_water"].feedback(sent, replay, stale)
    else:
        session_lsn.feedback(sent, replay, stale)


def _headers(min_lsn: str | None = None) -> dict:
    """Who acts (a service token for the current person or script) and, for reads,
    the LSN of their latest write."""
    headers = {**identity.authorization_header(), **request_log.outgoing_headers()}
    if min_lsn:
        headers[MIN_LSN_HEADER] = min_lsn
    return headers


class ReaderClient:
    def __init__(self, upstream: Upstream):
        self.upstream = upstream

    def _get(
        self,
        path: str,
        min_lsn: str | None,
        query: dict | None = None,
        *,
        replica_only: bool = False,
        decode: bool = True,
    ) -> Answer:
        headers = _headers(min_lsn)
        if replica_only:  # confirm on the replica itself, never the fallback
            headers["X-Replica-Only"] = "true"
        answer = self.upstream.request("GET", path, query=query, headers=headers, decode=decode)
        if min_lsn:
            _lsn_feedback(min_lsn, answer.headers)
        return answer

    def page(
        self, list_id: int | None, *, status: str, after: int, limit: int, min_lsn: str | None, with_lists: bool = False
    ) -> dict:
        return orjson.loads(
            self.page_json(list_id, status=status, after=after, limit=limit, min_lsn=min_lsn, with_lists=with_lists)
        )

    def page_json(
        self, list_id: int | None, *, status: str, after: int, limit: int, min_lsn: str | None, with_lists: bool = False
    ) -> bytes:
        """The page as the reader's JSON, undecoded (see ``list_html``)."""
        query = {
            "list": list_id,
            "status": status,
            "after": after or None,
            "limit": limit,
            "with_lists": "true" if with_lists else None,
        }
        return self._get("/v1/todos", min_lsn, query, decode=False).body

    def get(self, todo_id: int, *, min_lsn: str | None, on_replica: bool = False) -> dict:
        return self._get(f"/v1/todos/{todo_id}", min_lsn, replica_only=on_replica).data

    def counts(self, list_id: int | None = None, *, min_lsn: str | None, on_replica: bool = False) -> dict:
        return self._get("/v1/counts", min_lsn, {"list": list_id}, replica_only=on_replica).data

    def lists(self, *, min_lsn: str | None) -> dict:
        return self._get("/v1/lists", min_lsn).data

    def account(self, *, min_lsn: str | None) -> dict:
        return self._get("/v1/account", min_lsn).data


class WriterClient:
    """Item and list changes return (body, lsn): the LSN the change committed at;
    account calls return the body, which carries ``lsn`` too."""

    def __init__(self, upstream: Upstream):
        self.upstream = upstream

    def _write(
        self, method: str, path: str, body: dict | None = None, headers: dict | None = None, query: dict | None = None
    ) -> tuple[dict, str]:
        answer = self.upstream.request(method, path, body=body, headers={**_headers(), **(headers or {})}, query=query)
        return answer.data, answer.headers.get(COMMIT_LSN_HEADER) or answer.data.get("lsn")

    def create(self, list_id: int | None, fields: dict, *, idempotency_key: str | None = None) -> tuple[dict, str]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        body = fields if list_id is None else {**fields, "list": list_id}
        return self._write("POST", "/v1/todos", body, headers)

    def update(self, todo_id: int, changes: dict) -> tuple[dict, str]:
        return self._write("PATCH", f"/v1/todos/{todo_id}", changes)

    def delete(self, todo_id: int) -> tuple[dict, str]:
        return self._write("DELETE", f"/v1/todos/{todo_id}")

    def delete_all(self, list_id: int | None, *, completed_only: bool) -> tuple[dict, str]:
        query = {"list": list_id, "completed": "true" if completed_only else None}
        return self._write("DELETE", "/v1/todos", query=query)

    def mark_all(self, list_id: int | None, completed: bool) -> tuple[dict, str]:
        body = {"completed": completed} if list_id is None else {"completed": completed, "list": list_id}
        return self._write("POST", "/v1/todos/mark-all", body)

    def create_list(self, name: str) -> dict:
        return self._write("POST", "/v1/lists", {"name": name})[0]

    def rename_list(self, list_id: int, name: str) -> dict:
        return self._write("PATCH", f"/v1/lists/{list_id}", {"name": name})[0]

    def delete_list(self, list_id: int) -> dict:
        return self._write("DELETE", f"/v1/lists/{list_id}")[0]

    def sign_up(self, username: str, password: str) -> dict:
        return self._write("POST", "/v1/accounts", {"username": username, "password": password})[0]

    def log_in(self, username: str, password: str) -> dict:
        return self._write("POST", "/v1/sessions", {"username": username, "password": password})[0]

    def log_out(self) -> dict:
        return self._write("DELETE", "/v1/sessions")[0]

    def change_password(self, current: str, new: str) -> dict:
        return self._write("PUT", "/v1/account/password", {"current_password": current, "new_password": new})[0]

    def delete_account(self, password: str) -> dict:
        return self._write("DELETE", "/v1/account", {"password": password})[0]

    def create_token(self, list_id: int | None, *, username: str | None = None, password: str | None = None) -> dict:
        body: dict = {} if list_id is None else {"list": list_id}
        if username is not None:
            body.update(username=username, password=password)
        return self._write("POST", "/v1/tokens", body)[0]

    def revoke_token(self, token_id: int) -> dict:
        return self._write("DELETE", f"/v1/tokens/{token_id}")[0]


def init_app(app: Flask, settings: FrontendSettings) -> None:
    def upstream(name: str, url: str) -> Upstream:
        return Upstream(name, url, timeout=settings.upstream_timeout, pool_size=settings.upstream_pool_size)

    app.extensions["todo_reader_client"] = ReaderClient(upstream("reader", settings.reader_url))
    app.extensions["todo_writer_client"] = WriterClient(upstream("writer", settings.writer_url))


def reader() -> ReaderClient:
    """The current app's reader client."""
    return current_app.extensions["todo_reader_client"]


def writer() -> WriterClient:
    """The current app's writer client."""
    return current_app.extensions["todo_writer_client"]
