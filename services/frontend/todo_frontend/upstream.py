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

from todo_common.lsn import COMMIT_LSN_HEADER, MIN_LSN_HEADER

from .settings import FrontendSettings

# Reads may be retried once on a dropped keep-alive connection; writes never, as the
# first attempt may have been applied. Built once: urllib3 copies it to count attempts.
_READ_RETRIES = urllib3.Retry(total=1, connect=1, read=0, status=0, allowed_methods={"GET"}, raise_on_status=False)


class UpstreamUnavailable(Exception):
    """The service could not be reached or answered 5xx; ``status`` is what to tell the browser."""

    def __init__(self, service: str, message: str, status: int = 503):
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.status = status


class UpstreamRejected(Exception):
    """The service refused the request (4xx): its message is meant for the user."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


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
        if response.status >= 400:
            raise UpstreamRejected(response.status, data.get("error") or f"request refused ({response.status})")
        return Answer(response.status, data, response.headers)


def _lsn_headers(min_lsn: str | None) -> dict:
    return {MIN_LSN_HEADER: min_lsn} if min_lsn else {}


class ReaderClient:
    def __init__(self, upstream: Upstream):
        self.upstream = upstream

    def page(self, *, status: str, after: int, limit: int, min_lsn: str | None) -> dict:
        query = {"status": status, "after": after or None, "limit": limit}
        return self.upstream.request("GET", "/v1/todos", query=query, headers=_lsn_headers(min_lsn)).data

    def get(self, todo_id: int, *, min_lsn: str | None) -> dict:
        return self.upstream.request("GET", f"/v1/todos/{todo_id}", headers=_lsn_headers(min_lsn)).data

    def counts(self, *, min_lsn: str | None) -> Answer:
        return self.upstream.request("GET", "/v1/counts", headers=_lsn_headers(min_lsn))


class WriterClient:
    """Each method returns (body, lsn): the LSN the change committed at."""

    def __init__(self, upstream: Upstream):
        self.upstream = upstream

    def _write(
        self, method: str, path: str, body: dict | None = None, headers: dict | None = None, query: dict | None = None
    ) -> tuple[dict, str]:
        answer = self.upstream.request(method, path, body=body, headers=headers, query=query)
        return answer.data, answer.headers.get(COMMIT_LSN_HEADER) or answer.data.get("lsn")

    def create(self, fields: dict, *, idempotency_key: str | None = None) -> tuple[dict, str]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._write("POST", "/v1/todos", fields, headers)

    def update(self, todo_id: int, changes: dict) -> tuple[dict, str]:
        return self._write("PATCH", f"/v1/todos/{todo_id}", changes)

    def delete(self, todo_id: int) -> tuple[dict, str]:
        return self._write("DELETE", f"/v1/todos/{todo_id}")

    def delete_all(self, *, completed_only: bool) -> tuple[dict, str]:
        return self._write("DELETE", "/v1/todos", query={"completed": "true" if completed_only else None})

    def mark_all(self, completed: bool) -> tuple[dict, str]:
        return self._write("POST", "/v1/todos/mark-all", {"completed": completed})


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
