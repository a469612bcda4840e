"""Migrations adopt the original app's database in place (every item goes to an owner
account named by the operator, who can then log in) and are safe to repeat."""

from __future__ import annotations

import subprocess
import sys
import uuid
from contextlib import closing

import psycopg2
import pytest

from todo_common.service_token import Actor
from todo_writer.migrate import available

from ..helpers import service_headers

# The original single-process app's table, in its two shapes: from its database
# dump, and as its Flask-SQLAlchemy model's db.create_all() made it.
ORIGINAL_TABLES = {
    "dump": """
        CREATE TABLE todo_list (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name varchar(100) NOT NULL,
            completed boolean NOT NULL DEFAULT false
        )""",
    "create_all": """
        CREATE TABLE todo_list (
            id SERIAL NOT NULL,
            name VARCHAR(100) NOT NULL,
            completed BOOLEAN NOT NULL,
            PRIMARY KEY (id)
        )""",
}
MIGRATIONS = len(available())
ORIGINAL_ROWS = [("buy milk", False), ("walk the dog", True), ("Ünïcode ✓", False), ("x" * 100, True)]


@pytest.fixture(params=sorted(ORIGINAL_TABLES))
def original_database(request, stack, primary):
    """A fresh database of the original app, owned by the app role, with its rows."""
    name = f"legacy_{uuid.uuid4().hex[:8]}"
    with primary.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name} OWNER todo")
    dsn = stack.cluster.primary.dsn("todo", stack.passwords["todo"], name)
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        cur.execute(ORIGINAL_TABLES[request.param])
        cur.executemany("INSERT INTO todo_list (name, completed) VALUES (%s, %s)", ORIGINAL_ROWS)
        cur.execute("DELETE FROM todo_list WHERE name = 'buy milk'")  # ids with a gap, as in real life
        cur.execute("INSERT INTO todo_list (name, completed) VALUES ('buy milk', false)")
        conn.commit()
    yield name, dsn
    with primary.cursor() as cur:
        cur.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _migrate(stack, database: str, *args: str, command: str = "migrate") -> subprocess.Popen:
    # As the chart's migration Job runs it: the commands need no service-token key.
    env = {**stack._process_env("writer"), "DATABASE_NAME": database}
    env.pop("SERVICE_TOKEN_KEY")
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "todo_writer", command, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _rows(dsn):
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, name, completed FROM todo_list ORDER BY id")
        rows = cur.fetchall()
        cur.execute("SELECT coalesce(sum(total), 0), coalesce(sum(completed), 0) FROM todo_lists")
        counts = cur.fetchone()
        cur.execute("SELECT count(*) FROM schema_migrations")
        applied = cur.fetchone()[0]
    return rows, counts, applied


def test_adopting_the_original_database_keeps_every_row(stack, original_database):
    name, dsn = original_database
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, name, completed FROM todo_list ORDER BY id")
        before = cur.fetchall()
    process = _migrate(stack, name, "--owner", "alice")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"applied {MIGRATIONS} migration(s)" in output
    assert f"gave {len(before)} existing item(s) to the account 'alice'" in output
    rows, counts, applied = _rows(dsn)
    assert rows == before
    assert counts == (len(before), sum(1 for _, _, done in before if done))
    assert applied == MIGRATIONS
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT a.username FROM todo_list t JOIN todo_lists l ON l.id = t.list_id"
            " JOIN accounts a ON a.id = l.account_id"
        )
        assert cur.fetchall() == [("alice",)]
    # New rows keep counting from the old sequence: no id is reused.
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO todo_list (name, completed) VALUES ('after adoption', false) RETURNING id")
        assert cur.fetchone()[0] > max(row[0] for row in before)
        conn.commit()


