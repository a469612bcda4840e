"""gunicorn's gthread worker, except that a request reaches a thread only once it has
arrived whole: its headers, and its body when that is no larger than MAX_BODY_BYTES.

Stock gthread hands a connection to a thread as soon as its first bytes arrive, and
the thread then blocks reading the rest with no time limit: a few clients that send
a request a byte at a time (slowloris), or a Content-Length and then not the body,
hold every thread and the service stops answering anyone. Here the worker's event
loop reads what arrives without blocking and buffers it; a request that has not
arrived whole within REQUEST_READ_TIMEOUT_SECONDS (10) is dropped. Such clients cost
a socket and a buffer each, never a thread; past ``worker_connections`` (1000 per
worker) open connections, gunicorn stops accepting. Headers past gunicorn's
``limit_request_*`` settings are refused by its parser as before (400/431).

In production the frontend sits behind the chart's ingress, which buffers requests
itself; reader and writer are reached only by the frontend (NetworkPolicy). This
keeps each service safe without that help too (`make run`, a LoadBalancer Service).
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import time
from functools import partial

from gunicorn import http
from gunicorn.workers.gthread import TConn, ThreadWorker

REQUEST_READ_TIMEOUT_SECONDS = float(os.environ.get("REQUEST_READ_TIMEOUT_SECONDS", "10"))
_MAX_BODY_BYTES = int(os.environ.get("MAX_BODY_BYTES", str(64 * 1024)))
_HEAD_END = b"\r\n\r\n"


def _complete(buffer: bytes, max_head: int) -> bool | None:
    """True when ``buffer`` holds a whole request (headers, and a body of a declared
    length up to MAX_BODY_BYTES); None when it can never be one (too long a head);
    False while more is to come."""
    end = buffer.find(_HEAD_END)
    if end < 0:
        return None if len(buffer) > max_head else False
    length = 0
    for line in buffer[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"content-length":
            length = int(value) if value.isdigit() else 0
        elif name == b"expect" and value.lower() == b"100-continue":
            return True  # the client waits for the go-ahead before it sends the body
    if length > _MAX_BODY_BYTES:
        return True  # answered 413 unread; the thread need not wait for it
    return len(buffer) - (end + len(_HEAD_END)) >= length


class BufferingThreadWorker(ThreadWorker):
    """gthread with whole requests only (see the module's docstring)."""

    def init_process(self):
        self._arriving: dict = {}  # conn -> (buffer, deadline)
        # The most a request line and its headers may take under gunicorn's limits.
        self._max_head = self.cfg.limit_request_line + self.cfg.limit_request_fields * (
            self.cfg.limit_request_field_size + 4
        )
        super().init_process()

    def accept(self, listener):
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._await_request(TConn(self.cfg, client, address, listener.getsockname()))

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection's next request: buffered like a new one."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_request(conn)

    def _await_request(self, conn) -> None:
        conn.sock.setblocking(False)
        self._arriving[conn] = (b"", time.monotonic() + REQUEST_READ_TIMEOUT_SECONDS)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_arriving, conn))

    def _on_arriving(self, conn, client) -> None:
        buffer, deadline = self._arriving[conn]
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(conn)
            return
        buffer += data
        done = _complete(buffer, self._max_head)
        if done is False:
            self._arriving[conn] = (buffer, deadline)
            return
        # Whole (or never going to be: let gunicorn's parser refuse it with a 4xx).
        self.poller.unregister(conn.sock)
        del self._arriving[conn]
        conn.sock.setblocking(True)
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(buffer)
        conn.data_ready = True
        self.enqueue_req(conn)

    def _drop(self, conn) -> None:
        self._arriving.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        """Also drop connections whose request has not arrived whole in time."""
        super().murder_pending()
        now = time.monotonic()
        for conn, (_, deadline) in list(self._arriving.items()):
            if deadline <= now or not self.alive:
                self._drop(conn)
