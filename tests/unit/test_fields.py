"""The payload -> checked fields helper the writer's API and the public API share."""

import pytest

from todo_common.errors import ApiError
from todo_common.fields import checked

WRITER = {"name": "name", "completed": "completed", "order": "order"}
PUBLIC = {"title": "name", "completed": "completed", "order": "order"}


def _refused(data, names, **kwargs) -> str:
    with pytest.raises(ApiError) as raised:
        checked(data, names, **kwargs)
    assert raised.value.status == 422
    return raised.value.message


def test_fields_come_back_cleaned_under_the_writers_names():
    assert checked({"name": " milk ", "order": 2}, WRITER) == {"name": "milk", "order": 2}
    assert checked({"title": "milk", "completed": True}, PUBLIC) == {"name": "milk", "completed": True}
    assert checked({}, WRITER) == {}


def test_ignored_names_are_accepted_and_dropped():
    data = {"title": "milk", "id": 3, "url": "http://x/api/todos/3"}
    assert checked(data, PUBLIC, ignored=("id", "url")) == {"name": "milk"}


def test_an_unknown_name_is_refused_with_the_allowed_ones():
    message = _refused({"name": "milk", "colour": "red", "age": 3}, WRITER)
    assert message == "unknown field(s): age, colour; allowed: completed, name, order"
    assert "unknown field(s): name" in _refused({"name": "milk"}, PUBLIC)


def test_a_required_name_must_be_there():
    assert _refused({"completed": True}, PUBLIC, required=("title",)) == "title is required"
    assert _refused({}, WRITER, required=("name",)) == "name is required"


@pytest.mark.parametrize(
    ("data", "words"),
    [({"title": ""}, "empty"), ({"title": "x" * 101}, "101 characters"), ({"completed": "yes"}, "true or false")],
)
def test_a_value_that_breaks_its_rule_is_refused(data, words):
    assert words in _refused(data, PUBLIC)
