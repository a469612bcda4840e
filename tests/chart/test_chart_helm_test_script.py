"""The chart's `helm test` script, run here against the real local stack: the same
frontend, reader and writer the pods run, reached over HTTP as in the cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "charts" / "todo" / "files" / "helm-test.py"


def _run(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env={"FRONTEND_URL": url, "TIMEOUT_SECONDS": "10", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_helm_test_passes_against_a_working_stack(stack):
    result = _run(stack.frontend_url)
    assert result.returncode == 0, result.stderr
    assert "ok: the frontend serves its page" in result.stdout
    assert "ok: a write through the writer is visible through the reader" in result.stdout


def test_helm_test_fails_when_nothing_answers():
    result = _run("http://127.0.0.1:9")  # the discard port: nothing listens there
    assert result.returncode == 1
    assert "FAILED" in result.stderr
