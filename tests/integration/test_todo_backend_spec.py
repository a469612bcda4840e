"""The Todo-Backend specification's checks (todobackend.com/specs), run against an
``api_root`` exactly as its browser runner does: no cookie, no header but JSON's
Content-Type, CORS preflights first; once with a healthy replica and once while the
replica's replay is paused, so every read after a write depends on read-your-writes.
"""

from __future__ import annotations

import pytest
import requests

from ..helpers import Person, replay_paused

ORIGIN = "https://www.todobackend.com"


class SpecClient:
    """What the spec runner does for every call: a CORS preflight, then the request."""

    def __init__(self, root: str):
        self.root = root

    def call(self, method: str, url: str, body: dict | None = None) -> requests.Response:
        preflight = requests.options(
            url,
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "content-type",
            },
            timeout=10,
        )
        assert preflight.ok, (method, url, preflight.status_code)
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        assert method in preflight.headers["Access-Control-Allow-Methods"]
        response = requests.request(method, url, json=body, headers={"Origin": ORIGIN}, timeout=10)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        return response

    def json(self, method: str, url: str, body: dict | None = None):
        response = self.call(method, url, body)
        assert response.ok, (method, url, response.status_code, response.text)
        return response.json()

    def fresh(self) -> None:
        """Each spec starts from an empty collection."""
        assert self.call("DELETE", self.root).ok


def _run_the_spec(api: SpecClient) -> None:
    # the pre-requisites
    assert api.call("GET", api.root).ok  # the api root responds to a GET
    posted = api.json("POST", api.root, {"title": "a todo"})  # ... to a POST with the todo
    assert posted["title"] == "a todo"
    assert api.call("DELETE", api.root).ok  # ... successfully to a DELETE
    assert api.json("GET", api.root) == []  # after a DELETE, an empty array

    # storing new todos by posting to the root url
    api.fresh()
    api.json("POST", api.root, {"title": "walk the dog"})
    assert [todo["title"] for todo in api.json("GET", api.root)] == ["walk the dog"]
    api.fresh()
    assert api.json("POST", api.root, {"title": "blah"})["completed"] is False  # initially not completed
    api.fresh()
    created = api.json("POST", api.root, {"title": "blah"})
    assert isinstance(created["url"], str) and created["url"]  # each new todo has a url
    assert api.json("GET", created["url"])["title"] == "blah"  # ... which returns a todo

    # working with an existing todo
    api.fresh()
    first = api.json("POST", api.root, {"title": "todo the first"})
    api.json("POST", api.root, {"title": "todo the second"})
    listed = api.json("GET", api.root)
    assert len(listed) == 2
    via_url = api.json("GET", next(todo["url"] for todo in listed if todo["title"] == "todo the first"))
    assert via_url["title"] == "todo the first"  # navigate from the list to one todo
    assert api.json("PATCH", first["url"], {"title": "bathe the cat"})["title"] == "bathe the cat"
    assert api.json("PATCH", first["url"], {"completed": True})["completed"] is True
    api.json("PATCH", first["url"], {"title": "changed title", "completed": True})
    refetched = api.json("GET", first["url"])  # changes are persisted
    assert (refetched["title"], refetched["completed"]) == ("changed title", True)
    assert api.call("DELETE", first["url"]).ok
    assert [todo["title"] for todo in api.json("GET", api.root)] == ["todo the second"]

    # tracking todo order
    api.fresh()
    ordered = api.json("POST", api.root, {"title": "blah", "order": 523})
    assert ordered["order"] == 523
    assert api.json("PATCH", ordered["url"], {"order": 95})["order"] == 95
    assert api.json("GET", ordered["url"])["order"] == 95


def test_the_spec_passes_against_an_api_root(stack):
    _run_the_spec(SpecClient(Person(stack).api_root()))


def test_the_spec_passes_while_the_replica_lags(stack, replica):
    root = Person(stack).api_root()
    with replay_paused(replica):
        _run_the_spec(SpecClient(root))


@pytest.mark.parametrize("lagging", [False, True], ids=["healthy", "lagging"])
def test_the_spec_leaves_other_peoples_lists_alone(stack, replica, lagging):
    """One person's spec run (with its DELETEs of the whole collection) never touches
    another's list."""
    bystander = Person(stack)
    kept = bystander.writer("POST", "/v1/todos", json={"name": "not yours"}).json()["todo"]
    runner = SpecClient(Person(stack).api_root())
    if lagging:
        with replay_paused(replica):
            _run_the_spec(runner)
    else:
        _run_the_spec(runner)
    assert bystander.writer("PATCH", f"/v1/todos/{kept['id']}", json={"completed": True}).status_code == 200
