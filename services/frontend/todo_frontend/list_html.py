"""A list's HTML, rendered from the reader's answer and kept for reuse.

What the list region shows (``_list_region.html``) depends only on the reader's answer
and the view: status, page, the focus hint and where the app is mounted. So the
rendered region is kept per worker, keyed by exactly those (the answer as the bytes
the reader sent, which says everything: list, items, counts, the account's lists).
A returning visitor's page whose list has not changed is a dictionary look-up, with
no JSON decoding and no rendering; a change makes a new answer, so a kept region can
never show something stale, and old ones age out of a bounded LRU.

After a change the region is rendered again, but its items mostly are not: each
item's markup (``_item.html``) depends only on its id, name and state, the view's
query and whether it takes the focus, so each is kept too, as collection caching
does elsewhere; an added item is the only one rendered.

Nothing kept depends on who asks: the CSRF token and the user's name are outside
the region (``_list.html``, ``base.html``).
"""

from __future__ import annotations

import re
from functools import lru_cache

import orjson
from flask import Flask, current_app, render_template, request, url_for
from markupsafe import Markup

from .upstream import UpstreamUnavailable

# About 0.7 KB an item: at most ~14 MB a worker.
CACHED_ITEMS = 20_000
# A region of 250 items and its decoded answer take about 250 KB: at most ~8 MB a worker.
CACHED_REGIONS = 32


# Where the focus goes after a change: an item's toggle ("item-ID") or its Rename
# link ("rename-ID"), or a list control. An item that has left the view (deleted,
# or toggled out of a filter) hands the focus to its neighbour: ids are in list
# order, so the next one is the first shown id above it, else the last one below.
_FOCUS_HINT = re.compile(r"(item|rename)-([1-9][0-9]{0,18})|mark-all|clear-completed")


def focus_hint(value: str | None) -> str | None:
    return value if value and _FOCUS_HINT.fullmatch(value) else None


def focus_targets(page: dict | None, hint: str | None) -> dict:
    """What gets ``autofocus`` on the list page: {"toggle": id} or {"rename": id}
    (ids as text, as the template has them), or {"control": "add" | "mark-all" |
    "clear-completed" | "filter"}. Without a hint it is the add field, as always."""
    if page is None or hint is None:
        return {"control": "add"}
    counts = page["counts"]
    if hint in ("mark-all", "clear-completed"):
        if hint == "clear-completed" and not counts["completed"]:
            hint = "filter"  # cleared: the button is gone, the filters are beside where it was
        return {"control": hint if counts["all"] else "add"}
    kind, _, number = hint.partition("-")
    todo_id = int(number)
    shown = [item["id"] for item in page["items"]]
    if todo_id in shown:
        return {"rename" if kind == "rename" else "toggle": number}
    after = [i for i in shown if i > todo_id]
    before = [i for i in shown if i < todo_id]
    if after or before:
        return {"toggle": str(after[0] if after else before[-1])}
    # The view is empty now: its filter link if the list still has items, else the add field.
    return {"control": "filter" if counts["all"] else "add"}


def init_app(app: Flask) -> None:
    item_template = app.jinja_env.get_template("_item.html")

    @lru_cache(maxsize=CACHED_ITEMS)
    def item(todo_id: int, name: str, completed: bool, todos_path: str, view_query: str, focus: str | None) -> str:
        return item_template.render(
            id=todo_id, name=name, completed=completed, todos_path=todos_path, view_query=view_query, focus=focus
        )

    def list_items(items, todos_path: str, view_query: str, focus_toggle: str | None, focus_rename: str | None):
        """The ``<li>`` of every item, in order. ``focus_toggle`` / ``focus_rename``: the id (as text) of
        the item whose toggle or Rename link gets ``autofocus``."""
        focused = focus_toggle or focus_rename
        html = []
        for todo in items:
            todo_id = todo["id"]
            focus = None
            if focused is not None and str(todo_id) == focused:
                focus = "toggle" if focus_toggle else "rename"
            html.append(item(todo_id, todo["name"], bool(todo["completed"]), todos_path, view_query, focus))
        return Markup("".join(html))  # noqa: S704 - each part is _item.html's autoescaped output

    @lru_cache(maxsize=CACHED_REGIONS)
    def region(answer: bytes, status: str, after: int, view_query: str, focus_hint: str | None, root: str):
        try:
            page = orjson.loads(answer)
            list_id = page["list"]["id"]
        except (ValueError, KeyError, TypeError):
            raise UpstreamUnavailable("reader", "answered with something that is not a list page") from None
        html = render_template(
            "_list_region.html",
            page=page,
            list_id=list_id,
            list_path=url_for("web.show_list", list_id=list_id),
            status=status,
            after=after,
            view_query=view_query,
            focus=focus_targets(page, focus_hint),
        )
        return page, html

    app.extensions["todo_list_html"] = region
    app.jinja_env.globals["list_items"] = list_items


def render(answer: bytes, status: str, after: int, view_query: str, focus_hint: str | None) -> tuple[dict, str]:
    """The decoded page (shared between requests: read it, never change it) and its
    region's HTML, for the reader's ``answer`` shown in this view."""
    return current_app.extensions["todo_list_html"](answer, status, after, view_query, focus_hint, request.script_root)
