"""The README's picture of the key dashboard panels, drawn with matplotlib from a real
Prometheus's HTTP API (query_range): the same expressions as the Grafana dashboard.

    .venv/bin/python -m tests.monitoring.picture docs/observability.png   # about 2 minutes
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from .tools import DASHBOARD

PANELS = (
    "Requests per second by service",
    "Latency by service (p50, p99)",
    "Frontend calls to reader and writer by outcome",
    "Replica replay lag (seconds)",
    "Reads after a write",
    "Sign-ups and log-ins per hour",
)


def draw(prometheus, target: Path, *, minutes: float = 3.0, rate_interval: str = "10s") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    board = {p["title"]: p for p in json.loads(DASHBOARD.read_text())["panels"] if p["type"] != "row"}
    end = time.time()
    start = end - minutes * 60
    figure, axes = plt.subplots(2, 3, figsize=(15, 7.5))
    for ax, title in zip(axes.flat, PANELS, strict=True):
        panel = board[title]
        for target_query in panel["targets"]:
            expr = target_query["expr"].replace("$namespace", ".*").replace("$__rate_interval", rate_interval)
            data = prometheus.api("query_range", query=expr, start=start, end=end, step="2s")["result"]
            for series in data:
                label = target_query["legendFormat"]
                for key, value in series["metric"].items():
                    label = label.replace("{{" + key + "}}", value)
                xs = [float(t) - start for t, _ in series["values"]]
                ys = [float(v) for _, v in series["values"]]
                ax.plot(xs, ys, label=label, linewidth=1.4)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("seconds into the run", fontsize=8)
        unit = panel["fieldConfig"]["defaults"]["unit"]
        ax.set_ylabel({"s": "seconds", "reqps": "per second", "percentunit": "ratio"}.get(unit, ""), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=6, loc="upper left")
    figure.suptitle(
        "Todo on the local stack, Prometheus scraping every second: steady load, replica replay paused,"
        " a burst of wrong passwords, steady again",
        fontsize=11,
    )
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=90)
    plt.close(figure)


def demo(target: Path, *, phase_seconds: float = 30.0) -> None:
    """A local stack and Prometheus (scraped every second) under a few minutes of load
    in phases: steady traffic, the replica's replay paused (lag, waits, fallbacks), a
    burst of wrong passwords, steady again; then the picture of that run."""
    import shutil
    import tempfile
    import threading
    from contextlib import closing

    from devlocal import Stack
    from devlocal.prometheus import Prometheus

    from ..conftest import TEST_ENV, free_ports
    from ..helpers import replay_paused, signed_in

    root = Path(tempfile.mkdtemp(prefix="todo-demo-"))
    root.chmod(0o755)
    stack = Stack(root=root, ports=free_ports(), workers=2, threads=4, extra_env=TEST_ENV)
    prometheus = Prometheus(stack, scrape_interval="1s")
    stop = threading.Event()

    def browse(n: int) -> None:
        browser = signed_in(stack)
        path = browser.list_path()
        count = 0
        while not stop.is_set():
            page = browser.post(path + "/todos", {"name": f"item {count}"})
            ids = [part.split('"', 1)[0] for part in page.text.split('id="todo-')[1:]]
            if count % 3 == 0 and ids:
                browser.post(f"/todos/{ids[-1]}/toggle", {"completed": "true"})
            if count % 4 == 0 and ids:
                browser.post(f"/todos/{ids[0]}/delete")
            browser.get(path)
            count += 1
            stop.wait(0.2 + 0.1 * n)

    started = time.time()
    try:
        stack.start()
        prometheus.start()
        workers = [threading.Thread(target=browse, args=(n,), daemon=True) for n in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(phase_seconds)
        with closing(stack.cluster.superuser_connection(stack.cluster.replica)) as replica, replay_paused(replica):
            time.sleep(phase_seconds)
        guesser = signed_in(stack)
        guesser.post("/logout")
        deadline = time.monotonic() + phase_seconds / 2
        while time.monotonic() < deadline:
            guesser.log_in(guesser.username, "a wrong guess")
            time.sleep(0.1)
        time.sleep(phase_seconds)
        stop.set()
        for worker in workers:
            worker.join(10)
        draw(prometheus, target, minutes=(time.time() - started) / 60)
    finally:
        stop.set()
        prometheus.stop()
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    import sys

    demo(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/observability.png"))
    print("drew", sys.argv[1] if len(sys.argv) > 1 else "docs/observability.png")
