"""Read-your-writes: wait until the replica has replayed a caller's write.

The caller sends the LSN its write committed at (``X-Min-LSN``). On the connection
that will run the read, outside any transaction, we poll the replica's replay
position with a short back-off until it reaches the LSN or the configured bound
passes; the read then runs as its own statement, so its snapshot includes the write.
The wait is always bounded: after a failover a session's LSN may never be reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from prometheus_client import Counter, Histogram

from todo_common.db import Database, DatabaseUnavailable

from . import store

T = TypeVar("T")

LSN_WAITS = Counter(
    "todo_reader_lsn_waits_total",
    "Reads that carried a minimum LSN, by outcome: caught_up (no wait), waited, timed_out.",
    ["outcome"],
)
LSN_WAIT_SECONDS = Histogram(
    "todo_reader_lsn_wait_seconds",
    "Time spent waiting for the replica to replay a caller's LSN.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
FALLBACK_READS = Counter(
    "todo_reader_fallback_reads_total",
    "Reads served by the primary because the replica was still behind after the wait.",
)
STALE_REFUSALS = Counter(
    "todo_reader_stale_refusals_total",
    "Reads refused with 503 because the replica was behind and no fallback is configured.",
)

_FIRST_DELAY = 0.0005
_MAX_DELAY = 0.01


class ReplicaBehind(Exception):
    """The replica did not reach the LSN in time and there is nowhere else to read."""


def wait_for_lsn(cur, lsn: str, timeout: float) -> bool:
    """Poll until the server behind ``cur`` has replayed ``lsn``; False on timeout."""
    deadline = time.monotonic() + timeout
    delay = _FIRST_DELAY
    while True:
        if store.caught_up(cur, lsn):
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, _MAX_DELAY)


class ConsistentReader:
    """Runs reads on the replica, honouring a minimum LSN when one is given."""

    def __init__(self, replica: Database, fallback: Database | None, timeout: float):
        self.replica = replica
        self.fallback = fallback
        self.timeout = timeout

    def on_primary(self, work: Callable[..., T]) -> T:
        """Run ``work(cur)`` where the latest state is: the primary when a fallback is
        configured and reachable, else the replica (which may be a little behind)."""
        if self.fallback is not None:
            try:
                return self.fallback.run(work)
            except DatabaseUnavailable:
                pass  # the replica's view, maybe a little behind, beats no answer
        return self.replica.run(work)

    def read(self, query: Callable[..., T], min_lsn: str | None) -> tuple[T, str]:
        """Run ``query(cur)`` once the replica has replayed ``min_lsn`` (or on the
        fallback if it does not in time); return (result, "replica" | "primary").
        Raises ReplicaBehind when it does not and there is no fallback."""
        if min_lsn is None:
            return self.replica.run(query), "replica"

        def wait_then_query(cur):
            started = time.perf_counter()
            caught_up = wait_for_lsn(cur, min_lsn, self.timeout)
            waited = time.perf_counter() - started
            LSN_WAIT_SECONDS.observe(waited)
            if not caught_up:
                LSN_WAITS.labels("timed_out").inc()
                return None, False
            LSN_WAITS.labels("waited" if waited > _FIRST_DELAY else "caught_up").inc()
            return query(cur), True

        result, caught_up = self.replica.run(wait_then_query)
        if caught_up:
            return result, "replica"
        if self.fallback is None:
            STALE_REFUSALS.inc()
            raise ReplicaBehind(min_lsn)
        FALLBACK_READS.inc()
        try:
            return self.fallback.run(query), "primary"
        except DatabaseUnavailable:
            raise ReplicaBehind(min_lsn) from None
