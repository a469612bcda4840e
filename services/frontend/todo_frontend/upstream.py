"""HTTP clients for the reader and the writer: pooled keep-alive connections, timeouts,
and errors turned into two exceptions the views can explain to a person.

``init_app`` builds one client per service and process; the views reach them with
``reader()`` and ``writer()``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import urllib3
from flask import Flask, current_app

from todo_common import request_log
from todo_common.lsn import COMMIT_LSN_HEADER, MIN_LSN_HEADER
from todo_common.service_auth import NOT_SIGNED_IN, SESSION_ENDED

from . import identity
from .settings import FrontendSettings
from .upstream_metrics import CountingRetry, observed

# Reads may be retried once on a dropped keep-alive connection; writes never, as the
# first attempt may have been applied. Built once: urllib3 copies it to count attempts.
_READ_RETRIES = CountingRetry(total=1, connect=1, read=0, status=0, allowed_methods={"GET"}, raise_on_status=False)


class UpstreamUnavailable(Exception):
    """The service could not be reached or answered 5xx; ``status`` is what to tell the browser."""

    def __init__(self, service: str, message: str, status: int = 503):
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.status = status


class UpstreamRejected(Exception):
    """The service refused the request (4xx): its message is meant for the user."""

    def __init__(self, status: int, message: str, retry_after: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class SessionEnded(UpstreamRejected):
    """The person's session ended elsewhere (logout, password change, deleted account)."""


@dataclass(frozen=True)
class Answer:
    status: int
    data: dict
    headers: urllib3.HTTPHeaderDict


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
        self._pool.todo_upstream = name  # names the retries CountingRetry counts

    @observed
    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict | None = None,
        headers: dict | None = None,
        query: dict | None = None,
    ) -> Answer:
        url = self._prefix + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        all_headers = {"Accept": "application/json", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        try:
            response = self._pool.urlopen(
                method,
                url,
                body=payload,
                headers=all_headers,
                retries=_READ_RETRIES if method == "GET" else False,
            )
        except urllib3.exceptions.TimeoutError:
            raise UpstreamUnavailable(self.name, "did not answer in time", 504) from None
        except urllib3.exceptions.HTTPError as exc:
            raise UpstreamUnavailable(self.name, f"unreachable ({type(exc).__name__})") from None
        try:
            data = json.loads(response.data) if response.data else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status >= 500:
            raise UpstreamUnavailable(self.name, data.get("error") or f"answered {response.status}", 503)
        if response.status == 401 and data.get("code") in (SESSION_ENDED, NOT_SIGNED_IN):
            raise SessionEnded(401, data["error"])
        if response.status >= 400:
            message = data.get("error") or f"request refused ({response.status})"
            raise UpstreamRejected(response.status, message, response.headers.get("Retry-After"))
        return Answer(response.status, data, response.headers)


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

    def _get(self, path: str, min_lsn: str | None, query: dict | None = None) -> dict:
        return self.upstream.request("GET", path, query=query, headers=_headers(min_lsn)).data

    def page(
        self, list_id: int | None, *, status: str, after: int, limit: int, min_lsn: str | None, with_lists: bool = False
    ) -> dict:
        query = {
            "list": list_id,
            "status": status,
            "after": after or None,
            "limit": limit,
            "with_lists": "true" if with_lists else None,
        }
        return self._get("/v1/todos", min_lsn, query)

    def get(self, todo_id: int, *, min_lsn: str | None) -> dict:
        return self._get(f"/v1/todos/{todo_id}", min_lsn)

    def counts(self, list_id: int | None = None, *, min_lsn: str | None) -> dict:
        return self._get("/v1/counts", min_lsn, {"list": list_id})

    def lists(self, *, min_lsn: str | None) -> dict:
        return self._get("/v1/lists", min_lsn)

    def account(self, *, min_lsn: str | None) -> dict:
        return self._get("/v1/account", min_lsn)


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
