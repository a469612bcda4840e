"""`make run`: start the local stack, print the URL, stop everything on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from .prometheus import Prometheus
from .stack import SERVICES, Ports, Stack


def main() -> int:
    stack = Stack(ports=Ports.from_env())
    print("Starting PostgreSQL primary + replica, migrations, writer, reader and frontend...", flush=True)
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    prometheus = Prometheus(stack) if os.environ.get("TODO_PROMETHEUS", "") not in ("", "0") else None
    try:
        stack.start()
        if prometheus is not None:
            prometheus.start()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"\nCould not start the stack: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    monitoring = f"""
  metrics  {stack.metrics_url("frontend")}, {stack.metrics_url("reader")}, {stack.metrics_url("writer")}""" + (
        f"""
  Prometheus {prometheus.url}  (alerts: {prometheus.url}/alerts, rules loaded from charts/todo)"""
        if prometheus
        else "\n  (TODO_PROMETHEUS=1 make run, or make run-monitoring, starts Prometheus beside it)"
    )
    print(
        f"""
Todo is running: open {stack.frontend_url} and sign up

  reader   {stack.url("reader")}   (reads the replica on 127.0.0.1:{stack.ports.replica})
  writer   {stack.url("writer")}   (writes the primary on 127.0.0.1:{stack.ports.primary}){monitoring}
  data and logs in {stack.root} (`make clean` removes them)

Press Ctrl-C to stop everything.""",
        flush=True,
    )
    try:
        while not stopping:
            for service in SERVICES:
                process = stack.processes.get(service)
                if process is not None and process.poll() is not None:
                    print(f"{service} stopped unexpectedly; see {stack.logs / (service + '.log')}", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    finally:
        print("\nStopping...", flush=True)
        if prometheus is not None:
            prometheus.stop()
        stack.stop()
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
