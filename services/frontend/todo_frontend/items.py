"""A list's items as HTML, each rendered once and then reused.

An item's markup (``_item.html``) depends only on what it shows: its id, name and
state, the view's query and whether it takes the focus. So each rendered item is
kept by exactly those values in a bounded LRU per worker, as collection caching does
elsewhere: a page of 250 items joins 250 kept strings instead of rendering and
escaping each name four times, and after a change only the changed item is rendered
again. Keyed by content, an entry can never show something stale; a renamed or
toggled item is simply another key, and the old one ages out.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Flask
from markupsafe import Markup

# About 0.7 KB an item: at most ~14 MB a worker, well past the pages a worker serves
# between changes.
CACHED_ITEMS = 20_000


def init_app(app: Flask) -> None:
    template = app.jinja_env.get_template("_item.html")

    @lru_cache(maxsize=CACHED_ITEMS)
    def item(todo_id: int, name: str, completed: bool, todos_path: str, view_query: str, focus: str | None) -> str:
        return template.render(
            id=todo_id, name=name, completed=completed, todos_path=todos_path, view_query=view_query, focus=focus
        )

    def list_items(items, todos_path: str, view_query: str, focus_toggle: str | None, focus_rename: str | None):
        """The ``<li>`` of every item, in order. ``focus_toggle`` / ``focus_rename``: the
        id (as text) of the item whose toggle or Rename link gets ``autofocus``."""
        focused = focus_toggle or focus_rename
        html = []
        for todo in items:
            todo_id = todo["id"]
            focus = None
            if focused is not None and str(todo_id) == focused:
                focus = "toggle" if focus_toggle else "rename"
            html.append(item(todo_id, todo["name"], bool(todo["completed"]), todos_path, view_query, focus))
        return Markup("".join(html))

    app.jinja_env.globals["list_items"] = list_items
