"""Run a reference app under gunicorn (gthread), on 127.0.0.1.

``lean`` and ``orm`` run as the services do (keep-alive 75 s, a pool as large as the
thread count). ``original`` runs as it shipped: gunicorn's defaults (keep-alive 2 s)
but for 2 workers x 8 threads, and Flask-SQLAlchemy's default pool."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def start(kind: str, port: int, *, workers: int, threads: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--no-control-socket",  # as the services: no runtime socket in $HOME
    ]
    extra_env = {}
    if kind != "original":
        command += ["--keep-alive", "75"]
        extra_env["POOL_SIZE"] = str(threads)
    command.append(f"bench.reference.{kind}:create_app()")
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env, **extra_env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"reference {kind} exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello", timeout=2):
                return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"reference {kind} did not answer within 30 s; see {log}")
