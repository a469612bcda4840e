"""The chaos run's judge can say no: answers are classed as the API documents them,
and a read that misses a person's own confirmed change is a violation."""

from __future__ import annotations

import time

import pytest

from devlocal.chaos import History, Item, Person, acknowledged, classify


class FakeAnswer:
    def __init__(self, headers: dict):
        self.headers = headers


@pytest.mark.parametrize(
    ("method", "status", "outcome"),
    [
        ("POST", 201, "ok"),
        ("POST", 303, "ok"),
        ("POST", 422, "failed"),
        ("POST", 503, "failed"),  # nothing was changed
        ("POST", 502, "unknown"),
        ("PATCH", 504, "unknown"),
        ("DELETE", 0, "unknown"),  # the connection dropped: it may have been applied
        ("GET", 0, "failed"),
        ("GET", 504, "failed"),
    ],
)
def test_answers_are_classed_as_documented(method, status, outcome):
    assert classify(method, status) == outcome


def _person() -> Person:
    return Person(0, "http://127.0.0.1:9", History(time.monotonic()), time.monotonic(), seed=1)


def test_a_read_missing_a_confirmed_change_is_a_violation():
    person = _person()
    person.items["p0-1."] = Item(key="p0-1.", name="p0-1.", id=7)
    person.items["p0-2."] = Item(key="p0-2.", name="p0-2.r1", id=8, completed=True)
    person._check_read({8: ("p0-2.", True)}, "page")  # 7 missing, 8 not renamed
    assert [v.kind for v in person.violations] == ["read-your-writes", "read-your-writes"]


def test_unconfirmed_or_unknown_changes_are_not_held_against_a_read():
    person = _person()
    unconfirmed = Item(key="p0-1.", name="p0-1.", id=7)
    acknowledged(unconfirmed, "api", FakeAnswer({"X-Read-Your-Writes": "unconfirmed"}))
    person.items["p0-1."] = unconfirmed
    person.items["p0-2."] = Item(key="p0-2.", name="p0-2.", id=8, exists="maybe")
    person.items["p0-3."] = Item(key="p0-3.", name="p0-3.r1", id=9, unsure={"name"})
    person._check_read({9: ("p0-3.", False)}, "api")
    assert person.violations == []


def test_a_page_change_is_promised_to_the_next_page_not_at_once_to_the_api():
    person = _person()
    item = Item(key="p0-1.", name="p0-1.r1", id=7)
    acknowledged(item, "page", FakeAnswer({}))
    person.items["p0-1."] = item
    person._check_read({7: ("p0-1.", False)}, "api")
    assert person.violations == []
    person._check_read({7: ("p0-1.", False)}, "page")
    assert [v.kind for v in person.violations] == ["read-your-writes"]


def test_a_deleted_item_shown_again_is_a_violation():
    person = _person()
    person.items["p0-1."] = Item(key="p0-1.", name="p0-1.", id=7, exists="no")
    person._check_read({7: ("p0-1.", False)}, "api")
    assert [v.kind for v in person.violations] == ["read-your-writes"]
