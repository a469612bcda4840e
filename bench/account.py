"""The person the benchmark measures as: an account signed up through the frontend's
own form, whose browser carries the session cookie every page scenario sends.

The reader and the writer accept only calls signed by the frontend, so the API
scenarios sign a service token for this person the way the frontend does
(``todo_common.service_token``, the stack's SERVICE_TOKEN_KEY). A token lives 60 s:
each scenario run mints its own right before it starts (a run lasts at most a few
seconds), so no token's lifetime has to be stretched."""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from flask.sessions import session_json_serializer
from itsdangerous import URLSafeTimedSerializer

from todo_common import service_token
from todo_common.service_token import Actor

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_SESSION = re.compile(r"(?:^|[,\s])session=([^;]+)")
_ITEM_ID = re.compile(r'<li class="todo[^"]*" id="todo-(\d+)"')
_UPDATE_LINK = re.compile(r'href="/update/(\d+)"')  # the original app's items
_ITEMS_LEFT = re.compile(r'<span class="todo-count"[^>]*><strong>(\d+)</strong>')

PASSWORD = "bench password, long enough"


@dataclass
class Page:
    status: int
    location: str
    cookie: str | None  # the session cookie the answer set, if it set one
    html: str
    size: int = 0  # bytes of the body

    @property
    def csrf_token(self) -> str | None:
        match = _CSRF.search(self.html)
        return match.group(1) if match else None

    @property
    def item_ids(self) -> list[int]:
        return [int(i) for i in _ITEM_ID.findall(self.html)]

    @property
    def original_item_ids(self) -> list[int]:
        """The items of the original app's page (one Update link each)."""
        return [int(i) for i in _UPDATE_LINK.findall(self.html)]

    @property
    def items_left(self) -> int | None:
        match = _ITEMS_LEFT.search(self.html)
        return int(match.group(1)) if match else None


def request(base_url: str, method: str, path: str, *, cookie: str = "", form: dict | None = None) -> Page:
    """One request as a browser sends it (no redirect followed)."""
    conn = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=30)
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        body = response.read()
        set_cookie = _SESSION.search(", ".join(response.headers.get_all("Set-Cookie") or []))
        location = response.getheader("Location", "")
        return Page(response.status, location, set_cookie and set_cookie.group(1), body.decode(), len(body))
    finally:
        conn.close()


@dataclass
class Person:
    username: str
    account_id: int
    generation: int
    list_id: int
    cookie: str  # the session cookie of the browser that signed up (logged in)

    def service_headers(self, key: str) -> dict[str, str]:
        """What the frontend sends the reader and the writer on this person's behalf:
        a fresh service token, valid for the next 60 s."""
        actor = Actor(account_id=self.account_id, generation=self.generation)
        return {"Authorization": "Bearer " + service_token.sign(key, actor)}


def _account_form(frontend_url: str, path: str, username: str) -> str:
    """Send the sign-up or log-in form at ``path`` as a browser with no cookie does (GET
    for the CSRF token, then POST it with the bench password); the session cookie the
    frontend answers with: a new session, signed in, with no CSRF token yet."""
    form = request(frontend_url, "GET", path)
    if form.status != 200 or form.csrf_token is None or form.cookie is None:
        raise RuntimeError(f"GET {path} answered {form.status}: {form.html[:300]}")
    answer = request(
        frontend_url,
        "POST",
        path,
        cookie=form.cookie,
        form={"csrf_token": form.csrf_token, "username": username, "password": PASSWORD},
    )
    if answer.status != 303 or answer.cookie is None or "/login" in answer.location:
        raise RuntimeError(f"POST {path} for {username} answered {answer.status}: {answer.html[:500]}")
    return answer.cookie


def sign_up(frontend_url: str, primary, username: str) -> Person:
    """Sign ``username`` up through the frontend's form, and look up the account's id,
    session generation and first list."""
    cookie = _account_form(frontend_url, "/signup", username)
    with primary.cursor() as cur:
        cur.execute(
            "SELECT a.id, a.session_generation, min(l.id) FROM accounts a JOIN todo_lists l ON l.account_id = a.id"
            " WHERE a.username = %s GROUP BY a.id",
            (username,),
        )
        account_id, generation, list_id = cur.fetchone()
    return Person(username, account_id, generation, list_id, cookie)


def log_in(frontend_url: str, username: str) -> str:
    """Log ``username`` in through the frontend's form; the fresh session cookie names the
    account and carries the log-in's WAL position (a log-in writes), no CSRF token."""
    return _account_form(frontend_url, "/login", username)


def session_data(cookie: str) -> dict:
    """What a Flask session cookie holds (read, not verified: the harness only looks)."""
    reader = URLSafeTimedSerializer("unused", salt="cookie-session", serializer=session_json_serializer)
    return reader.loads_unsafe(cookie)[1]
