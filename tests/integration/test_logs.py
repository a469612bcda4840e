"""Logs and request ids on the running stack: one JSON line per request on each
service; the frontend's request id reaches the reader's and the writer's lines for the
same request and comes back to the caller (and onto error pages); no line ever holds a
password, a session cookie or a token."""

from __future__ import annotations

import json
import re
import time
import uuid

import requests

from ..helpers import Browser, signed_in

REQUEST_FIELDS = {"time", "level", "service", "request_id", "method", "route", "path", "status", "duration_ms"}
# A JWT (the service tokens) or a Flask session cookie (base64 JSON, maybe compressed).
_SIGNED = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|\.eJ[A-Za-z0-9_-]{20,}")


def _lines(stack, service: str) -> list[dict]:
    entries = []
    for line in (stack.logs / f"{service}.log").read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


def _raw(stack) -> str:
    return "\n".join((stack.logs / f"{s}.log").read_text(errors="replace") for s in ("frontend", "reader", "writer"))


def _with_id(stack, service: str, request_id: str, timeout: float = 5) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = [entry for entry in _lines(stack, service) if entry.get("request_id") == request_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_one_request_id_across_the_three_services(stack):
    browser = signed_in(stack)
    token = requests.post(stack.frontend_url + "/api/tokens", auth=(browser.username, browser.password), timeout=10)
    api_root = token.json()["api_root"]
    request_id = "test-" + uuid.uuid4().hex
    # An API create: the frontend calls the writer, then waits for the reader to have it.
    answer = requests.post(api_root, json={"title": "followed"}, headers={"X-Request-ID": request_id}, timeout=10)
    assert answer.status_code == 201
    assert answer.headers["X-Request-ID"] == request_id
    for service in ("frontend", "reader", "writer"):
        entries = [e for e in _with_id(stack, service, request_id) if e.get("logger") == "todo.request"]
        assert entries, f"no {service} line with the request id"
        for entry in entries:
            assert set(entry) >= REQUEST_FIELDS, entry
            assert entry["service"] == service
    (front,) = [e for e in _with_id(stack, "frontend", request_id) if e.get("logger") == "todo.request"]
    assert front["route"] == "/api/t/<token>/todos" and front["status"] == 201 and front["method"] == "POST"
    assert api_root.rsplit("/t/", 1)[1].split("/")[0] not in json.dumps(front)
    assert front["path"].startswith("/api/t/[redacted]")
    (write,) = [e for e in _with_id(stack, "writer", request_id) if e.get("logger") == "todo.request"]
    assert write["route"] == "/v1/todos" and write["status"] == 201 and write["actor"] == "api_token"


def test_a_session_is_logged_as_an_opaque_account_id(stack):
    browser = signed_in(stack)
    request_id = "test-" + uuid.uuid4().hex
    assert browser.get("/", headers={"X-Request-ID": request_id}).status_code == 200
    (front,) = [e for e in _with_id(stack, "frontend", request_id) if e.get("logger") == "todo.request"]
    reads = [e for e in _with_id(stack, "reader", request_id) if e.get("logger") == "todo.request"]
    assert front["actor"] == "session" and re.fullmatch(r"[0-9a-f]{12}", front["account"])
    assert reads and all(entry["account"] == front["account"] for entry in reads)
    assert browser.username not in json.dumps([front, *reads])


def test_an_unusable_request_id_is_replaced(stack):
    for bad in ("has spaces", "x" * 200, 'quote"s;and=more'):
        answer = requests.get(stack.frontend_url + "/login", headers={"X-Request-ID": bad}, timeout=10)
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"]), bad


def test_error_pages_show_the_request_id(stack):
    browser = signed_in(stack)
    page = browser.get("/lists/987654321", headers={"X-Request-ID": "ask-about-this-1"})
    assert page.status_code == 404
    assert "ask-about-this-1" in page.text
    unknown = requests.get(stack.frontend_url + "/no/such/page", timeout=10)
    assert unknown.headers["X-Request-ID"] in unknown.text


def test_no_log_line_holds_a_password_a_cookie_or_a_token(stack):
    """Everything secret this test sends, and everything secret-shaped any test sent so
    far (the logs hold the whole run): passwords, session cookies, API tokens, service
    tokens."""
    password = "correct horse " + uuid.uuid4().hex
    browser = Browser(stack.frontend_url)
    browser.sign_up(password=password)
    browser.log_in(browser.username, "wrong " + password)
    browser.log_in(browser.username, password)
    browser.post("/account/password", {"current_password": password, "new_password": password + " 2"})
    cookie = browser.http.cookies.get("session")
    assert cookie
    token = requests.post(
        stack.frontend_url + "/api/tokens", auth=(browser.username, password + " 2"), timeout=10
    ).json()["token"]
    requests.get(f"{stack.frontend_url}/api/t/{token}/todos", timeout=10)
    requests.post(f"{stack.frontend_url}/api/t/{token}/todos", json={"title": "x"}, timeout=10)
    requests.get(stack.frontend_url + "/api/todos", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    requests.get(stack.frontend_url + "/api/t/not-a-real-token/todos", timeout=10)
    time.sleep(0.5)
    text = _raw(stack)
    for secret in (password, "wrong " + password, cookie, token, "a long enough password"):
        assert secret not in text, f"a log line holds {secret[:12]}..."
    assert "not-a-real-token" not in text
    assert not _SIGNED.search(text), _SIGNED.search(text).group(0)[:40]
    assert "Authorization" not in text and "Bearer " not in text
