"""py-spy profiles of service workers under load (``python -m bench --profile``):
collapsed stacks on disk plus a short "where the time goes" summary per process."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from .harness import Harness
from .load import run_wrk

# (services to profile, load to drive): the read path under the bench person's
# 250-item page (their browser's cookie), the writer under its create API (their
# service token).
PLANS = {
    "page250": (("frontend", "reader"), "frontend"),
    "writer_api": (("writer",), "writer"),
}


def _load(h: Harness, target: str) -> dict:
    if target == "frontend":
        cookie, token = h.session("frontend")
        return {"path": h.list_path, "cookie": cookie, "token": token}
    return {"mode": "post_json", "path": "/v1/todos", "authorization": h.service_headers()["Authorization"]}


def summarize(collapsed: Path, top: int = 15) -> dict:
    """Share of samples in which each function appears (inclusive), and as the leaf (self)."""
    inclusive, leaf, total = Counter(), Counter(), 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        count = int(count)
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0] + ")" if " (" in f else f for f in stack.split(";")
        ]
        if any("wait_for_and_dispatch_events" in f for f in frames[-2:]) or "select" in frames[-1]:
            continue  # idle threads
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        leaf[frames[-1]] += count
    share = lambda c: {k: round(100 * v / total, 1) for k, v in c.most_common(top)}  # noqa: E731
    return {"busy_samples": total, "inclusive_pct": share(inclusive), "self_pct": share(leaf)}


def run(h: Harness, out: Path, duration: float) -> dict:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        return {"error": "py-spy is not installed (tools/install-bench-tools.sh installs it)"}
    results = {}
    groups = h.groups()
    for scenario, (services, target) in PLANS.items():
        spies = {}
        for service in services:
            pid = groups[service].workers()[0]
            path = out / f"profile-{scenario}-{service}.txt"
            spies[service] = (
                path,
                subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--duration",
                        str(int(duration)),
                        "--rate",
                        "250",
                        "--format",
                        "raw",
                        "--output",
                        str(path),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        load = _load(h, target)
        time.sleep(0.5)
        run_wrk(h.url(target), duration=duration, **load)
        for service, (path, spy) in spies.items():
            _, err = spy.communicate(timeout=60)
            key = f"{scenario}:{service}"
            results[key] = summarize(path) if path.exists() else {"error": err.strip()[-300:]}
            results[key]["file"] = str(path)
    return results
