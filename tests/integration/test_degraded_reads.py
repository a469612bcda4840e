"""Issue 11, findings 2, 4, 5 and 6: a replica that is down does not take reads
down, LSNs from the future neither hold threads nor stick to a session, and a slow
reader is told from a down one."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager

import requests

from ..helpers import (
    FAR_FUTURE_LSN,
    Person,
    frontend_client,
    metric,
    name_for,
    replay_paused,
    replica_down,
    signed_in,
    wait_replayed,
)

# -- 2. the replica down does not take reads down ---------------------------------------


def test_replica_down_reads_fall_back_and_readiness_says_degraded(stack):
    browser = signed_in(stack)
    name = name_for("seen with the replica down")
    browser.post(browser.list_path() + "/todos", {"name": name})
    before = metric(stack.url("reader"), "todo_reader_fallback_reads_total", 'reason="replica_unreachable"')
    with replica_down(stack):
        page = browser.get("/")
        assert page.status_code == 200
        assert name in page.text
        ready = requests.get(stack.url("reader") + "/readyz", timeout=10)
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        assert "replica unreachable, serving from the primary" in ready.json()["detail"]
    after = metric(stack.url("reader"), "todo_reader_fallback_reads_total", 'reason="replica_unreachable"')
    assert after > before


# -- 4. a far-future X-Min-LSN holds no thread -----------------------------------------


def test_an_lsn_ahead_of_the_primary_is_not_waited_for(stack):
    person = Person(stack)
    timed_out = metric(stack.url("reader"), "todo_reader_lsn_waits_total", 'outcome="timed_out"')
    started = time.monotonic()
    answer = person.reader("/v1/todos", headers={"X-Min-LSN": FAR_FUTURE_LSN})
    elapsed = time.monotonic() - started
    assert answer.status_code == 200
    assert answer.headers["X-Min-LSN-Status"] == "stale"
    assert metric(stack.url("reader"), "todo_reader_lsn_waits_total", 'outcome="timed_out"') == timed_out
    assert elapsed < 0.25  # the wait bound in the tests is 300 ms


def test_many_waiting_reads_do_not_starve_the_others(stack, primary, replica):
    """Twenty reads wait for a write the replica will not replay: at most
    LSN_MAX_CONCURRENT_WAITS of them wait, the rest go to the primary at once, and a
    plain read meanwhile answers promptly."""
    person = Person(stack)
    wait_replayed(primary, replica)
    with replay_paused(replica):
        lsn = person.writer("POST", "/v1/todos", json={"name": name_for("waited for")}).headers["X-Commit-LSN"]
        with ThreadPoolExecutor(max_workers=20) as pool:
            waiting = [pool.submit(person.reader, "/v1/todos", headers={"X-Min-LSN": lsn}) for _ in range(20)]
            time.sleep(0.05)
            started = time.monotonic()
            plain = person.reader("/v1/counts")
            plain_took = time.monotonic() - started
            answers = [future.result() for future in waiting]
    assert plain.status_code == 200
    assert {answer.status_code for answer in answers} == {200}
    assert sum(answer.headers["X-Served-By"] == "primary" for answer in answers) == 20
    # 20 reads x 300 ms on 4 threads would hold the plain read for over a second.
    assert plain_took < 0.6, plain_took
    assert metric(stack.url("reader"), "todo_reader_fallback_reads_total", 'reason="busy"') > 0


# -- 5. a session's LSN heals -------------------------------------------------------------


def _logged_in_client(stack, primary, replica, **env):
    """An in-process frontend whose session is a new person's, once the replica knows them."""
    _, client = frontend_client(stack, **env)
    person = Person(stack)
    wait_replayed(primary, replica)
    with client.session_transaction() as session:
        session.update(account=person.id, gen=person.generation, user=person.username)
    return person, client


def test_a_session_lsn_ahead_of_the_primary_is_forgotten(stack, primary, replica):
    _, client = _logged_in_client(stack, primary, replica)
    with client.session_transaction() as session:
        session["lsn"] = FAR_FUTURE_LSN
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        assert "lsn" not in session


def test_a_session_lsn_the_replica_has_replayed_is_dropped(stack, primary, replica):
    """Once replayed and older than LSN_KEEP_SECONDS (60 s by default; 0 here)."""
    person, client = _logged_in_client(stack, primary, replica, LSN_KEEP_SECONDS="0")
    page = client.get("/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post(f"/lists/{person.list_id}/todos", data={"name": name_for("then dropped"), "csrf_token": token})
    with client.session_transaction() as session:
        assert "lsn" in session
    wait_replayed(primary, replica)
    client.get("/")
    with client.session_transaction() as session:
        assert "lsn" not in session


def test_a_recent_session_lsn_is_kept_though_replayed(stack, primary, replica):
    """A replica that crashed may show an older state for a moment after its restart:
    a write of the last LSN_KEEP_SECONDS keeps its LSN."""
    person, client = _logged_in_client(stack, primary, replica)
    page = client.get("/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post(f"/lists/{person.list_id}/todos", data={"name": name_for("kept"), "csrf_token": token})
    wait_replayed(primary, replica)
    client.get("/")
    with client.session_transaction() as session:
        assert "lsn" in session


def test_the_api_high_water_heals_too(stack):
    app, client = frontend_client(stack)
    token = Person(stack).api_root().rsplit("/", 2)[-2]
    app.extensions["todo_api_high_water"].advance(FAR_FUTURE_LSN)
    assert client.get(f"/api/t/{token}/todos").status_code == 200
    assert app.extensions["todo_api_high_water"].lsn is None


# -- 6. a slow reader is a 504, a down one a 503 ----------------------------------------


@contextmanager
def silent_server():
    """Accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def serve():
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for sock in held:
            sock.close()


def test_a_slow_reader_is_a_504_and_a_down_one_a_503(stack):
    token = Person(stack).api_root().rsplit("/", 2)[-2]
    with silent_server() as port:
        _, client = frontend_client(stack, READER_URL=f"http://127.0.0.1:{port}", UPSTREAM_TIMEOUT_SECONDS="0.3")
        slow = client.get(f"/api/t/{token}/todos")
        assert slow.status_code == 504
        assert "did not answer in time" in slow.get_json()["error"]
    with closing(socket.create_server(("127.0.0.1", 0))) as closed:
        port = closed.getsockname()[1]
    _, client = frontend_client(stack, READER_URL=f"http://127.0.0.1:{port}")
    down = client.get(f"/api/t/{token}/todos")
    assert down.status_code == 503
    assert "MaxRetryError" not in down.get_json()["error"]
