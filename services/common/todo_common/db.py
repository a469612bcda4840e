"""A small blocking psycopg2 connection pool that survives database restarts.

Why not ``psycopg2.pool``: its pools raise ``PoolError`` instead of waiting when all
connections are busy, and hand out connections the server has already closed. This
pool waits (bounded) for a free connection, and before lending an idle connection
checks its socket (no round trip) so one the server closed - a restart, a failover,
an idle timeout - is replaced instead of failing the request ("server closed the
connection unexpectedly"). A unit of work that still loses its connection is retried
once on a new one when it is safe to repeat.

Connections are in autocommit mode: a single statement is its own transaction (one
round trip instead of BEGIN/statement/COMMIT), and code that needs a multi-statement
transaction says so with ``transaction(cur)``.
"""

from __future__ import annotations

import logging
import queue
import select
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TypeVar

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from .errors import DatabaseUnavailable, SchemaNotReady
from .settings import DatabaseSettings

log = logging.getLogger(__name__)

T = TypeVar("T")

# Errors that mean "this connection is unusable", as opposed to a bad statement.
CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _has_pending_input(conn) -> bool:
    """An idle connection has nothing to read; if it does, the server sent a FATAL
    (shutdown, restart, idle timeout) or closed it. One poll(2), no round trip."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


@contextmanager
def transaction(cur) -> Iterator[None]:
    """BEGIN ... COMMIT on an autocommit connection; ROLLBACK if the block raises."""
    cur.execute("BEGIN")
    try:
        yield
    except BaseException:
        if not cur.connection.closed:
            with suppress(*CONNECTION_ERRORS):
                cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")


class Database:
    """A pool of connections to one server, opened lazily (nothing at import or start)."""

    def __init__(self, settings: DatabaseSettings, *, checkout_timeout: float = 5.0):
        self.settings = settings
        self.checkout_timeout = checkout_timeout
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(settings.pool_size)
        self._lock = threading.Lock()
        self._opened = 0

    @property
    def connections_opened(self) -> int:
        """How many connections this pool has opened in its life (a churn gauge)."""
        return self._opened

    def _connect(self):
        try:
            conn = psycopg2.connect(**self.settings.connect_kwargs())
        except psycopg2.OperationalError as exc:
            raise DatabaseUnavailable(f"cannot connect to {self.settings.describe()}: {_first_line(exc)}") from exc
        conn.autocommit = True
        with self._lock:
            self._opened += 1
        return conn

    def _idle_connection(self):
        """An idle connection whose server is still there, or None."""
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                return None
            if not conn.closed and not _has_pending_input(conn):
                return conn
            conn.close()

    @contextmanager
    def connection(self):
        """Borrow a connection; it goes back to the pool unless it broke."""
        if not self._slots.acquire(timeout=self.checkout_timeout):
            raise DatabaseUnavailable(
                f"no free connection to {self.settings.describe()} within {self.checkout_timeout}s"
            )
        conn = None
        try:
            conn = self._idle_connection() or self._connect()
            yield conn
        except CONNECTION_ERRORS:
            if conn is not None:
                conn.close()
            raise
        finally:
            if conn is not None and not conn.closed:
                if conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                    self._idle.put(conn)
                else:  # a block left a transaction open or a query running: don't reuse
                    conn.close()
            self._slots.release()

    def run(self, work: Callable[[psycopg2.extensions.cursor], T], *, retry: bool = True) -> T:
        """Run ``work(cursor)`` on a pooled connection.

        If the connection is lost mid-way and ``retry`` is true the work runs again
        on a new connection; pass ``retry=False`` when running it twice could apply
        a change twice (a plain INSERT whose reply was lost).
        """
        attempts = 2 if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                with self.connection() as conn, conn.cursor() as cur:
                    return work(cur)
            except (psycopg2.errors.UndefinedTable, psycopg2.errors.UndefinedFunction) as exc:
                raise SchemaNotReady(_first_line(exc)) from exc
            except CONNECTION_ERRORS as exc:
                # A restart kills every idle connection too: drop them all at once.
                self.close()
                if attempt == attempts:
                    raise DatabaseUnavailable(f"{self.settings.describe()}: {_first_line(exc)}") from exc
                log.warning("database connection lost, retrying on a new one: %s", _first_line(exc))
        raise AssertionError("unreachable")

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless the server answers a trivial query."""
        self.run(lambda cur: cur.execute("SELECT 1"))

    def close(self) -> None:
        """Close the idle connections (borrowed ones close when returned broken)."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
