"""Small helpers the integration tests share: people with accounts (a browser-like
session for the frontend's forms, or service tokens for calling the reader and the
writer directly), and control over the replica's replay."""

from __future__ import annotations

import re
import time
import uuid
from contextlib import closing, contextmanager

import requests

from todo_common import service_token
from todo_common.service_token import Actor

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

    def sign_up(self, username: str | None = None, password: str = "a long enough password") -> requests.Response:
        """A new account through the sign-up form; the browser is then logged in."""
        self.username = username or unique_name("user")
        self.password = password
        self.get("/signup")
        response = self.post("/signup", {"username": self.username, "password": password})
        assert response.status_code == 200 and response.url.endswith("/"), response.text[:500]
        return response

    def log_in(self, username: str, password: str) -> requests.Response:
        self.get("/login")
        return self.post("/login", {"username": username, "password": password})

    def list_path(self) -> str:
        """The path of the list the home page shows (the person's first list)."""
        match = re.search(r'action="(/lists/\d+)/todos"', self.get("/").text)
        assert match, "no list on the home page"
        return match.group(1)

    def post(self, path: str, data: dict | None = None, *, token: bool = True, **kwargs) -> requests.Response:
        if self.token is None:
            self.get("/login")
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


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def signed_in(stack) -> Browser:
    """A browser of a new person, signed up through the pages."""
    browser = Browser(stack.frontend_url)
    browser.sign_up()
    return browser


def service_headers(stack, actor: Actor) -> dict:
    """What the frontend sends the reader and the writer on ``actor``'s behalf."""
    return {"Authorization": "Bearer " + service_token.sign(stack.passwords["service_token_key"], actor)}


class Person:
    """An account made through the writer, for tests that call reader and writer directly."""

    def __init__(self, stack, username: str | None = None, password: str = "a long enough password"):
        self.stack = stack
        self.username = username or unique_name("person")
        self.password = password
        answer = requests.post(
            stack.url("writer") + "/v1/accounts",
            json={"username": self.username, "password": password},
            headers=service_headers(stack, Actor()),
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        self.id = body["account"]["id"]
        self.generation = body["generation"]
        self.list_id = body["list"]

    def headers(self, **extra) -> dict:
        return {**service_headers(self.stack, Actor(account_id=self.id, generation=self.generation)), **extra}

    def writer(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs["headers"] = self.headers(**kwargs.get("headers", {}))
        return requests.request(method, self.stack.url("writer") + path, timeout=10, **kwargs)

    def reader(self, path: str, **kwargs) -> requests.Response:
        kwargs["headers"] = self.headers(**kwargs.get("headers", {}))
        return requests.get(self.stack.url("reader") + path, timeout=10, **kwargs)

    def api_root(self, list_id: int | None = None) -> str:
        """A Todo-Backend collection URL for one of this person's lists."""
        answer = requests.post(
            self.stack.frontend_url + "/api/tokens",
            auth=(self.username, self.password),
            json={} if list_id is None else {"list": list_id},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["api_root"]


# -- faults: services and the replica going down, in-process frontends ------------------

FAR_FUTURE_LSN = "FFFF/0"


def name_for(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


@contextmanager
def service_down(stack, service: str):
    stack.stop_service(service)
    try:
        yield
    finally:
        stack.start_service(service)
        stack.wait_ready(service)


@contextmanager
def replica_down(stack):
    """The replica stopped hard; after, it streams again and the reader reads it again
    (within its retry window) before the next test."""
    stack.cluster.replica.stop(mode="immediate")
    try:
        yield
    finally:
        stack.cluster.replica.start()
        stack.cluster.wait_until_streaming()
        person, deadline = Person(stack), time.monotonic() + 5
        while person.reader("/v1/counts").headers.get("X-Served-By") != "replica":
            assert time.monotonic() < deadline, "the reader did not go back to the replica within 5 s"
            time.sleep(0.1)


def metric(base_url: str, name: str, labels: str = "") -> float:
    """A counter's value summed over the lines whose labels contain ``labels``."""
    text = requests.get(base_url + "/metrics", timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name) and labels in line)


def frontend_client(stack, **env):
    """An in-process frontend (the same code gunicorn runs) with its own settings."""
    from todo_common.settings import Env
    from todo_frontend import create_app
    from todo_frontend.settings import FrontendSettings

    app = create_app(FrontendSettings.from_env(Env({**stack.service_env("frontend"), **env})))
    return app, app.test_client()
