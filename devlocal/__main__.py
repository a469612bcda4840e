"""`make run`: start the local stack, print the URL, stop everything on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

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
    try:
        stack.start()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"\nCould not start the stack: {exc}", file=sys.stderr)
        return 1
    print(
        f"""
Todo is running: open {stack.frontend_url} and sign up

  reader   {stack.url("reader")}   (reads the replica on 127.0.0.1:{stack.ports.replica})
  writer   {stack.url("writer")}   (writes the primary on 127.0.0.1:{stack.ports.primary})
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
        stack.stop()
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
