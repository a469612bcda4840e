"""Migrations adopt the original app's database in place and are safe to repeat."""

from __future__ import annotations

import subprocess
import sys
import uuid
from contextlib import closing

import psycopg2
import pytest

# What the original single-process app created (Flask-SQLAlchemy model, PostgreSQL).
ORIGINAL_TABLE = """
CREATE TABLE todo_list (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name varchar(100) NOT NULL,
    completed boolean NOT NULL DEFAULT false
)"""
ORIGINAL_ROWS = [("buy milk", False), ("walk the dog", True), ("Ünïcode ✓", False), ("x" * 100, True)]


@pytest.fixture
def original_database(stack, primary):
    """A fresh database of the original app, owned by the app role, with its rows."""
    name = f"legacy_{uuid.uuid4().hex[:8]}"
    with primary.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name} OWNER todo")
    dsn = stack.cluster.primary.dsn("todo", stack.passwords["todo"], name)
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        cur.execute(ORIGINAL_TABLE)
        cur.executemany("INSERT INTO todo_list (name, completed) VALUES (%s, %s)", ORIGINAL_ROWS)
        cur.execute("DELETE FROM todo_list WHERE name = 'buy milk'")  # ids with a gap, as in real life
        cur.execute("INSERT INTO todo_list (name) VALUES ('buy milk')")
        conn.commit()
    yield name, dsn
    with primary.cursor() as cur:
        cur.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _migrate(stack, database: str) -> subprocess.Popen:
    env = {**stack._process_env("writer"), "DATABASE_NAME": database}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "todo_writer", "migrate"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _rows(dsn):
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, name, completed FROM todo_list ORDER BY id")
        rows = cur.fetchall()
        cur.execute("SELECT sum(total), sum(completed) FROM todo_counts")
        counts = cur.fetchone()
        cur.execute("SELECT count(*) FROM schema_migrations")
        applied = cur.fetchone()[0]
    return rows, counts, applied


def test_adopting_the_original_database_keeps_every_row(stack, original_database):
    name, dsn = original_database
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, name, completed FROM todo_list ORDER BY id")
        before = cur.fetchall()
    process = _migrate(stack, name)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "applied 4 migration(s)" in output
    rows, counts, applied = _rows(dsn)
    assert rows == before
    assert counts == (len(before), sum(1 for _, _, done in before if done))
    assert applied == 4
    # New rows keep counting from the old sequence: no id is reused.
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO todo_list (name) VALUES ('after adoption') RETURNING id")
        assert cur.fetchone()[0] > max(row[0] for row in before)
        conn.commit()


def test_running_migrate_twice_and_concurrently_is_safe(stack, original_database):
    name, dsn = original_database
    racers = [_migrate(stack, name) for _ in range(3)]
    outputs = [racer.communicate(timeout=60)[0] for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0, 0], outputs
    assert sum("applied 4 migration(s)" in output for output in outputs) == 1
    assert sum("up to date" in output for output in outputs) == 2
    again = _migrate(stack, name)
    assert "up to date" in again.communicate(timeout=60)[0]
    rows, counts, applied = _rows(dsn)
    assert len(rows) == len(ORIGINAL_ROWS)
    assert counts[0] == len(ORIGINAL_ROWS)
    assert applied == 4


def test_an_edited_applied_migration_stops_the_run(stack, original_database):
    name, dsn = original_database
    assert _migrate(stack, name).wait(timeout=60) == 0
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        cur.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = '0002'")
        conn.commit()
    process = _migrate(stack, name)
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "was changed after it was applied" in output
    assert "Traceback" not in output


def test_counts_follow_every_kind_of_change(stack, original_database):
    name, dsn = original_database
    assert _migrate(stack, name).wait(timeout=60) == 0
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        conn.autocommit = True
        cur.execute(
            "INSERT INTO todo_list (name, completed) SELECT 'bulk ' || n, n % 3 = 0 FROM generate_series(1, 300) n"
        )
        cur.execute("UPDATE todo_list SET completed = NOT completed WHERE id % 2 = 0")
        cur.execute("DELETE FROM todo_list WHERE completed AND id % 5 = 0")
        cur.execute("SELECT count(*), count(*) FILTER (WHERE completed) FROM todo_list")
        expected = cur.fetchone()
        cur.execute("SELECT sum(total), sum(completed) FROM todo_counts")
        assert cur.fetchone() == expected


def test_before_migrations_services_are_ready_but_answer_a_clear_503(stack, primary):
    """A first install runs the migration Job after the pods start (post-install):
    readiness must not wait for it (or `helm install --wait` never ends), and
    requests meanwhile get a clear 503, not a 500."""
    from todo_common.settings import Env
    from todo_writer import create_app as create_writer
    from todo_writer.settings import WriterSettings

    name = f"empty_{uuid.uuid4().hex[:8]}"
    with primary.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name} OWNER todo")
    try:
        env = Env({**stack.service_env("writer"), "DATABASE_NAME": name})
        client = create_writer(WriterSettings.from_env(env)).test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert len(ready.get_json()["pending_migrations"]) == 4
        response = client.post("/v1/todos", json={"name": "too early"})
        assert response.status_code == 503
        assert "migrations pending" in response.get_json()["error"]
    finally:
        with primary.cursor() as cur:
            cur.execute(f"DROP DATABASE {name} WITH (FORCE)")
