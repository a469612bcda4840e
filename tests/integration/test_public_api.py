"""The public API behaves as the Todo-Backend specification's own tests expect."""

from __future__ import annotations

import uuid

import requests


def test_preflight_allows_any_origin(stack):
    response = requests.options(
        stack.frontend_url + "/api/todos/1",
        headers={
            "Origin": "https://www.todobackend.com",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=5,
    )
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_todo_lifecycle(stack):
    api = stack.frontend_url + "/api/todos"
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
