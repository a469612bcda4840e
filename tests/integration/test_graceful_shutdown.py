"""SIGTERM to a service under load fails none of its in-flight requests: gunicorn
stops accepting, lets every request it has finish (GUNICORN_GRACEFUL_TIMEOUT), then
exits. The requests are held in flight by a PostgreSQL lock the test releases only
after the signal, so they are certainly mid-way when it arrives."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager

import requests

from ..helpers import Person, name_for

IN_FLIGHT = 4  # the test stack's threads per service


@contextmanager
def terminated(stack, service: str):
    """SIGTERM the service's gunicorn (master and workers) inside the block; after it,
    see that it exited by itself, and start it again."""
    process = stack.processes[service]
    yield lambda: os.killpg(process.pid, signal.SIGTERM)
    try:
        assert process.wait(timeout=30) == 0, f"{service} did not exit cleanly"
    finally:
        stack.processes.pop(service, None)
        stack.start_service(service)
        stack.wait_ready(service)


@contextmanager
def locked(stack, sql: str, params: tuple = ()):
    """Hold a lock on the primary (in an open transaction) until the block ends."""
    conn = stack.cluster.superuser_connection()
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
        yield
    finally:
        conn.rollback()
        conn.close()


def _in_flight_through_sigterm(stack, service: str, lock_sql: str, lock_params: tuple, send, ready=None):
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        with terminated(stack, service) as sigterm, locked(stack, lock_sql, lock_params):
            if ready is not None:
                ready()
            futures = [pool.submit(send, n) for n in range(IN_FLIGHT)]
            time.sleep(0.5)  # every request is now waiting on the lock
            assert not any(future.done() for future in futures), "the requests were not held"
            sigterm()
            time.sleep(0.5)  # the service is shutting down; its requests still wait
        answers = [future.result(timeout=30) for future in futures]
    return answers


def test_sigterm_to_the_writer_fails_no_request_in_flight(stack):
    person = Person(stack)

    def send(n):
        return person.writer("POST", "/v1/todos", json={"name": name_for(f"in flight {n}")})

    lock = "SELECT 1 FROM todo_lists WHERE id = %s FOR UPDATE"
    answers = _in_flight_through_sigterm(stack, "writer", lock, (person.list_id,), send)
    assert [answer.status_code for answer in answers] == [201] * IN_FLIGHT


def test_sigterm_to_the_frontend_fails_no_request_in_flight(stack):
    person = Person(stack)
    api = person.api_root()

    def send(n):
        return requests.post(api, json={"title": name_for(f"in flight {n}")}, timeout=30)

    lock = "SELECT 1 FROM todo_lists WHERE id = %s FOR UPDATE"
    answers = _in_flight_through_sigterm(stack, "frontend", lock, (person.list_id,), send)
    assert [answer.status_code for answer in answers] == [201] * IN_FLIGHT


def test_sigterm_to_the_reader_fails_no_request_in_flight(stack):
    person = Person(stack)

    def send(n):
        return person.reader("/v1/counts")

    def lock_replayed():
        """The primary's lock, replayed, blocks reads of the table on the replica too."""
        with closing(stack.cluster.superuser_connection()) as conn, conn.cursor() as cur:
            cur.execute("SELECT txid_current()")  # a commit: the WAL with the lock record is flushed and sent
        with closing(stack.cluster.superuser_connection(stack.cluster.replica)) as conn, conn.cursor() as cur:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                cur.execute(
                    "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock'"
                    " AND relation = 'todo_lists'::regclass"
                )
                if cur.fetchone()[0]:
                    return
                time.sleep(0.05)
        raise AssertionError("the lock did not reach the replica")

    lock = "LOCK TABLE todo_lists IN ACCESS EXCLUSIVE MODE"
    answers = _in_flight_through_sigterm(stack, "reader", lock, (), send, ready=lock_replayed)
    assert [answer.status_code for answer in answers] == [200] * IN_FLIGHT
