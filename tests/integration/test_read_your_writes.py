"""Reads go to the replica, writes to the primary, and a user's own write is on the
next page they load even while the replica lags (replay paused on purpose)."""

from __future__ import annotations

import dataclasses
import uuid

import requests

from todo_common.service_token import Actor
from todo_common.settings import Env
from todo_reader import create_app as create_reader
from todo_reader.settings import ReaderSettings

from ..helpers import Person, replay_paused, service_headers, signed_in, wait_replayed


def _name(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def _metric(metrics_url: str, name: str) -> float:
    text = requests.get(metrics_url, timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def test_page_shows_own_write_while_replica_is_paused(stack, primary, replica):
    browser = signed_in(stack)
    list_path = browser.list_path()
    name = _name("written during lag")
    fallbacks_before = _metric(stack.metrics_url("reader"), "todo_reader_fallback_reads_total")
    with replay_paused(replica):
        response = browser.post(list_path + "/todos", {"name": name})
        assert response.status_code == 200  # followed the 303 to the list
        assert name in response.text
        # The replica really has not got it: the page came through the fallback.
        with replica.cursor() as cur:
            cur.execute("SELECT count(*) FROM todo_list WHERE name = %s", (name,))
            assert cur.fetchone()[0] == 0
        assert _metric(stack.metrics_url("reader"), "todo_reader_fallback_reads_total") > fallbacks_before
        # A read that carries no write of its own is served by the replica (stale but fast).
        account = primary.cursor()  # the browser's account, to read as it without its LSN
        account.execute("SELECT id, session_generation FROM accounts WHERE username = %s", (browser.username,))
        account_id, generation = account.fetchone()
        headers = service_headers(stack, Actor(account_id=account_id, generation=generation))
        no_lsn = requests.get(stack.url("reader") + "/v1/todos", headers=headers, timeout=5)
        assert no_lsn.headers["X-Served-By"] == "replica"
        assert name not in no_lsn.text
    wait_replayed(primary, replica)
    page = browser.get("/")
    assert name in page.text


def test_reads_with_token_go_back_to_replica_after_resume(stack, primary, replica):
    person = Person(stack)
    created = person.writer("POST", "/v1/todos", json={"name": _name("resume")})
    lsn = created.headers["X-Commit-LSN"]
    wait_replayed(primary, replica)
    response = person.reader("/v1/todos", headers={"X-Min-LSN": lsn})
    assert response.headers["X-Served-By"] == "replica"
    assert created.json()["todo"]["name"] in response.text


def test_reader_waits_for_a_short_lag_instead_of_falling_back(stack, primary, replica):
    """The LSN wait: replay resumes within the bound, so the replica answers."""
    import threading

    name = _name("short lag")
    person = Person(stack)
    with replay_paused(replica):
        created = person.writer("POST", "/v1/todos", json={"name": name})
        lsn = created.headers["X-Commit-LSN"]
        timer = threading.Timer(0.1, lambda: _resume(stack))
        timer.start()
        response = person.reader("/v1/todos/" + str(created.json()["todo"]["id"]), headers={"X-Min-LSN": lsn})
        timer.join()
    assert response.status_code == 200
    assert response.headers["X-Served-By"] == "replica"
    assert response.json()["name"] == name


def _resume(stack):
    conn = stack.cluster.superuser_connection(stack.cluster.replica)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_wal_replay_resume()")
    finally:
        conn.close()


def test_without_fallback_a_lagging_read_is_a_clear_503(stack, primary, replica):
    env = Env({**stack.service_env("reader"), "LSN_WAIT_TIMEOUT_MS": "100"})
    settings = dataclasses.replace(ReaderSettings.from_env(env), fallback_database=None)
    client = create_reader(settings).test_client()
    person = Person(stack)
    wait_replayed(primary, replica)  # the account is on the replica; only the item will lag
    with replay_paused(replica):
        created = person.writer("POST", "/v1/todos", json={"name": _name("no fallback")})
        response = client.get("/v1/todos", headers=person.headers(**{"X-Min-LSN": created.headers["X-Commit-LSN"]}))
    assert response.status_code == 503
    assert "has not caught up" in response.get_json()["error"]
    assert response.headers["Retry-After"] == "1"


def test_public_api_reads_its_writes_without_cookies(stack, replica):
    api = Person(stack).api_root()
    with replay_paused(replica):
        created = requests.post(api, json={"title": _name("api lag")}, timeout=10)
        assert created.status_code == 201
        url = created.json()["url"]
        assert requests.get(url, timeout=10).json()["title"] == created.json()["title"]
        patched = requests.patch(url, json={"completed": True}, timeout=10)
        assert patched.json()["completed"] is True
        assert requests.get(url, timeout=10).json()["completed"] is True
        assert created.json()["id"] in [todo["id"] for todo in requests.get(api, timeout=10).json()]
        assert requests.delete(url, timeout=10).status_code == 204
        assert requests.get(url, timeout=10).status_code == 404


def test_reader_uses_replica_and_writer_uses_primary(stack, primary, replica):
    # Make both services hold a pooled connection, then look at who is connected where.
    person = Person(stack)
    person.writer("POST", "/v1/todos", json={"name": _name("who")})
    person.reader("/v1/todos")

    def applications(conn):
        with conn.cursor() as cur:
            cur.execute("SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = 'todo'")
            return {row[0] for row in cur.fetchall()}

    on_primary, on_replica = applications(primary), applications(replica)
    assert "todo-writer" in on_primary
    assert "todo-reader" not in on_primary
    assert "todo-reader" in on_replica
    assert "todo-writer" not in on_replica
    with replica.cursor() as cur:
        cur.execute("SELECT pg_is_in_recovery()")
        assert cur.fetchone()[0] is True


def test_keyset_pages_walk_forward_and_back(stack, primary, replica):
    """next_after and prev_after lead through the pages of a filter and back again."""
    person = Person(stack)
    tag = _name("keyset")
    ids = [
        person.writer("POST", "/v1/todos", json={"name": f"{tag} {n}", "completed": n % 2 == 0}).json()["todo"]["id"]
        for n in range(7)
    ]
    done = [i for n, i in enumerate(ids) if n % 2 == 0]  # 4 completed among them
    wait_replayed(primary, replica)

    def page(after):
        query = {"status": "completed", "limit": 2, "after": after}
        return person.reader("/v1/todos", params=query).json()

    first = page(done[0] - 1)
    assert [t["id"] for t in first["items"]] == done[:2]
    second = page(first["next_after"])
    assert [t["id"] for t in second["items"]] == done[2:4]
    back = page(second["prev_after"])
    assert [t["id"] for t in back["items"]] == done[:2]
    assert page(0)["prev_after"] is None
