"""The public API behaves as the Todo-Backend specification's own tests expect."""

from __future__ import annotations

import uuid

import pytest
import requests

from ..helpers import Person


@pytest.mark.parametrize("path", ["/api/todos/1", "/api/t/{token}/todos/1", "/api/tokens"])
def test_preflight_allows_any_origin(stack, path):
    response = requests.options(
        stack.frontend_url + path.format(token="a" * 43),
        headers={
            "Origin": "https://www.todobackend.com",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
        timeout=5,
    )
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers  # a page elsewhere gets no cookies


def test_todo_lifecycle(stack):
    api = Person(stack).api_root()
    title = f"spec {uuid.uuid4().hex[:8]}"
    created = requests.post(api, json={"title": title, "order": 523}, timeout=10)
    assert created.status_code == 201
    todo = created.json()
    assert todo["title"] == title
    assert todo["completed"] is False
    assert todo["order"] == 523
    assert created.headers["Location"] == todo["url"]

    fetched = requests.get(todo["url"], timeout=10).json()
    assert fetched == todo

    changed = requests.patch(
        todo["url"], json={"title": title + " changed", "completed": True, "order": 95}, timeout=10
    ).json()
    assert (changed["title"], changed["completed"], changed["order"]) == (title + " changed", True, 95)
    assert requests.get(todo["url"], timeout=10).json() == changed
    assert changed in requests.get(api, timeout=10).json()

    assert requests.delete(todo["url"], timeout=10).status_code == 204
    assert requests.get(todo["url"], timeout=10).status_code == 404


def test_collection_pages_with_a_link_header(stack):
    """More items than one answer holds: follow rel="next" until every item was seen.
    A frontend app with 2 items per answer, in-process, over the real reader and writer."""
    from todo_common.settings import Env
    from todo_frontend import create_app
    from todo_frontend.settings import FrontendSettings

    settings = FrontendSettings.from_env(Env({**stack.service_env("frontend"), "API_PAGE_SIZE": "2"}))
    client = create_app(settings).test_client()
    person = Person(stack)
    root = person.api_root().replace(stack.frontend_url, "")
    tag = uuid.uuid4().hex[:8]
    created = [
        person.writer("POST", "/v1/todos", json={"name": f"page {tag} {n}"}).json()["todo"]["id"] for n in range(5)
    ]
    seen, url, answers = [], f"{root}?after={created[0] - 1}", 0
    while url and answers < 50:
        response = client.get(url)
        assert response.status_code == 200
        assert len(response.get_json()) <= 2
        seen += [todo["id"] for todo in response.get_json()]
        link = response.headers.get("Link")
        url = link[1 : link.index(">")].replace("http://localhost", "") if link else None
        answers += 1
    assert set(created) <= set(seen)
    assert seen == sorted(seen)
    assert answers >= 3
    assert client.get(f"{root}?after=x").status_code == 400
