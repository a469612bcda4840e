"""PostgreSQL WAL positions (LSNs) as they travel between services.

PostgreSQL prints an LSN as two hex numbers ``X/Y`` (high and low 32 bits). Compared
as strings they sort wrong ("0/A" > "0/10"), so in Python they become integers and in
SQL they are cast to ``pg_lsn``.
"""

from __future__ import annotations

import re

_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")

# Header the writer answers with and the reader accepts.
COMMIT_LSN_HEADER = "X-Commit-LSN"
MIN_LSN_HEADER = "X-Min-LSN"


def parse(text: str) -> int:
    """``"16/B374D848"`` -> integer position; ValueError if malformed."""
    match = _LSN.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not a PostgreSQL LSN (expected hex 'X/Y'): {text!r}")
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def is_valid(text: str | None) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def highest(*lsns: str | None) -> str | None:
    """The furthest of the given LSNs, ignoring None and malformed ones."""
    valid = [value for value in lsns if value is not None and is_valid(value)]
    if not valid:
        return None
    return max(valid, key=parse)
