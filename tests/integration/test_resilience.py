"""The stack rides out restarts: PostgreSQL restarts cost no request, and a service
that is down gives the user a clear 503 with their typed text kept."""

from __future__ import annotations

import dataclasses
import uuid

import requests

from todo_common.settings import Env
from todo_reader import create_app as create_reader
from todo_reader.settings import ReaderSettings

from ..helpers import Person, service_down, signed_in, wait_replayed


def test_writes_survive_a_primary_restart(stack):
    person = Person(stack)
    assert person.writer("POST", "/v1/todos", json={"name": "before restart"}).status_code == 201
    stack.cluster.primary.stop(mode="fast")
    stack.cluster.primary.start()
    # Every pooled connection is now dead; the pool must notice, not the user.
    for _ in range(5):
        response = person.writer("POST", "/v1/todos", json={"name": f"after restart {uuid.uuid4()}"})
        assert response.status_code == 201, response.text
    stack.cluster.wait_until_streaming()


def test_reads_survive_a_replica_restart(stack, primary, replica):
    person = Person(stack)
    wait_replayed(primary, replica)
    assert person.reader("/v1/todos").status_code == 200
    stack.cluster.replica.stop(mode="fast")
    stack.cluster.replica.start()
    for _ in range(5):
        assert person.reader("/v1/todos").status_code == 200


def test_replica_down_without_fallback_is_a_clear_503_and_not_ready(stack):
    """With a fallback the primary serves (test_faults); without one, a clear 503."""
    env = Env(stack.service_env("reader"))
    client = create_reader(dataclasses.replace(ReaderSettings.from_env(env), fallback_database=None)).test_client()
    person = Person(stack)
    stack.cluster.replica.stop(mode="fast")
    try:
        response = client.get("/v1/todos", headers=person.headers())
        assert response.status_code == 503
        assert "database is unavailable" in response.get_json()["error"]
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200
    finally:
        stack.cluster.replica.start()
        stack.cluster.wait_until_streaming()


def test_writer_down_keeps_the_typed_text(stack):
    browser = signed_in(stack)
    path = browser.list_path()
    name = f"typed while the writer is down {uuid.uuid4().hex[:6]}"
    with service_down(stack, "writer"):
        response = browser.post(path + "/todos", {"name": name}, allow_redirects=False)
        assert response.status_code in (503, 504)  # refused, or timed out while it shuts down
        assert "writer service is unavailable" in response.text
        assert f'value="{name}"' in response.text
        assert requests.get(stack.frontend_url + "/readyz", timeout=5).status_code == 503
    assert name in browser.post(path + "/todos", {"name": name}).text


def test_reader_down_is_a_503_page_not_a_trace(stack):
    browser = signed_in(stack)
    api = Person(stack).api_root()
    with service_down(stack, "reader"):
        response = browser.get("/")
        assert response.status_code == 503
        assert "be loaded right now" in response.text
        assert "Traceback" not in response.text
        assert 'name="name"' in response.text  # the add form is still there
        answer = requests.get(api, timeout=10)
        assert answer.status_code == 503
        assert "reader" in answer.json()["error"]
