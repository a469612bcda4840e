import pytest

from todo_common import lsn


@pytest.mark.parametrize(
    ("text", "value"), [("0/0", 0), ("0/16B3748", 0x16B3748), ("1/0", 1 << 32), ("ff/FF", (255 << 32) | 255)]
)
def test_parse(text, value):
    assert lsn.parse(text) == value
    assert lsn.is_valid(text)


@pytest.mark.parametrize("text", ["", "0", "0/", "/1", "g/1", "1/2/3", "123456789/0", " 0 / 1", None, 5])
def test_parse_rejects(text):
    assert not lsn.is_valid(text)


def test_highest_compares_positions_not_strings():
    # As strings "0/A" > "0/10"; as positions 0x10 > 0xA.
    assert lsn.highest("0/A", "0/10") == "0/10"
    assert lsn.highest("0/FFFFFFFF", "1/0") == "1/0"
    assert lsn.highest(None, "bad", "0/5") == "0/5"
    assert lsn.highest(None, "bad") is None
