"""`make run` again with another PostgreSQL port: the replica follows the primary."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from devlocal.postgres import SUPERUSER, Cluster

from ..conftest import free_port


def test_the_replica_follows_a_new_primary_port():
    root = Path(tempfile.mkdtemp(prefix="todo-test-ports-"))
    root.chmod(0o755)
    passwords = {name: f"pw-{name}-0123456789" for name in (SUPERUSER, "todo", "replicator")}
    replica_port = free_port()
    try:
        first = Cluster(root, free_port(), replica_port, passwords)
        first.start()
        first.wait_until_streaming()
        first.stop()
        second = Cluster(root, free_port(), replica_port, passwords)
        second.start()
        try:
            second.wait_until_streaming(timeout=20)
        finally:
            second.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
