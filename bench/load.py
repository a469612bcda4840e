"""HTTP load from outside the Python processes: Debian's wrk, with bench/load.lua."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).with_name("load.lua")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: dict  # wrk's own, plus "unexpected": answers with another status than the scenario's
    latency_ms: dict
    unexpected_status: int = 0
    bytes: int = 0  # read from the server, headers included  # the last such status, to say what went wrong

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        # "unexpected" already counts every status wrk calls an error (>= 400).
        return sum(count for kind, count in self.errors.items() if kind != "status")


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: run `bash tools/install-bench-tools.sh` (or `make bench`)")
    return path


def run_wrk(
    base_url: str,
    *,
    mode: str = "get",
    path: str = "/",
    duration: float,
    threads: int = 2,
    connections: int = 16,
    get_path: str = "/",
    cookie: str = "",
    token: str = "",
    authorization: str = "",
) -> WrkResult:
    env = {
        **os.environ,
        "BENCH_MODE": mode,
        "BENCH_PATH": path,
        "BENCH_GET_PATH": get_path,
        "BENCH_COOKIE": cookie,
        "BENCH_TOKEN": token,
        "BENCH_AUTH": authorization,
    }
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        base_url + path,
    ]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration + 30, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            data = json.loads(line[len("BENCH_RESULT ") :])
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                errors=data["errors"],
                latency_ms={k: v / 1000 for k, v in data["latency_us"].items()},
                unexpected_status=data["unexpected_status"],
                bytes=data["bytes"],
            )
    raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
