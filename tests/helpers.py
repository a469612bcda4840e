"""Small helpers the integration tests share: a browser-like session for the
frontend's forms, and control over the replica's replay."""

from __future__ import annotations

import re
import time
from contextlib import closing, contextmanager

import requests

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """Cookies, CSRF token and form posts, as a browser with JavaScript off does them."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()
        self.token: str | None = None

    def get(self, path: str = "/", **kwargs) -> requests.Response:
        response = self.http.get(self.base_url + path, timeout=10, **kwargs)
        match = _CSRF.search(response.text)
        if match:
            self.token = match.group(1)
        return response

    def post(self, path: str, data: dict | None = None, *, token: bool = True, **kwargs) -> requests.Response:
        if self.token is None:
            self.get("/")
        form = dict(data or {})
        if token:
            form.setdefault("csrf_token", self.token)
        response = self.http.post(self.base_url + path, data=form, timeout=10, **kwargs)
        match = _CSRF.search(response.text)
        if match:
            self.token = match.group(1)
        return response


def row_count(conn, where: str = "true", params: tuple = ()) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM todo_list WHERE {where}", params)
        return cur.fetchone()[0]


@contextmanager
def replay_paused(replica_conn):
    """The replica keeps receiving WAL but stops applying it: a lag we control."""
    with closing(replica_conn.cursor()) as cur:
        # Once requested, no further WAL record is applied (state "pause requested"
        # turns "paused" only when the next record arrives).
        cur.execute("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        with closing(replica_conn.cursor()) as cur:
            cur.execute("SELECT pg_wal_replay_resume()")


def wait_replayed(primary_conn, replica_conn, timeout: float = 10) -> None:
    with closing(primary_conn.cursor()) as cur:
        cur.execute("SELECT pg_current_wal_lsn()")
        target = cur.fetchone()[0]
    deadline = time.monotonic() + timeout
    with closing(replica_conn.cursor()) as cur:
        while time.monotonic() < deadline:
            cur.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))
            if cur.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the replica did not catch up")
