import pytest

from todo_common.validation import InvalidField, clean_completed, clean_name, clean_order, parse_whole


@pytest.mark.parametrize(("value", "expected"), [("  milk ", "milk"), ("é" * 100, "é" * 100), ("<b>", "<b>")])
def test_clean_name_trims_and_counts_characters(value, expected):
    assert clean_name(value) == expected


@pytest.mark.parametrize("value", ["", "   ", "x" * 101, "a\x00b", None, 5, ["x"]])
def test_clean_name_rejects(value):
    with pytest.raises(InvalidField):
        clean_name(value)


def test_clean_completed_takes_only_booleans():
    assert clean_completed(True) is True
    for value in ("true", 1, None):
        with pytest.raises(InvalidField):
            clean_completed(value)


def test_clean_order_bounds():
    assert clean_order(None) is None
    assert clean_order(-5) == -5
    for value in (True, 1.5, 2**31, "3"):
        with pytest.raises(InvalidField):
            clean_order(value)


@pytest.mark.parametrize("text", ["", "-1", "abc", "1.0", "\uff11", "11", " 1"])
def test_parse_whole_rejects(text):
    with pytest.raises(InvalidField, match="after must be a whole number from 0 to 10"):
        parse_whole("after", text, 0, 10)


def test_parse_whole_accepts_the_bounds():
    assert parse_whole("after", "0", 0, 10) == 0
    assert parse_whole("after", "10", 0, 10) == 10
