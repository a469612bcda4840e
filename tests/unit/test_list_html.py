"""The list region and its items, kept per worker by what they show: a kept one is
reused only for the very same answer and view, never for a changed list."""

from __future__ import annotations

import json
import re

import pytest

from tests.unit.test_openapi import frontend_app
from todo_frontend import list_html


@pytest.fixture(scope="module")
def app():
    return frontend_app()


def answer(*items, name="Groceries", lists=True) -> bytes:
    """A reader's page answer (the fields the region reads), as bytes."""
    todos = [{"id": i, "name": n, "completed": c, "order": None} for i, n, c in items]
    done = sum(1 for _, _, c in items if c)
    page = {
        "list": {"id": 7, "name": name},
        "items": todos,
        "next_after": None,
        "prev_after": None,
        "counts": {"all": len(todos), "active": len(todos) - done, "completed": done},
        "lists": [{"id": 7, "name": name}] if lists else None,
    }
    return json.dumps(page).encode()


def render(app, body: bytes, status="all", after=0, focus=None) -> tuple[dict, str]:
    with app.test_request_context("/lists/7"):
        return list_html.render(body, status, after, "", focus)


def test_the_same_answer_and_view_reuse_the_kept_region(app):
    body = answer((1, "milk", False), (2, "bread", True))
    first_page, first = render(app, body)
    again_page, again = render(app, bytes(body))  # equal bytes, another object
    assert again is first and again_page is first_page
    assert render(app, body, focus="item-2")[1] is not first  # the focus is part of the view
    assert render(app, body, status="active")[1] is not first


@pytest.mark.parametrize(
    "changed",
    [
        answer((1, "milk", True), (2, "bread", True)),  # toggled
        answer((1, "oat milk", False), (2, "bread", True)),  # renamed
        answer((2, "bread", True)),  # deleted
        answer((1, "milk", False), (2, "bread", True), (3, "eggs", False)),  # added
        answer((1, "milk", False), (2, "bread", True), name="Shopping"),  # list renamed
    ],
    ids=["toggled", "renamed", "deleted", "added", "list-renamed"],
)
def test_a_changed_list_is_rendered_again(app, changed):
    before_page, before = render(app, answer((1, "milk", False), (2, "bread", True)))
    page, after = render(app, changed)
    assert page is not before_page and after is not before
    assert page == json.loads(changed)  # the page's title and list switcher read this
    for todo in page["items"]:
        item = re.search(rf'<li class="todo[^"]*" id="todo-{todo["id"]}">.*?</li>', after, re.S).group(0)
        assert f'<span class="name">{todo["name"]}</span>' in item
        assert ("completed" in item.split(">")[0]) == todo["completed"]


def test_names_are_escaped_and_nothing_kept_depends_on_who_asks(app):
    _, html = render(app, answer((1, "<script>alert(1)</script> & co", False)))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "csrf_token" not in html  # the token is outside the kept region (_list.html)


def test_each_item_is_rendered_once_and_reused(app):
    items = app.jinja_env.globals["list_items"]
    todos = [{"id": 41, "name": "kept", "completed": False}, {"id": 42, "name": "kept too", "completed": True}]
    with app.test_request_context("/"):
        first = items(todos, "/todos", "", None, None)
        focused = items(todos, "/todos", "", "42", None)
    assert first == items(todos, "/todos", "", None, None)
    assert focused.count("autofocus") == 1 and 'id="todo-42"' in focused.split("autofocus")[0].rsplit("<li", 1)[1]
