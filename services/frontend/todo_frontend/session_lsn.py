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


def feedback(sent: str, replay_lsn: str | None, stale: bool) -> None:
    """What the reader said about the LSN this request sent: forget the session's LSN
    once it is of no use - the replica has replayed past it (later reads need not
    wait), or it is ahead of the primary (a session from before a restore or a
    re-created database: it would cost every page a wait)."""
    kept = current()
    if kept is None:
        return
    if (stale and lsn_util.parse(kept) >= lsn_util.parse(sent)) or (
        replay_lsn and lsn_util.is_valid(replay_lsn) and lsn_util.parse(replay_lsn) >= lsn_util.parse(kept)
    ):
        session.pop(_SESSION_KEY, None)
