"""Read-your-writes from the browser's side: the session remembers the highest WAL
position of the user's own writes, and every read passes it to the reader."""

from __future__ import annotations

import time

from flask import current_app, session

from todo_common import lsn as lsn_util

_SESSION_KEY = "lsn"
_WRITTEN_AT = "lsn_at"  # when the LSN was last raised (epoch seconds)


def remember(lsn: str | None) -> None:
    """Keep the furthest LSN; the session cookie carries it to whichever pod serves next."""
    if lsn and lsn_util.is_valid(lsn):
        highest = lsn_util.highest(session.get(_SESSION_KEY), lsn)
        if highest != session.get(_SESSION_KEY):
            session[_SESSION_KEY] = highest
            session[_WRITTEN_AT] = int(time.time())


def current() -> str | None:
    """The LSN a read for this session must wait for, if it has written anything."""
    value = session.get(_SESSION_KEY)
    return value if isinstance(value, str) and lsn_util.is_valid(value) else None


def forgettable(kept: str, written_at, sent: str, replay_lsn: str | None, stale: bool, keep_seconds: float) -> bool:
    """Whether an LSN kept for read-your-writes is of no more use: it is ahead of the
    primary (``stale``: a session from before a restore or a re-created database, which
    would cost every read a wait), or the replica has replayed past it and it is older
    than ``keep_seconds`` (a replica that crashes may show an older state for a moment
    after its restart; a recent write keeps its LSN through that)."""
    if stale and lsn_util.parse(kept) >= lsn_util.parse(sent):
        return True
    replayed = bool(replay_lsn and lsn_util.is_valid(replay_lsn) and lsn_util.parse(replay_lsn) >= lsn_util.parse(kept))
    age = time.time() - written_at if isinstance(written_at, int | float) else float("inf")
    return replayed and age >= keep_seconds


def feedback(sent: str, replay_lsn: str | None, stale: bool) -> None:
    """What the reader said about the LSN this request sent: forget the session's LSN
    when it is of no more use (see ``forgettable``), so returning visitors stop
    paying the wait check."""
    kept = current()
    keep_seconds = current_app.extensions["todo_settings"].lsn_keep_seconds
    if kept is not None and forgettable(kept, session.get(_WRITTEN_AT), sent, replay_lsn, stale, keep_seconds):
        session.pop(_SESSION_KEY, None)
        session.pop(_WRITTEN_AT, None)
