"""The connection pool (todo_common.db) against the stack's real primary: nothing
opened until used, connections reused, a full pool blocks (and times out), dead
connections are replaced - one the server terminated, all of them after a restart -
and work that loses its connection is retried only when it says it may be."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import pytest

from todo_common.db import Database, DatabaseUnavailable, SchemaNotReady
from todo_common.settings import DatabaseSettings, Env

from ..conftest import free_port


@pytest.fixture
def make_db(stack):
    """Pools on the primary as the writer's own settings describe it, each with its
    own application_name so pg_stat_activity shows only its connections."""
    pools = []

    def make(pool_size: int = 2, checkout_timeout: float = 5.0, **changes) -> Database:
        settings = DatabaseSettings.from_env(
            Env(stack.service_env("writer")),
            "DATABASE",
            application_name=f"pool-test-{uuid.uuid4().hex[:8]}",
            pool_size=pool_size,
        )
        db = Database(dataclasses.replace(settings, **changes), checkout_timeout=checkout_timeout)
        pools.append(db)
        return db

    yield make
    for db in pools:
        db.close()


def _backend_pid(cur) -> int:
    cur.execute("SELECT pg_backend_pid()")
    return cur.fetchone()[0]


def _sessions(primary, db: Database) -> list[int]:
    with primary.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s ORDER BY pid",
            (db.settings.application_name,),
        )
        return [row[0] for row in cur.fetchall()]


def test_opens_nothing_until_used_then_reuses_one_connection(make_db, primary):
    db = make_db()
    assert _sessions(primary, db) == []
    first = db.run(_backend_pid)
    assert db.run(_backend_pid) == first
    assert _sessions(primary, db) == [first]


def test_a_full_pool_blocks_until_a_connection_comes_back(make_db):
    db = make_db(pool_size=1)
    got = {}

    def borrow():
        started = time.monotonic()
        with db.connection() as conn:
            got["pid"] = conn.get_backend_pid()
            got["waited"] = time.monotonic() - started

    with db.connection() as held:
        held_pid = held.get_backend_pid()
        waiter = threading.Thread(target=borrow)
        waiter.start()
        time.sleep(0.3)
        assert waiter.is_alive(), "the second checkout did not wait for the only connection"
    waiter.join(5)
    assert got["pid"] == held_pid  # the returned connection, not a new one
    assert got["waited"] >= 0.3


def test_a_full_pool_times_out_with_database_unavailable(make_db):
    db = make_db(pool_size=1, checkout_timeout=0.2)
    with db.connection():
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match="no free connection"), db.connection():
            pass
        assert 0.2 <= time.monotonic() - started < 2
    assert db.run(_backend_pid)  # the failed checkout took no slot


def test_a_terminated_idle_connection_is_replaced_at_checkout(make_db, primary):
    db = make_db(pool_size=1)
    old_pid = db.run(_backend_pid)
    with primary.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s, 5000)", (old_pid,))  # waits until it has gone
        assert cur.fetchone()[0]
    # connection() never retries: only the check at checkout can keep this from failing.
    with db.connection() as conn, conn.cursor() as cur:
        assert _backend_pid(cur) != old_pid


def test_a_connection_left_in_a_transaction_is_not_lent_again(make_db, primary):
    db = make_db(pool_size=1)
    with db.connection() as conn, conn.cursor() as cur:
        old_pid = _backend_pid(cur)
        cur.execute("BEGIN")
    assert db.run(_backend_pid) != old_pid
    assert old_pid not in _sessions(primary, db)


def test_every_pooled_connection_survives_a_server_restart(make_db, stack):
    db = make_db(pool_size=3)
    with db.connection() as a, db.connection() as b, db.connection() as c:
        before = {a.get_backend_pid(), b.get_backend_pid(), c.get_backend_pid()}
    stack.cluster.primary.stop(mode="fast")
    stack.cluster.primary.start()
    try:
        # Three idle connections, all dead: each checkout must get a live one.
        with db.connection() as a, db.connection() as b, db.connection() as c:
            after = set()
            for conn in (a, b, c):
                with conn.cursor() as cur:
                    after.add(_backend_pid(cur))
        assert after.isdisjoint(before)
        assert db.run(_backend_pid) in after
    finally:
        stack.cluster.wait_until_streaming()


def _terminate_own_backend_once(attempts: list):
    def work(cur):
        attempts.append(_backend_pid(cur))
        if len(attempts) == 1:
            cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return _backend_pid(cur)

    return work


def test_work_that_loses_its_connection_runs_again_on_a_new_one(make_db):
    db = make_db()
    attempts = []
    pid = db.run(_terminate_own_backend_once(attempts))
    assert len(attempts) == 2
    assert pid == attempts[1] != attempts[0]


def test_work_that_may_not_repeat_is_not_run_again(make_db):
    db = make_db()
    attempts = []
    with pytest.raises(DatabaseUnavailable):
        db.run(_terminate_own_backend_once(attempts), retry=False)
    assert len(attempts) == 1
    assert db.run(_backend_pid) != attempts[0]  # and the pool goes on with a new connection


def test_a_missing_table_is_schema_not_ready(make_db):
    with pytest.raises(SchemaNotReady):
        make_db().run(lambda cur: cur.execute("SELECT * FROM no_such_table_yet"))


def test_an_unreachable_server_is_database_unavailable_without_the_password(make_db):
    db = make_db(port=free_port(), connect_timeout=2)
    with pytest.raises(DatabaseUnavailable, match="cannot connect") as raised:
        db.run(_backend_pid)
    assert db.settings.password not in str(raised.value)
    assert db.settings.describe() in str(raised.value)
