"""`helm test`: the frontend serves a page, a person can sign up, and a write through
the public API becomes visible through the reader; the test's account is deleted
after. Standard library only; runs in the frontend image.

Environment: FRONTEND_URL (e.g. http://todo-frontend:80), TIMEOUT_SECONDS (default 60).
"""

import base64
import http.cookiejar
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

# A browser's cookie jar, for the sign-up and account forms (session and CSRF token).
BROWSER = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
PASSWORD = uuid.uuid4().hex


def call(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    # The URL is the chart's own http:// Service address (FRONTEND_URL), never user input.
    headers = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def form(url: str, fields: dict | None = None) -> str:
    """GET (no fields) or POST a form as a browser does; the page it lands on."""
    data = None if fields is None else urllib.parse.urlencode(fields).encode()
    with BROWSER.open(urllib.request.Request(url, data=data), timeout=10) as response:  # noqa: S310
        return response.read().decode()


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_up(base: str) -> tuple[str, str]:
    """A new account through the sign-up form, and an API token for its list."""
    username = f"helm-test-{uuid.uuid4().hex[:12]}"
    form(base + "/signup", {"username": username, "password": PASSWORD, "csrf_token": csrf(form(base + "/signup"))})
    basic = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    status, body = call("POST", base + "/api/tokens", headers={"Authorization": f"Basic {basic}"})
    if status != 201:
        raise AssertionError(f"POST /api/tokens answered {status}: {body[:200]!r}")
    print("ok: a person signs up and gets an API token")
    return username, json.loads(body)["api_root"]


def delete_account(base: str) -> None:
    form(base + "/account/delete", {"password": PASSWORD, "csrf_token": csrf(form(base + "/account"))})


def check_page(base: str) -> None:
    status, body = call("GET", base + "/")
    if status != 200 or b"<html" not in body.lower():
        raise AssertionError(f"GET / answered {status}, not an HTML page")
    print("ok: the frontend serves its page")


def check_write_is_read(api_root: str, timeout: float) -> None:
    title = f"helm test {uuid.uuid4().hex[:12]}"
    status, body = call("POST", api_root, {"title": title})
    if status != 201:
        raise AssertionError(f"POST {api_root.rsplit('/t/', 1)[0]}/t/.../todos answered {status}: {body[:200]!r}")
    url = json.loads(body)["url"]
    # Another frontend pod may answer the read; the reader catches up within the bound.
    # The item's own URL, not the collection: that shows only the first page.
    deadline = time.monotonic() + timeout
    while True:
        status, body = call("GET", url)
        if status == 200 and json.loads(body).get("title") == title:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"the new item did not show at its url within {timeout}s (last {status})")
        time.sleep(1)
    print("ok: a write through the writer is visible through the reader")


def main() -> int:
    base = os.environ["FRONTEND_URL"].rstrip("/")
    timeout = float(os.environ.get("TIMEOUT_SECONDS", "60"))
    try:
        check_page(base)
        _, api_root = sign_up(base)
        try:
            check_write_is_read(api_root, timeout)
        finally:
            delete_account(base)  # with its list and items
    except (AssertionError, OSError, ValueError, KeyError, AttributeError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
