"""Read-your-writes from the browser's side: the session remembers the highest WAL
position of the user's own writes, and every read passes it to the reader."""

from __future__ import annotations

from flask import session

from todo_common import lsn as lsn_util

_SESSION_KEY = "lsn"


def remember(lsn: str | None) -> None:
    """Keep the furthest LSN; the session cookie carries it to whichever pod serves next."""
    if lsn and lsn_util.is_valid(lsn):
        highest = lsn_util.highest(session.get(_SESSION_KEY), lsn)
        if highest != session.get(_SESSION_KEY):
            session[_SESSION_KEY] = highest


def current() -> str | None:
    """The LSN a read for this session must wait for, if it has written anything."""
    value = session.get(_SESSION_KEY)
    return value if isinstance(value, str) and lsn_util.is_valid(value) else None
