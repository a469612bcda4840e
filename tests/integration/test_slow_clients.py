"""Slow clients and floods leave the services answering others: connections that
trickle their headers or stall their body hold no thread (gunicorn_worker), headers
past gunicorn's limits are refused at once, and a body past MAX_BODY_BYTES is a 413
that closes the connection (test_hostile_input)."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import ExitStack, closing

import pytest
import requests

SLOW_CONNECTIONS = 24  # three times the test stack's threads per service (1 worker x 4 threads)


def _trickle(port: int, first: bytes, stop: threading.Event) -> None:
    """Send ``first``, then one more header byte a second, never finishing the request."""
    with closing(socket.create_connection(("127.0.0.1", port), timeout=5)) as sock:
        try:
            sock.sendall(first)
            while not stop.wait(1.0):
                sock.sendall(b"X")
        except OSError:
            return  # the server closed it: fine


@pytest.mark.parametrize("service", ["frontend", "reader", "writer"])
@pytest.mark.parametrize(
    "first",
    [
        pytest.param(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", id="trickled headers"),
        pytest.param(
            b"POST /api/todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{",
            id="stalled body",
        ),
    ],
)
def test_slow_clients_hold_no_thread(stack, service, first):
    port = getattr(stack.ports, service)
    stop = threading.Event()
    threads = [
        threading.Thread(target=_trickle, args=(port, first, stop), daemon=True) for _ in range(SLOW_CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)  # all of them connected and sent their first bytes
        for _ in range(5):
            started = time.monotonic()
            answer = requests.get(f"{stack.url(service)}/healthz", timeout=5)
            assert answer.status_code == 200
            assert time.monotonic() - started < 1.0
            time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


def test_oversized_headers_are_refused_at_once_and_others_served(stack):
    with ExitStack() as stack_of_sockets:
        answers = []
        for _ in range(20):
            sock = stack_of_sockets.enter_context(
                closing(socket.create_connection(("127.0.0.1", stack.ports.frontend), timeout=5))
            )
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
            answers.append(sock.recv(200))
        assert all(answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431")) for answer in answers), answers[:2]
        assert requests.get(stack.frontend_url + "/healthz", timeout=5).status_code == 200
