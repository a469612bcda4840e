"""Lighthouse's accessibility, best-practices and SEO scores for the pages a person
sees: the list, the rename page, the account page and an error page (and the log-in
page). Run through tools/lighthouse.sh, which installs Lighthouse from npm first.

An error page answers with its error status (404 here), which Lighthouse refuses to
audit unless told to (--ignore-status-code); then two audits fail because of that
status alone: SEO's "http-status-code", and best practices' "errors-in-console",
since Chromium logs every 4xx response, the page's own included. An error page that
answered 200 would be a "soft 404", so those two are shown and not counted against
the page (the console one only while the page's own 404 is the one error logged).

Without --url it starts its own stack (the launcher `make run` uses, on free ports,
in a temporary folder), signs a person up through the sign-up form and gives them a
few items; the signed-in pages get the session cookie with --extra-headers. Prints
one row per page and exits 1 if any score is under --min (100 by default)."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from contextlib import closing, contextmanager
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LIGHTHOUSE = HERE / "node" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("accessibility", "best-practices", "seo")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ITEM = re.compile(r'id="todo-(\d+)"')
_ADD = re.compile(r'<form class="add-form" method="post" action="([^"]+)"')


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _own_stack():
    sys.path.insert(0, str(REPO))
    from devlocal import Ports, Stack

    root = Path(tempfile.mkdtemp(prefix="todo-lighthouse-"))
    root.chmod(0o755)  # the PostgreSQL user (when we are root) must reach its data
    ports = Ports(*(_free_port() for _ in range(5)))
    stack = Stack(root=root, ports=ports, workers=1, threads=4)
    print("starting a stack for the audit...", file=sys.stderr, flush=True)
    stack.start()
    try:
        yield stack.frontend_url
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


def _csrf(http: requests.Session, url: str) -> tuple[str, str]:
    page = http.get(url, timeout=10)
    page.raise_for_status()
    return _CSRF.search(page.text).group(1), page.text


def _person(base: str) -> tuple[str, dict[str, str]]:
    """Sign up through the form, add items (one done); the session cookie and an item id."""
    http = requests.Session()
    token, _ = _csrf(http, base + "/signup")
    username = f"lighthouse-{uuid.uuid4().hex[:12]}"
    signed_up = http.post(
        base + "/signup",
        data={"username": username, "password": "a long enough passphrase", "csrf_token": token},
        timeout=10,
    )
    signed_up.raise_for_status()
    token, html = _csrf(http, base + "/")
    add = base + _ADD.search(html).group(1)
    for name in ("Buy milk", "Write the report", "Call the plumber about the kitchen sink", "Book train tickets"):
        http.post(add, data={"name": name, "csrf_token": token}, timeout=10).raise_for_status()
    html = http.get(base + "/", timeout=10).text
    last = _ITEM.findall(html)[-1]
    toggled = http.post(f"{base}/todos/{last}/toggle", data={"completed": "true", "csrf_token": token}, timeout=10)
    toggled.raise_for_status()
    return _ITEM.findall(html)[0], http.cookies.get_dict()


def _audit(
    url: str, cookies: dict[str, str] | None, preset: str | None, out: Path, error_page: bool
) -> tuple[dict[str, int], bool]:
    """The three scores, and whether the page passes: every scored audit at 100
    (but http-status-code on an error page)."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        "--only-categories=" + ",".join(CATEGORIES),
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if preset:
        command.append(f"--preset={preset}")
    if error_page:
        command.append("--ignore-status-code")
    if cookies:
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    subprocess.run(command, check=True, env=env)  # noqa: S603 (our own arguments)
    report = json.loads(out.read_text())
    scores = {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}
    passes = True
    for name in CATEGORIES:
        for ref in report["categories"][name]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                expected = error_page and _caused_by_the_status(audit, url)
                passes &= expected
                note = " (the page's own error status)" if expected else ""
                print(f"  {url}: {name}: {audit['id']}: {audit['title']}{note}", file=sys.stderr)
    return scores, passes


def _caused_by_the_status(audit: dict, url: str) -> bool:
    """An audit an error page fails only because it answers with its error status."""
    if audit["id"] == "http-status-code":
        return True
    if audit["id"] == "errors-in-console":
        items = audit["details"]["items"]
        return all(item["source"] == "network" and item["sourceLocation"]["url"] == url for item in items)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running frontend (default: start a stack of our own)")
    parser.add_argument("--preset", choices=["desktop"], help="Lighthouse's desktop preset (default: mobile)")
    parser.add_argument("--min", type=int, default=100, help="the least score that passes")
    parser.add_argument("--reports", default=str(REPO / "build" / "lighthouse"), help="where the JSON reports go")
    args = parser.parse_args()
    reports = Path(args.reports)
    reports.mkdir(parents=True, exist_ok=True)

    with _own_stack() if args.url is None else _given(args.url) as base:
        item, cookies = _person(base)
        pages = [
            ("list", "/", cookies),
            ("edit", f"/todos/{item}/edit", cookies),
            ("account", "/account", cookies),
            ("error (404)", "/no/such/page", cookies),
            ("log-in", "/login", None),
        ]
        failed = False
        print(f"{'page':<14}" + "".join(f"{name:>16}" for name in CATEGORIES))
        for name, path, jar in pages:
            out = reports / (re.sub(r"\W+", "-", name).strip("-") + ".json")
            error_page = name.startswith("error")
            scores, passes = _audit(base + path, jar, args.preset, out, error_page)
            failed |= not passes if error_page else any(score < args.min for score in scores.values())
            print(f"{name:<14}" + "".join(f"{scores[c]:>16}" for c in CATEGORIES), flush=True)
    return 1 if failed else 0


@contextmanager
def _given(url: str):
    yield url.rstrip("/")


if __name__ == "__main__":
    sys.exit(main())
