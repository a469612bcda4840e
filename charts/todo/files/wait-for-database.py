"""Wait until the database accepts TCP connections (the migration Job's init container).

Right after `helm install` the bundled primary may still be initialising; the
migration would fail and burn a Job retry. Environment: DATABASE_HOST, DATABASE_PORT,
WAIT_SECONDS (default 300). Exits 1 with a message when the time is up.
"""

import os
import socket
import sys
import time


def main() -> int:
    host = os.environ["DATABASE_HOST"]
    port = int(os.environ.get("DATABASE_PORT", "5432"))
    deadline = time.monotonic() + float(os.environ.get("WAIT_SECONDS", "300"))
    while True:
        try:
            socket.create_connection((host, port), timeout=3).close()
        except OSError as exc:
            if time.monotonic() >= deadline:
                print(f"wait-for-database: {host}:{port} is unreachable: {exc}", file=sys.stderr)
                return 1
            time.sleep(1)
        else:
            print(f"wait-for-database: {host}:{port} accepts connections")
            return 0


if __name__ == "__main__":
    sys.exit(main())
