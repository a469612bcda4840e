"""The chart's `helm test` script, run here against the real local stack: the same
frontend, reader and writer the pods run, reached over HTTP as in the cluster; and
against a frontend configured as the chart configures it behind a TLS ingress (an
https PUBLIC_URL, so Secure cookies and links to another host)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import urllib.request

import pytest
from chart_helpers import REPO

from devlocal import Stack
from tests.conftest import free_port

SCRIPT = REPO / "charts" / "todo" / "files" / "helm-test.py"

STEPS = (
    "ok: the frontend serves its pages",
    "ok: the API refuses a request without a token",
    "ok: POST /api/tokens gave a token",
    "ok: a write through the writer is visible through the reader",
    "ok: the item is deleted",
    "ok: the throwaway account is deleted, and its token with it",
)


def _run(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env={"FRONTEND_URL": url, "TIMEOUT_SECONDS": "10", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _accounts(stack) -> set[str]:
    conn = stack.cluster.superuser_connection()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT username FROM accounts")
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


@pytest.fixture
def tls_frontend(stack, tmp_path):
    """A second frontend on the same reader and writer, started by the same launcher with
    the environment the chart gives it behind a TLS ingress: links point at
    https://todo.example.com and the session cookie is Secure, while the test pod talks
    plain http to the Service."""
    frontend_env = {
        "PUBLIC_URL": "https://todo.example.com",
        "TRUSTED_PROXIES": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),  # not the other frontend's
    }
    ports = dataclasses.replace(stack.ports, frontend=free_port())
    second = Stack(root=stack.root, ports=ports, extra_env={**stack.extra_env, "frontend": frontend_env})
    second.start_service("frontend")
    try:
        second.wait_ready("frontend")
        yield second.frontend_url
    finally:
        second.stop_service("frontend")  # never second.stop(): the databases are the session's


def test_helm_test_passes_against_a_working_stack(stack):
    before = _accounts(stack)
    result = _run(stack.frontend_url)
    assert result.returncode == 0, result.stdout + result.stderr
    for step in STEPS:
        assert step in result.stdout
    # The throwaway account is gone again.
    assert _accounts(stack) == before


def test_helm_test_passes_behind_a_tls_public_url(stack, tls_frontend):
    with urllib.request.urlopen(tls_frontend + "/signup", timeout=5) as response:
        assert "Secure" in response.headers["Set-Cookie"]  # what the script must send back over http
    result = _run(tls_frontend)
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(step in result.stdout for step in STEPS)


def test_helm_test_fails_when_nothing_answers():
    result = _run("http://127.0.0.1:9")  # the discard port: nothing listens there
    assert result.returncode == 1
    assert "FAILED" in result.stderr
