"""Where the list page puts the focus after a change (list_html.focus_targets): the
control used, or the neighbour of an item that has left the view."""

from __future__ import annotations

import pytest

from todo_frontend.list_html import focus_hint, focus_targets


def _page(ids: list[int], *, all_: int | None = None, completed: int = 0) -> dict:
    total = len(ids) if all_ is None else all_
    return {
        "items": [{"id": i} for i in ids],
        "counts": {"all": total, "active": total - completed, "completed": completed},
    }


@pytest.mark.parametrize(
    ("ids", "hint", "expected"),
    [
        pytest.param([3, 5, 9], "item-5", {"toggle": "5"}, id="still shown: its toggle"),
        pytest.param([3, 5, 9], "rename-5", {"rename": "5"}, id="renamed: its Rename link"),
        pytest.param([3, 9], "item-5", {"toggle": "9"}, id="gone: the next item"),
        pytest.param([3, 9], "rename-5", {"toggle": "9"}, id="renamed to nothing: the next item"),
        pytest.param([3, 4], "item-5", {"toggle": "4"}, id="the last one gone: the one before"),
    ],
)
def test_item_hints(ids, hint, expected):
    assert focus_targets(_page(ids), hint) == expected


def test_an_emptied_view_focuses_its_filter_or_the_add_field():
    assert focus_targets(_page([], all_=2), "item-5") == {"control": "filter"}
    assert focus_targets(_page([], all_=0), "item-5") == {"control": "add"}


def test_list_controls():
    assert focus_targets(_page([1, 2], completed=1), "mark-all") == {"control": "mark-all"}
    assert focus_targets(_page([1, 2], completed=1), "clear-completed") == {"control": "clear-completed"}
    # Cleared: the button is gone; the filters are where it was.
    assert focus_targets(_page([1, 2]), "clear-completed") == {"control": "filter"}
    assert focus_targets(_page([], all_=0), "clear-completed") == {"control": "add"}
    assert focus_targets(_page([], all_=0), "mark-all") == {"control": "add"}


@pytest.mark.parametrize("value", [None, "", "item-", "item-0", "item-5x", "toggle-5", "item-5#x", "mark-all "])
def test_anything_else_is_no_hint(value):
    assert focus_hint(value) is None
    assert focus_targets(_page([1]), focus_hint(value)) == {"control": "add"}


def test_no_page_no_hint():
    assert focus_targets(None, "item-1") == {"control": "add"}
