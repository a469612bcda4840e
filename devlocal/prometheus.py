"""A Prometheus beside the local stack (Debian's `prometheus` package): it scrapes the
three services' metrics ports with the alerting rules the chart ships, as the
ServiceMonitors and the PrometheusRule do in a cluster. `make run-monitoring` starts
it; the monitoring tests drive it through its HTTP API.

Targets carry the labels the chart's ServiceMonitors give them: `component` and
`ready` (here a target that answers is taken as ready: there are no Endpoints).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "charts" / "todo" / "files" / "monitoring" / "alerts.yaml"
SERVICES = ("frontend", "reader", "writer")


def binary() -> str | None:
    return shutil.which("prometheus")


class Prometheus:
    def __init__(self, stack, *, scrape_interval: str = "15s", evaluation_interval: str | None = None):
        self.stack = stack
        self.port = stack.ports.prometheus
        self.root = Path(stack.root) / "prometheus"
        self.scrape_interval = scrape_interval
        self.evaluation_interval = evaluation_interval or scrape_interval
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict:
        return {
            "global": {
                "scrape_interval": self.scrape_interval,
                "scrape_timeout": self.scrape_interval if self.scrape_interval.endswith("s") else "10s",
                "evaluation_interval": self.evaluation_interval,
            },
            "rule_files": [str(self.root / RULES.name)],
            "scrape_configs": [
                {
                    "job_name": service,
                    "static_configs": [
                        {
                            "targets": [f"127.0.0.1:{getattr(self.stack.ports, service + '_metrics')}"],
                            "labels": {"component": service, "ready": "true"},
                        }
                    ],
                }
                for service in SERVICES
            ],
        }

    def start(self, timeout: float = 30) -> None:
        found = binary()
        if found is None:
            raise RuntimeError(
                "prometheus is not installed: bash tools/install-prometheus.sh (or apt-get install prometheus)"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.copy(RULES, self.root / RULES.name)
        # JSON is YAML: no YAML library needed to write the configuration.
        (self.root / "prometheus.yml").write_text(json.dumps(self.config(), indent=2))
        log = open(self.stack.logs / "prometheus.log", "ab")  # noqa: SIM115 - kept open for the process's life
        self.process = subprocess.Popen(
            [
                found,
                f"--config.file={self.root / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.root / 'data'}",
                "--storage.tsdb.retention.time=2d",
                f"--web.listen-address=127.0.0.1:{self.port}",
                # The console templates of Debian's package are not needed here.
                f"--web.console.templates={self.root}",
                f"--web.console.libraries={self.root}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}; see {self.stack.logs}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:  # noqa: S310 - ours
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus was not ready within {timeout}s; see {self.stack.logs}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    # -- the HTTP API ---------------------------------------------------------------
    def api(self, path: str, **params) -> dict | list:
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - ours
            body = json.loads(response.read())
        if body.get("status") != "success":
            raise RuntimeError(f"prometheus: {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        return self.api("query", query=expr)["result"]
