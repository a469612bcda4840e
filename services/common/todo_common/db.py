"""A small blocking psycopg2 connection pool that survives database restarts, and the
two errors the database layer raises. Nothing here knows about HTTP: the web layer
(``errors.py``) turns these errors into answers.

The pool waits (bounded) for a free connection, opens connections lazily (nothing at
import or start), and before lending an idle connection checks its socket (one
poll(2), no round trip), so one the server closed - a restart, a failover, an idle
timeout, ``pg_terminate_backend`` - is replaced instead of failing the request
("server closed the connection unexpectedly"). A unit of work that still loses its
connection is retried once on a new one when it is safe to repeat.

Why not ``psycopg2.pool.ThreadedConnectionPool`` behind a semaphore: it opens
``minconn`` connections in its constructor (I/O when the app is built), keeps at most
``minconn`` idle connections and closes the rest on return (so a full pool must be
opened up front), raises ``PoolError`` instead of waiting, hands out dead
connections, and drops idle connections after a restart only through ``closeall()``,
which also closes connections other threads are using and ends the pool for good.
Wrapping it would take a lock for lazy creation, a semaphore, the same socket check
and a rebuild after a restart: more code than the queue and semaphore below (tested
against a real server in ``tests/integration/test_pool.py``). psycopg 3's
``psycopg_pool`` does all of this, and is the replacement if the driver moves to it.

Connections are in autocommit mode: a single statement is its own transaction (one
round trip instead of BEGIN/statement/COMMIT), and code that needs a multi-statement
transaction says so with ``transaction(cur)``.
"""

from __future__ import annotations

import logging
import queue
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TypeVar

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from prometheus_client import Counter, Gauge, Histogram

from .settings import DatabaseSettings

log = logging.getLogger(__name__)

T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """PostgreSQL could not be reached, or no connection was free in time."""


class SchemaNotReady(DatabaseUnavailable):
    """The app's tables are not there yet: migrations have not run (first install)."""


class OutcomeUnknown(DatabaseUnavailable):
    """The connection was lost while the work was running: a change it sent may have
    committed or not. Never to be answered as a plain failure (the client would retry
    and duplicate it) nor as a success."""


# Per pool, named by its application_name (todo-writer, todo-reader, todo-reader-fallback).
POOL_SIZE = Gauge(
    "todo_db_pool_size", "Connections a pool may hold, summed over processes.", ["pool"], multiprocess_mode="livesum"
)
POOL_IN_USE = Gauge(
    "todo_db_pool_connections_in_use", "Connections lent out right now.", ["pool"], multiprocess_mode="livesum"
)
POOL_WAITING = Gauge(
    "todo_db_pool_waiting", "Threads waiting for a free connection right now.", ["pool"], multiprocess_mode="livesum"
)
POOL_CHECKOUT_SECONDS = Histogram(
    "todo_db_pool_checkout_seconds",
    "Time to get a connection from the pool (waiting for a free one, connecting).",
    ["pool"],
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
)
QUERY_SECONDS = Histogram(
    "todo_db_query_duration_seconds",
    "Time one unit of database work holds its connection (a statement or a short transaction;"
    " on the reader it includes the read-your-writes wait).",
    ["pool"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
CONNECTIONS_OPENED = Counter("todo_db_connections_opened_total", "Connections opened to the server.", ["pool"])
UNAVAILABLE = Counter(
    "todo_db_unavailable_total", "Units of work that failed: no connection, or the connection was lost.", ["pool"]
)

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
        rollback(cur)
        raise
    cur.execute("COMMIT")


def rollback(cur) -> None:
    """End the open transaction after an error, unless the connection is gone with it."""
    if not cur.connection.closed:
        with suppress(*CONNECTION_ERRORS):
            cur.execute("ROLLBACK")


class Database:
    """A pool of connections to one server, opened lazily (nothing at import or start)."""

    def __init__(self, settings: DatabaseSettings, *, checkout_timeout: float = 5.0):
        self.settings = settings
        self.checkout_timeout = checkout_timeout
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(settings.pool_size)
        name = settings.application_name
        POOL_SIZE.labels(name).set(settings.pool_size)
        self._in_use = POOL_IN_USE.labels(name)
        self._waiting = POOL_WAITING.labels(name)
        self._checkout = POOL_CHECKOUT_SECONDS.labels(name)
        self._query = QUERY_SECONDS.labels(name)
        self._opened = CONNECTIONS_OPENED.labels(name)
        self._unavailable = UNAVAILABLE.labels(name)

    def _connect(self):
        self._opened.inc()
        try:
            conn = psycopg2.connect(**self.settings.connect_kwargs())
        except psycopg2.OperationalError as exc:
            self._unavailable.inc()
            raise DatabaseUnavailable(f"cannot connect to {self.settings.describe()}: {_first_line(exc)}") from exc
        conn.autocommit = True
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
        started = time.perf_counter()
        self._waiting.inc()
        try:
            acquired = self._slots.acquire(timeout=self.checkout_timeout)
        finally:
            self._waiting.dec()
        if not acquired:
            self._unavailable.inc()
            raise DatabaseUnavailable(
                f"no free connection to {self.settings.describe()} within {self.checkout_timeout}s"
            )
        conn = None
        self._in_use.inc()
        try:
            conn = self._idle_connection() or self._connect()
            self._checkout.observe(time.perf_counter() - started)
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
            self._in_use.dec()
            self._slots.release()

    def run(self, work: Callable[[psycopg2.extensions.cursor], T], *, retry: bool = True) -> T:
        """Run ``work(cursor)`` on a pooled connection.

        If the connection is lost mid-way and ``retry`` is true the work runs again
        on a new connection; pass ``retry=False`` when running it twice could apply
        a change twice (a plain INSERT whose reply was lost). A connection lost while
        the work ran, and not made good by the retry, is ``OutcomeUnknown``: the work
        may have committed. ``DatabaseUnavailable`` otherwise means nothing was sent.
        """
        attempts = 2 if retry else 1
        lost_mid_work = False  # an attempt lost its connection while its work ran
        for attempt in range(1, attempts + 1):
            try:
                with self.connection() as conn, conn.cursor() as cur:
                    started = time.perf_counter()
                    try:
                        return work(cur)
                    finally:
                        self._query.observe(time.perf_counter() - started)
            except (psycopg2.errors.UndefinedTable, psycopg2.errors.UndefinedFunction) as exc:
                raise SchemaNotReady(_first_line(exc)) from exc
            except DatabaseUnavailable as exc:  # no connection could be had: this attempt sent nothing
                if lost_mid_work:
                    raise OutcomeUnknown(f"{self.settings.describe()}: {exc}") from exc
                raise
            except CONNECTION_ERRORS as exc:
                lost_mid_work = True
                # A restart kills every idle connection too: drop them all at once.
                self.close()
                if attempt == attempts:
                    self._unavailable.inc()
                    raise OutcomeUnknown(f"{self.settings.describe()}: {_first_line(exc)}") from exc
                log.warning("database connection lost, retrying on a new one: %s", _first_line(exc))
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the idle connections (borrowed ones close when returned broken)."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
