"""Read-your-writes: wait until the replica has replayed a caller's write, and keep
reading when the replica cannot.

The caller sends the LSN its write committed at (``X-Min-LSN``). On the connection
that will run the read, outside any transaction, we poll the replica's replay
position with a short back-off until it reaches the LSN or the configured bound
passes; the read then runs as its own statement, so its snapshot includes the write.
The wait is always bounded: after a failover a session's LSN may never be reached.

What a wait may not do:
- hold a thread for an LSN that can never come. An LSN ahead of the primary's current
  position (a session from before a restore or a re-created database, or a made-up
  value) is recognised at once: the read waits for the primary's current position
  instead, which includes every real write, and the answer says the LSN is stale
  (``X-Min-LSN-Status: stale``) so the frontend forgets it. The primary's position
  comes from the replica itself when it has already *received* that WAL (no extra
  round trip), else from one ``pg_current_wal_lsn()`` on the fallback connection,
  remembered as a lower bound so it is asked again only for newer LSNs.
- starve other reads: at most ``LSN_MAX_CONCURRENT_WAITS`` reads of a process wait at
  once; past that a read goes to the primary at once (or a 503 without fallback).

And when the replica is unreachable, reads go to the primary (when configured) for a
short while before the replica is tried again; every read the primary serves is
counted by reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import Counter, Histogram

from todo_common import lsn as lsn_util
from todo_common.db import Database, DatabaseUnavailable

from . import store

T = TypeVar("T")
log = logging.getLogger(__name__)

LSN_WAITS = Counter(
    "todo_reader_lsn_waits_total",
    "Reads that carried a minimum LSN, by outcome: caught_up (no wait), waited, timed_out, "
    "busy (too many waits at once), stale (ahead of the primary).",
    ["outcome"],
)
LSN_WAIT_SECONDS = Histogram(
    "todo_reader_lsn_wait_seconds",
    "Time spent waiting for the replica to replay a caller's LSN.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
FALLBACK_READS = Counter(
    "todo_reader_fallback_reads_total",
    "Reads served by the primary, by reason: replica_behind (still behind after the wait), "
    "busy (too many waits at once), replica_unreachable.",
    ["reason"],
)
STALE_REFUSALS = Counter(
    "todo_reader_stale_refusals_total",
    "Reads refused with 503 because the replica was behind (or too many waited) and no fallback is configured.",
)

_FIRST_DELAY = 0.0005
_MAX_DELAY = 0.01
# After the replica failed to answer, reads go straight to the primary this long.
REPLICA_RETRY_SECONDS = 2.0

# X-Min-LSN-Status values.
STALE = "stale"


class ReplicaBehind(Exception):
    """The replica did not reach the LSN in time and there is nowhere else to read."""


class TooManyWaits(ReplicaBehind):
    """Too many reads are waiting for the replica already, and there is no fallback."""


@dataclass(frozen=True)
class Served:
    """Where a read was served, and what the caller may learn about its LSN."""

    by: str  # "replica" | "primary"
    replay_lsn: str | None = None  # the replica's replay position, when it served a read with an LSN
    lsn_status: str | None = None  # STALE: the caller's LSN is ahead of the primary: forget it

    def headers(self) -> dict[str, str]:
        headers = {"X-Served-By": self.by}
        if self.replay_lsn:
            headers["X-Replay-LSN"] = self.replay_lsn
        if self.lsn_status:
            headers["X-Min-LSN-Status"] = self.lsn_status
        return headers


def wait_for_lsn(cur, lsn: str, timeout: float) -> str | None:
    """Poll until the server behind ``cur`` has replayed ``lsn``; its replay position
    then, or None on timeout."""
    deadline = time.monotonic() + timeout
    delay = _FIRST_DELAY
    while True:
        position = store.caught_up(cur, lsn)
        if position.caught_up:
            return position.replay_lsn
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, _MAX_DELAY)


class ConsistentReader:
    """Runs reads on the replica, honouring a minimum LSN when one is given."""

    def __init__(self, replica: Database, fallback: Database | None, timeout: float, max_waits: int = 4):
        self.replica = replica
        self.fallback = fallback
        self.timeout = timeout
        self.max_waits = max_waits
        self._waits = threading.BoundedSemaphore(max_waits)
        self._replica_down_until = 0.0
        self._primary_lsn = 0  # a lower bound of the primary's position, learned as we go

    # -- the primary, when the replica cannot serve -------------------------------------
    def on_primary(self, work: Callable[..., T]) -> T:
        """Run ``work(cur)`` where the latest state is: the primary when a fallback is
        configured and reachable, else the replica (which may be a little behind)."""
        if self.fallback is not None:
            try:
                return self.fallback.run(work)
            except DatabaseUnavailable:
                pass  # the replica's view, maybe a little behind, beats no answer
        return self.replica.run(work)

    def replica_unreachable(self) -> bool:
        """True while the replica recently failed to answer (reads go to the primary)."""
        return time.monotonic() < self._replica_down_until

    def _from_primary(
        self, query: Callable[..., T], reason: str, min_lsn: str | None, status: str | None = None
    ) -> tuple[T, Served]:
        FALLBACK_READS.labels(reason).inc()
        wanted = lsn_util.parse(min_lsn) if min_lsn else 0

        def work(cur):
            # The primary serves every write; still, say when the caller's LSN is not
            # one of its writes (asked only for an LSN past what we know of it).
            if wanted > self._primary_lsn:
                self._primary_lsn = max(self._primary_lsn, lsn_util.parse(store.current_wal_lsn(cur)))
            return query(cur), STALE if wanted > self._primary_lsn else status

        try:
            result, status = self.fallback.run(work)
        except DatabaseUnavailable:
            if reason == "replica_unreachable":
                raise
            raise ReplicaBehind(min_lsn) from None
        return result, Served("primary", lsn_status=status)

    def _primary_position(self, lsn: int) -> int | None:
        """The primary's current WAL position if ``lsn`` may be ahead of it (else the
        known lower bound); None when it cannot be asked."""
        if lsn <= self._primary_lsn or self.fallback is None:
            return self._primary_lsn if lsn <= self._primary_lsn else None
        try:
            position = lsn_util.parse(self.fallback.run(store.current_wal_lsn))
        except DatabaseUnavailable:
            return None
        self._primary_lsn = max(self._primary_lsn, position)
        return position

    # -- reads -------------------------------------------------------------------------
    def read(self, query: Callable[..., T], min_lsn: str | None, *, replica_only: bool = False) -> tuple[T, Served]:
        """Run ``query(cur)`` once the replica has replayed ``min_lsn`` (or on the
        fallback if it does not in time, is busy or unreachable); return the result
        and where it was served. Raises ReplicaBehind when the replica is behind and
        there is no fallback, DatabaseUnavailable when nothing can serve.

        ``replica_only``: the caller wants to know that the replica has the write (the
        frontend confirming a cookieless client's write, whose later reads may carry
        no LSN): never the fallback; ReplicaBehind or DatabaseUnavailable instead."""
        if replica_only:
            if min_lsn is None:
                return self.replica.run(query), Served("replica")
            outcome, value, status = self.replica.run(self._waiting(query, min_lsn))
            if outcome == "served":
                return value, status
            STALE_REFUSALS.inc()
            raise (TooManyWaits if outcome == "busy" else ReplicaBehind)(min_lsn)
        if self.fallback is not None and self.replica_unreachable():
            return self._from_primary(query, "replica_unreachable", min_lsn)
        try:
            if min_lsn is None:
                return self.replica.run(query), Served("replica")
            result = self.replica.run(self._waiting(query, min_lsn))
        except DatabaseUnavailable as exc:
            if self.fallback is None:
                raise
            log.warning("replica unreachable, reading from the primary for %.0f s: %s", REPLICA_RETRY_SECONDS, exc)
            self._replica_down_until = time.monotonic() + REPLICA_RETRY_SECONDS
            return self._from_primary(query, "replica_unreachable", min_lsn)
        outcome, value, status = result
        if outcome == "served":
            return value, status
        if self.fallback is None:
            STALE_REFUSALS.inc()
            raise (TooManyWaits if outcome == "busy" else ReplicaBehind)(min_lsn)
        return self._from_primary(query, "busy" if outcome == "busy" else "replica_behind", min_lsn, status)

    def _waiting(self, query: Callable[..., T], min_lsn: str):
        """Work for the replica's pool: wait for ``min_lsn`` (bounded, capped), then read.
        Returns ("served", result, Served) or ("busy" | "timed_out", None, the LSN's status)."""

        def work(cur):
            position = store.caught_up(cur, min_lsn)
            if position.caught_up:
                LSN_WAITS.labels("caught_up").inc()
                return "served", query(cur), Served("replica", replay_lsn=position.replay_lsn)
            target, status = min_lsn, None
            wanted = lsn_util.parse(min_lsn)
            received = position.receive_lsn is not None and wanted <= lsn_util.parse(position.receive_lsn)
            if not received:
                primary = self._primary_position(wanted)
                if primary is not None and wanted > primary:
                    # Not a write of this primary: wait for what it has now instead.
                    LSN_WAITS.labels("stale").inc()
                    target, status = f"{primary >> 32:X}/{primary & 0xFFFFFFFF:X}", STALE
            if not self._waits.acquire(blocking=False):
                LSN_WAITS.labels("busy").inc()
                return "busy", None, status
            started = time.perf_counter()
            try:
                replay = wait_for_lsn(cur, target, self.timeout)
            finally:
                self._waits.release()
                LSN_WAIT_SECONDS.observe(time.perf_counter() - started)
            if replay is None:
                LSN_WAITS.labels("timed_out").inc()
                return "timed_out", None, status
            LSN_WAITS.labels("waited").inc()
            return "served", query(cur), Served("replica", replay_lsn=replay, lsn_status=status)

        return work
