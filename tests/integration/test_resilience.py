"""The stack rides out restarts: PostgreSQL restarts cost no request, and a service
that is down gives the user a clear 503 with their typed text kept."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import requests

from ..helpers import Browser


@contextmanager
def service_down(stack, service: str):
    stack.stop_service(service)
    try:
        yield
    finally:
        stack.start_service(service)
        stack.wait_ready(service)


def test_writes_survive_a_primary_restart(stack):
    writer = stack.url("writer") + "/v1/todos"
    assert requests.post(writer, json={"name": "before restart"}, timeout=5).status_code == 201
    stack.cluster.primary.stop(mode="fast")
    stack.cluster.primary.start()
    # Every pooled connection is now dead; the pool must notice, not the user.
    for _ in range(5):
        response = requests.post(writer, json={"name": f"after restart {uuid.uuid4()}"}, timeout=10)
        assert response.status_code == 201, response.text
    stack.cluster.wait_until_streaming()


def test_reads_survive_a_replica_restart(stack):
    reader = stack.url("reader") + "/v1/todos"
    assert requests.get(reader, timeout=5).status_code == 200
    stack.cluster.replica.stop(mode="fast")
    stack.cluster.replica.start()
    for _ in range(5):
        assert requests.get(reader, timeout=10).status_code == 200


def test_database_down_is_a_clear_503_and_not_ready(stack):
    stack.cluster.replica.stop(mode="fast")
    try:
        response = requests.get(stack.url("reader") + "/v1/todos", timeout=10)
        assert response.status_code == 503
        assert "database is unavailable" in response.json()["error"]
        assert requests.get(stack.url("reader") + "/readyz", timeout=10).status_code == 503
        assert requests.get(stack.url("reader") + "/healthz", timeout=10).status_code == 200
    finally:
        stack.cluster.replica.start()


def test_writer_down_keeps_the_typed_text(stack):
    browser = Browser(stack.frontend_url)
    browser.get("/")
    name = f"typed while the writer is down {uuid.uuid4().hex[:6]}"
    with service_down(stack, "writer"):
        response = browser.post("/todos", {"name": name}, allow_redirects=False)
        assert response.status_code in (503, 504)  # refused, or timed out while it shuts down
        assert "writer service is unavailable" in response.text
        assert f'value="{name}"' in response.text
        assert requests.get(stack.frontend_url + "/readyz", timeout=5).status_code == 503
    assert name in browser.post("/todos", {"name": name}).text


def test_reader_down_is_a_503_page_not_a_trace(stack):
    with service_down(stack, "reader"):
        response = requests.get(stack.frontend_url + "/", timeout=10)
        assert response.status_code == 503
        assert "be loaded right now" in response.text
        assert "Traceback" not in response.text
        assert 'name="name"' in response.text  # the add form is still there
        api = requests.get(stack.frontend_url + "/api/todos", timeout=10)
        assert api.status_code == 503
        assert "reader" in api.json()["error"]
