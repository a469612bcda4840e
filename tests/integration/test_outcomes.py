"""Issue 11, findings 1 and 7: a change that committed is never answered as a
failure, one that did not is never answered as a success, and when its outcome is
unknown the answer says so and offers a safe retry (Idempotency-Key)."""

from __future__ import annotations

import socket
import threading
import uuid
from contextlib import closing

import requests

from ..helpers import (
    Person,
    frontend_client,
    name_for,
    replica_down,
    row_count,
    service_down,
    signed_in,
)

# -- 1. a committed write is never answered as a failure --------------------------------


def test_api_create_with_the_reader_down_answers_201_unconfirmed(stack, primary):
    api = Person(stack).api_root()
    title = name_for("reader down")
    with service_down(stack, "reader"):
        created = requests.post(api, json={"title": title}, timeout=10)
    assert created.status_code == 201, created.text
    assert created.json()["title"] == title
    assert created.headers["X-Read-Your-Writes"] == "unconfirmed"
    assert row_count(primary, "name = %s", (title,)) == 1


def test_api_create_with_the_replica_down_answers_201(stack, primary):
    api = Person(stack).api_root()
    title = name_for("replica down")
    with replica_down(stack):
        created = requests.post(api, json={"title": title}, timeout=10)
        assert created.status_code == 201, created.text
    assert row_count(primary, "name = %s", (title,)) == 1


class DroppingProxy:
    """A TCP proxy to the writer that forwards each request, lets the writer answer
    (so the change commits), and then drops the connection instead of passing the
    answer on - for the first ``drops`` requests; later ones pass through."""

    def __init__(self, target_port: int, drops: int):
        self.target_port = target_port
        self.drops = drops
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.forwarded = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client):
        with closing(client), closing(socket.create_connection(("127.0.0.1", self.target_port))) as upstream:
            client.settimeout(10)
            upstream.settimeout(10)
            while True:
                try:
                    request = _read_message(client)
                except OSError:  # the frontend kept the connection idle: done
                    return
                if request is None:
                    return
                upstream.sendall(request)
                answer = _read_message(upstream)
                self.forwarded += 1
                if self.forwarded <= self.drops or answer is None:
                    client.shutdown(socket.SHUT_RDWR)  # committed, and the answer is lost
                    return
                client.sendall(answer)

    def close(self):
        self.listener.close()


def _read_message(sock) -> bytes | None:
    """One HTTP/1.1 message with a Content-Length body (all our services send one)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def test_writer_answer_lost_after_commit_is_an_unknown_outcome_not_a_failure(stack, primary):
    """The writer commits and the connection drops before its answer: the client hears
    "outcome unknown, retry with the same Idempotency-Key" (502), and the retry
    replays the one item."""
    token = Person(stack).api_root().rsplit("/", 2)[-2]
    proxy = DroppingProxy(stack.ports.writer, drops=2)  # the frontend's own repeat is lost too
    try:
        _, client = frontend_client(stack, WRITER_URL=f"http://127.0.0.1:{proxy.port}")
        title, key = name_for("answer lost"), str(uuid.uuid4())
        lost = client.post(f"/api/t/{token}/todos", json={"title": title}, headers={"Idempotency-Key": key})
        assert lost.status_code == 502, lost.get_data(as_text=True)
        body = lost.get_json()
        assert body["code"] == "outcome_unknown"
        assert "outcome is unknown" in body["error"] and key in body["error"]
        assert lost.headers["Idempotency-Key"] == key
        assert row_count(primary, "name = %s", (title,)) == 1  # it did commit
        retried = requests.post(
            f"{stack.frontend_url}/api/t/{token}/todos", json={"title": title}, headers={"Idempotency-Key": key}
        )
        assert retried.status_code == 201
        assert row_count(primary, "name = %s", (title,)) == 1
    finally:
        proxy.close()


def test_the_frontend_repeats_a_keyed_create_whose_answer_was_lost(stack, primary):
    token = Person(stack).api_root().rsplit("/", 2)[-2]
    proxy = DroppingProxy(stack.ports.writer, drops=1)
    try:
        _, client = frontend_client(stack, WRITER_URL=f"http://127.0.0.1:{proxy.port}")
        title = name_for("repeated once")
        created = client.post(f"/api/t/{token}/todos", json={"title": title}, headers={"Idempotency-Key": title})
        assert created.status_code == 201, created.get_data(as_text=True)
        assert row_count(primary, "name = %s", (title,)) == 1
    finally:
        proxy.close()


def test_a_keyless_create_whose_answer_was_lost_is_unknown_and_not_repeated(stack, primary):
    token = Person(stack).api_root().rsplit("/", 2)[-2]
    proxy = DroppingProxy(stack.ports.writer, drops=1)
    try:
        _, client = frontend_client(stack, WRITER_URL=f"http://127.0.0.1:{proxy.port}")
        title = name_for("no key")
        lost = client.post(f"/api/t/{token}/todos", json={"title": title})
        assert lost.status_code == 502
        assert lost.get_json()["code"] == "outcome_unknown"
        assert row_count(primary, "name = %s", (title,)) == 1  # committed once, not repeated blindly
    finally:
        proxy.close()


def test_the_add_form_carries_a_key_so_a_resubmission_adds_once(stack, primary):
    browser = signed_in(stack)
    page = browser.get("/").text
    path = browser.list_path()
    key = page.split('name="form_key" value="', 1)[1].split('"', 1)[0]
    name = name_for("form twice")
    for _ in range(2):
        browser.post(path + "/todos", {"name": name, "form_key": key})
    assert row_count(primary, "name = %s", (name,)) == 1
    # The same (old) form with other text, as after the back button: a new item, no error.
    other = name_for("form again")
    assert browser.post(path + "/todos", {"name": other, "form_key": key}).status_code == 200
    assert row_count(primary, "name = %s", (other,)) == 1


# -- 7. a create that committed answers 201 ----------------------------------------------


def test_an_idempotent_replay_after_a_delete_answers_201(stack):
    api = Person(stack).api_root()
    key, title = str(uuid.uuid4()), name_for("replayed after delete")
    first = requests.post(api, json={"title": title}, headers={"Idempotency-Key": key}, timeout=10)
    assert first.status_code == 201
    assert requests.delete(first.json()["url"], timeout=10).status_code == 204
    again = requests.post(api, json={"title": title}, headers={"Idempotency-Key": key}, timeout=10)
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
