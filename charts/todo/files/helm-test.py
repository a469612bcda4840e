"""`helm test`: the frontend serves its pages, a person can sign up, and a write through
the public API becomes visible through the reader. Standard library only; runs in the
frontend image.

It signs up a throwaway account through the sign-up form, gets an API token with HTTP
Basic (POST /api/tokens), creates, reads and deletes an item through the token's
api_root, checks that /api/todos refuses a request without a token, and deletes the
account again (also when a check failed). Sign-ups per client address are limited
(accounts.limits.signupsPerAddressPerHour, 30 by default): one per run.

Environment: FRONTEND_URL (e.g. http://todo-frontend:80), TIMEOUT_SECONDS (default 60).
tools/kind-items.py uses Client, sign_up and api_token too.
"""

from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Answers are checked as they come (a sign-up answers 303), never followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Client:
    """HTTP to the frontend with a cookie jar (the session), following no redirect.

    Links the frontend hands out (api_root, an item's url) are built from PUBLIC_URL,
    which the test pod may not reach: only their path is used, on FRONTEND_URL. For the
    same reason a Secure session cookie (PUBLIC_URL is https) is sent over the plain
    http of the in-cluster Service.
    """

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar(policy)), _NoRedirect
        )

    def url(self, link: str) -> str:
        parts = urllib.parse.urlsplit(link)
        return self.base + parts.path + (f"?{parts.query}" if parts.query else "")

    def call(
        self,
        method: str,
        link: str,
        *,
        json_body: dict | None = None,
        form: dict | None = None,
        headers: dict | None = None,
    ) -> tuple[int, bytes, dict]:
        """(status, body, headers) of one request; `link` is a path or a URL the frontend gave."""
        data = None
        headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        # The URL is FRONTEND_URL (the chart's own http:// Service address) plus a path.
        request = urllib.request.Request(self.url(link), data=data, method=method, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)

    def csrf_token(self, path: str) -> str:
        """The CSRF token of the form on the page at `path` (which also sets the session cookie)."""
        status, body, _ = self.call("GET", path)
        found = CSRF_FIELD.search(body.decode(errors="replace"))
        if status != 200 or not found:
            raise AssertionError(f"GET {path} answered {status} without a form to fill in")
        return found.group(1)


def sign_up(client: Client, username: str, password: str) -> None:
    """A new account through the sign-up form; the client's cookie jar then holds its session."""
    form = {"username": username, "password": password, "csrf_token": client.csrf_token("/signup")}
    status, body, _ = client.call("POST", "/signup", form=form)
    if status != 303:
        raise AssertionError(f"POST /signup answered {status}, not 303: {body[:300]!r}")


def api_token(client: Client, username: str, password: str) -> dict:
    """POST /api/tokens with HTTP Basic: {"token", "list", "api_root"}."""
    basic = base64.b64encode(f"{username}:{password}".encode()).decode()
    status, body, _ = client.call("POST", "/api/tokens", headers={"Authorization": f"Basic {basic}"})
    if status != 201:
        raise AssertionError(f"POST /api/tokens answered {status}: {body[:300]!r}")
    return json.loads(body)


def delete_account(client: Client, password: str) -> None:
    form = {"password": password, "csrf_token": client.csrf_token("/account")}
    status, body, _ = client.call("POST", "/account/delete", form=form)
    if status != 303:
        raise AssertionError(f"POST /account/delete answered {status}, not 303: {body[:300]!r}")


def wait_for(client: Client, link: str, expected, what: str, timeout: float) -> None:
    """GET `link` until `expected(status, body)` holds: another frontend pod, or a replica
    still replaying, may answer first within the bound."""
    deadline = time.monotonic() + timeout
    while True:
        status, body, _ = client.call("GET", link)
        if expected(status, body):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout}s (GET {client.url(link)}: last answer {status})")
        time.sleep(1)


def check_pages(client: Client) -> None:
    status, body, _ = client.call("GET", "/signup")
    if status != 200 or b"<html" not in body.lower():
        raise AssertionError(f"GET /signup answered {status}, not an HTML page")
    print("ok: the frontend serves its pages")


def check_api_needs_a_token(client: Client) -> None:
    status, body, _ = client.call("GET", "/api/todos")
    if status != 401:
        raise AssertionError(f"GET /api/todos without a token answered {status}, not 401: {body[:200]!r}")
    print("ok: the API refuses a request without a token")


def check_write_is_read(client: Client, api_root: str, timeout: float) -> None:
    title = f"helm test {uuid.uuid4().hex[:12]}"
    status, body, _ = client.call("POST", api_root, json_body={"title": title})
    if status != 201:
        raise AssertionError(f"POST to the api_root answered {status}: {body[:200]!r}")
    item = json.loads(body)["url"]
    try:
        # The item's own URL, not the collection: that shows only the first page.
        def shows(status: int, body: bytes) -> bool:
            return status == 200 and json.loads(body).get("title") == title

        wait_for(client, item, shows, "the new item did not show", timeout)
        print("ok: a write through the writer is visible through the reader")
    finally:
        status, _, _ = client.call("DELETE", item)
    if status != 204:
        raise AssertionError(f"DELETE of the item answered {status}, not 204")
    wait_for(client, item, lambda status, _: status == 404, "the deleted item still showed", timeout)
    print("ok: the item is deleted")


def main() -> int:
    base = os.environ["FRONTEND_URL"]
    timeout = float(os.environ.get("TIMEOUT_SECONDS", "60"))
    client = Client(base)
    username, password = f"helm-test-{uuid.uuid4().hex[:12]}", secrets.token_urlsafe(18)
    signed_up = False
    try:
        check_pages(client)
        check_api_needs_a_token(client)
        sign_up(client, username, password)
        signed_up = True
        print(f"ok: signed up as {username}")
        token = api_token(client, username, password)
        print("ok: POST /api/tokens gave a token")
        check_write_is_read(client, token["api_root"], timeout)
        delete_account(client, password)
        signed_up = False
        gone = "the deleted account's api_root still answered"
        wait_for(client, token["api_root"], lambda status, _: status == 404, gone, timeout)
        print("ok: the throwaway account is deleted, and its token with it")
    except (AssertionError, OSError, ValueError, KeyError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        if signed_up:
            try:
                delete_account(client, password)
            except (AssertionError, OSError) as cleanup:
                print(f"could not delete the account {username}: {cleanup}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
