"""A retried create with the same Idempotency-Key makes one item, never two."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from ..helpers import Person, row_count


@pytest.fixture(scope="module")
def person(stack) -> Person:
    return Person(stack)


def _create(person: Person, name: str, key: str, **fields):
    return person.writer("POST", "/v1/todos", json={"name": name, **fields}, headers={"Idempotency-Key": key})


def test_same_key_twice_makes_one_item(person, primary):
    name, key = f"idem {uuid.uuid4()}", str(uuid.uuid4())
    first, second = _create(person, name, key), _create(person, name, key)
    assert first.status_code == second.status_code == 201
    assert first.json()["todo"] == second.json()["todo"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert row_count(primary, "name = %s", (name,)) == 1


def test_same_key_at_the_same_time_makes_one_item(person, primary):
    name, key = f"idem race {uuid.uuid4()}", str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _create(person, name, key), range(8)))
    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.json()["todo"]["id"] for answer in answers}) == 1
    assert row_count(primary, "name = %s", (name,)) == 1


def test_same_key_with_another_body_is_refused(person, primary):
    key = str(uuid.uuid4())
    assert _create(person, f"idem a {key}", key).status_code == 201
    reused = _create(person, f"idem b {key}", key)
    assert reused.status_code == 422
    assert "different request" in reused.json()["error"]
    assert row_count(primary, "name = %s", (f"idem b {key}",)) == 0


def test_a_bad_key_is_refused(person):
    response = _create(person, "bad key", "x" * 300)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]


def test_keys_are_per_account(stack, person, primary):
    """Two people may pick the same key: each gets their own item."""
    key, other = str(uuid.uuid4()), Person(stack)
    mine, theirs = _create(person, f"idem mine {key}", key), _create(other, f"idem theirs {key}", key)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["todo"]["id"] != theirs.json()["todo"]["id"]
    assert "Idempotent-Replayed" not in theirs.headers
    assert row_count(primary, "name = %s", (f"idem theirs {key}",)) == 1
