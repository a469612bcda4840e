"""Shared fixtures: one real local stack (PostgreSQL primary + streaming replica,
writer, reader, frontend under gunicorn) per test session, started by the same
launcher as `make run`, on free ports and in a throw-away folder."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from devlocal import Ports, Stack


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports() -> Ports:
    names = ("frontend", "reader", "writer", "primary", "replica", "frontend_metrics", "reader_metrics")
    return Ports(**{name: free_port() for name in (*names, "writer_metrics", "prometheus")})


# Every test signs up its own people from 127.0.0.1, so the per-address limits are
# lifted here; the tests of those limits start a stack of their own.
# Scrape-time database metrics are cached for 1 s instead of 10 (tests/monitoring).
TEST_ENV = {
    "reader": {"LSN_WAIT_TIMEOUT_MS": "300", "METRICS_DATABASE_CACHE_SECONDS": "1"},
    "writer": {
        "SIGNUPS_PER_ADDRESS_PER_HOUR": "100000",
        "LOGIN_FAILURES_PER_ADDRESS": "100000",
        "METRICS_DATABASE_CACHE_SECONDS": "1",
    },
}


@contextmanager
def running_stack(prefix: str = "todo-test-stack-"):
    """A whole stack of its own, stopped and removed afterwards; the reader falls back
    to the primary after a short wait."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)  # the PostgreSQL user (when we are root) must reach its data
    stack = Stack(root=root, ports=free_ports(), workers=1, threads=4, extra_env=TEST_ENV)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
        if not os.environ.get("TODO_KEEP_STACK"):
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def stack():
    """The whole stack, shared by the tests."""
    with running_stack() as stack:
        yield stack


@pytest.fixture
def primary(stack):
    """A superuser connection to the primary (autocommit)."""
    conn = stack.cluster.superuser_connection()
    yield conn
    conn.close()


@pytest.fixture
def replica(stack):
    """A superuser connection to the replica (autocommit)."""
    conn = stack.cluster.superuser_connection(stack.cluster.replica)
    yield conn
    conn.close()
