"""Read-your-writes from the browser's side: the session remembers the highest WAL
position of the user's own writes, and every read passes it to the reader."""

from __future__ import annotations

import threading

from flask import session

from todo_common import lsn as lsn_util

_SESSION_KEY = "lsn"


def remember_write(lsn: str | None) -> None:
    """Keep the furthest LSN; the session cookie carries it to whichever pod serves next."""
    if lsn and lsn_util.is_valid(lsn):
        highest = lsn_util.highest(session.get(_SESSION_KEY), lsn)
        if highest != session.get(_SESSION_KEY):
            session[_SESSION_KEY] = highest


def session_lsn() -> str | None:
    value = session.get(_SESSION_KEY)
    return value if isinstance(value, str) and lsn_util.is_valid(value) else None


class ProcessHighWater:
    """The highest LSN of writes made through this process's public API.

    Todo-Backend clients send no cookies, so they have no session to carry their
    LSN; reads through the API wait for this instead (on top of each write being
    acknowledged only once the reader has it).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._lsn: str | None = None

    def advance(self, lsn: str | None) -> None:
        if lsn and lsn_util.is_valid(lsn):
            with self._lock:
                self._lsn = lsn_util.highest(self._lsn, lsn)

    @property
    def lsn(self) -> str | None:
        return self._lsn
