"""`helm test`: the frontend serves a page, and a write through it becomes visible
through the reader. Standard library only; runs in the frontend image.

Environment: FRONTEND_URL (e.g. http://todo-frontend:80), TIMEOUT_SECONDS (default 60).
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


def call(method: str, url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    # The URL is the chart's own http:// Service address (FRONTEND_URL), never user input.
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def check_page(base: str) -> None:
    status, body = call("GET", base + "/")
    if status != 200 or b"<html" not in body.lower():
        raise AssertionError(f"GET / answered {status}, not an HTML page")
    print("ok: the frontend serves its page")


def check_write_is_read(base: str, timeout: float) -> None:
    title = f"helm test {uuid.uuid4().hex[:12]}"
    status, body = call("POST", base + "/api/todos", {"title": title})
    if status != 201:
        raise AssertionError(f"POST /api/todos answered {status}: {body[:200]!r}")
    todo_id = json.loads(body)["id"]
    try:
        # Another frontend pod may answer the read; the reader catches up within the bound.
        # The item's own URL, not the collection: that shows only the first page.
        deadline = time.monotonic() + timeout
        while True:
            status, body = call("GET", f"{base}/api/todos/{todo_id}")
            if status == 200 and json.loads(body).get("title") == title:
                break
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the new item did not show in GET /api/todos/{todo_id} within {timeout}s (last {status})"
                )
            time.sleep(1)
        print("ok: a write through the writer is visible through the reader")
    finally:
        call("DELETE", f"{base}/api/todos/{todo_id}")


def main() -> int:
    base = os.environ["FRONTEND_URL"].rstrip("/")
    timeout = float(os.environ.get("TIMEOUT_SECONDS", "60"))
    try:
        check_page(base)
        check_write_is_read(base, timeout)
    except (AssertionError, OSError, ValueError, KeyError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