def test_running_migrate_twice_and_concurrently_is_safe(stack, original_database):
    name, dsn = original_database
    racers = [_migrate(stack, name) for _ in range(3)]
    outputs = [racer.communicate(timeout=60)[0] for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0, 0], outputs
    assert sum(f"applied {MIGRATIONS} migration(s)" in output for output in outputs) == 1
    assert all("belong to nobody" in output for output in outputs)  # no --owner: they wait for one
    assert sum("up to date" in output for output in outputs) == 2
    again = _migrate(stack, name)
    assert "up to date" in again.communicate(timeout=60)[0]
    rows, counts, applied = _rows(dsn)
    assert len(rows) == len(ORIGINAL_ROWS)
    assert counts[0] == 0  # in no list yet
    assert applied == MIGRATIONS


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
    assert _migrate(stack, name, "--owner", "carol").wait(timeout=60) == 0
    with closing(psycopg2.connect(**dsn)) as conn, conn.cursor() as cur:
        conn.autocommit = True
        cur.execute("SELECT id FROM todo_lists")
        (list_id,) = cur.fetchone()
        cur.execute(
            "INSERT INTO todo_list (list_id, name, completed)"
            " SELECT %s, 'bulk ' || n, n %% 3 = 0 FROM generate_series(1, 300) n",
            (list_id,),
        )
        cur.execute("UPDATE todo_list SET completed = NOT completed WHERE id % 2 = 0")
        cur.execute("DELETE FROM todo_list WHERE completed AND id % 5 = 0")
        cur.execute("SELECT count(*), count(*) FILTER (WHERE completed) FROM todo_list")
        expected = cur.fetchone()
        cur.execute("SELECT total, completed FROM todo_lists WHERE id = %s", (list_id,))
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
        assert len(ready.get_json()["pending_migrations"]) == MIGRATIONS
        headers = service_headers(stack, Actor(account_id=1, generation=1))
        response = client.post("/v1/todos", json={"name": "too early"}, headers=headers)
        assert response.status_code == 503
        assert "migrations pending" in response.get_json()["error"]
    finally:
        with primary.cursor() as cur:
            cur.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_the_adopted_owner_sets_a_password_and_logs_in(stack, original_database):
    """The operator's two documented commands: migrate --owner, then set-password."""
    from todo_common.settings import Env
    from todo_reader import create_app as create_reader
    from todo_reader.settings import ReaderSettings
    from todo_writer import create_app as create_writer
    from todo_writer.settings import WriterSettings

    name, _ = original_database
    assert _migrate(stack, name, "--owner", "dave").wait(timeout=60) == 0
    env = {**stack.service_env("writer"), "DATABASE_NAME": name}
    writer = create_writer(WriterSettings.from_env(Env(env))).test_client()
    anonymous = service_headers(stack, Actor())
    # Before a password is set, nobody can log in as the owner.
    refused = writer.post("/v1/sessions", json={"username": "dave", "password": "x"}, headers=anonymous)
    assert refused.status_code == 401
    setter = _migrate(stack, name, "dave", "--password", "dave's new passphrase", command="set-password")
    assert setter.wait(timeout=60) == 0, setter.stdout.read()
    credentials = {"username": "dave", "password": "dave's new passphrase"}
    session = writer.post("/v1/sessions", json=credentials, headers=anonymous)
    assert session.status_code == 200, session.get_json()
    account = session.get_json()
    # The owner sees every item of the original table (read here from the primary, as
    # with an external database without replicas).
    reader_env = {**stack.service_env("reader"), **{k: v for k, v in env.items() if k.startswith("DATABASE_")}}
    reader = create_reader(ReaderSettings.from_env(Env(reader_env))).test_client()
    actor = Actor(account_id=account["account"]["id"], generation=account["generation"])
    page = reader.get("/v1/todos?limit=100", headers=service_headers(stack, actor)).get_json()
    assert sorted(todo["name"] for todo in page["items"]) == sorted(name for name, _ in ORIGINAL_ROWS)


def test_set_password_for_an_unknown_account_fails_clearly(stack, original_database):
    name, _ = original_database
    assert _migrate(stack, name).wait(timeout=60) == 0
    setter = _migrate(stack, name, "nobody", "--password", "some long password", command="set-password")
    output, _ = setter.communicate(timeout=60)
    assert setter.returncode != 0
    assert "no account named 'nobody'" in output
    assert "Traceback" not in output
