"""Read-your-writes cost: a client writes through the writer, then at once reads the
list through the reader - alternately with its LSN (X-Min-LSN, so the reader waits
until the replica has replayed the write) and without. The difference between the
two read latencies is what read-your-writes adds; the reader's own counters say how
many reads fell back to the primary or were refused.

This measures latency, not throughput, so a sequential Python client is fine: both
arms pay the same client overhead. On a busy shared machine the difference of two
client-side p99s is mostly scheduling noise, so the reader's own histogram of its
LSN waits (what read-your-writes adds, extra query included) is reported too and is
what the target is judged on."""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.request
from urllib.parse import urlsplit

COUNTERS = re.compile(
    r"^(todo_reader_fallback_reads_total|todo_reader_stale_refusals_total|todo_reader_lsn_waits_total)"
    r"(\{[^}]*\})?\s+([0-9.e+]+)$",
    re.M,
)


WAIT_BUCKETS = re.compile(r'^todo_reader_lsn_wait_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\}\s+([0-9.e+]+)$', re.M)


def reader_counters(metrics_url: str) -> dict[str, float]:
    """The reader's read-your-writes counters and its LSN-wait histogram buckets
    (``metrics_url``: the reader's metrics port, not its API port)."""
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        text = response.read().decode()
    counts: dict[str, float] = {}
    for name, labels, value in COUNTERS.findall(text):
        key = name + (labels or "")
        counts[key] = counts.get(key, 0.0) + float(value)
    for bound, value in WAIT_BUCKETS.findall(text):
        key = f"wait_le_{bound}"
        counts[key] = counts.get(key, 0.0) + float(value)
    return counts


def wait_p99_ms(delta: dict[str, float]) -> float | None:
    """Upper bound of the histogram bucket holding the 99th percentile of the reader's
    own LSN waits (the wait includes the extra caught-up query)."""
    buckets = sorted((float(k[8:]), v) for k, v in delta.items() if k.startswith("wait_le_"))
    if not buckets:
        return None  # the histogram could not be read
    if buckets[-1][1] <= 0:
        return 0.0  # no read had to wait: the replica had each write already
    total = buckets[-1][1]
    for bound, cumulative in buckets:
        if cumulative >= 0.99 * total:
            return bound * 1000
    return None


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def run(
    writer_url: str,
    reader_url: str,
    *,
    headers: dict[str, str],
    list_id: int,
    duration: float,
    reader_metrics_url: str,
    max_pairs: int = 5000,
    limit: int = 250,
) -> dict:
    """``headers``: the service token of the person who writes and reads (their list)."""
    writer = http.client.HTTPConnection(urlsplit(writer_url).netloc, timeout=10)
    reader = http.client.HTTPConnection(urlsplit(reader_url).netloc, timeout=10)
    before = reader_counters(reader_metrics_url)
    with_lsn, without_lsn, served_by_primary, errors = [], [], 0, 0
    deadline = time.monotonic() + duration
    pairs = 0
    while time.monotonic() < deadline and pairs < max_pairs:
        body = json.dumps({"name": f"ryw {pairs}", "list": list_id})
        writer.request("POST", "/v1/todos", body=body, headers={**headers, "Content-Type": "application/json"})
        answer = writer.getresponse()
        answer.read()
        lsn = answer.getheader("X-Commit-LSN")
        if answer.status != 201 or lsn is None:
            raise RuntimeError(f"the writer answered {answer.status} (LSN {lsn}) to a create")
        use_lsn = pairs % 2 == 0
        read_headers = {**headers, "X-Min-LSN": lsn} if use_lsn else headers
        started = time.perf_counter()
        reader.request("GET", f"/v1/todos?list={list_id}&limit={limit}", headers=read_headers)
        response = reader.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            errors += 1
        if response.getheader("X-Served-By") == "primary":
            served_by_primary += 1
        (with_lsn if use_lsn else without_lsn).append(elapsed)
        pairs += 1
    writer.close()
    reader.close()
    after = reader_counters(reader_metrics_url)
    delta = {key: after.get(key, 0.0) - before.get(key, 0.0) for key in after}
    # The fallback counter has a reason label: add up every reason.
    fallbacks = sum(
        value
        for key, value in delta.items()
        if key.startswith(("todo_reader_fallback_reads_total", "todo_reader_stale_refusals_total"))
    )
    result = {"pairs": pairs, "errors": errors, "served_by_primary": served_by_primary, "fallbacks": int(fallbacks)}
    for arm, values in (("with_lsn", with_lsn), ("without_lsn", without_lsn)):
        result[arm] = {f"p{p}": round(_percentile(values, p), 3) for p in (50, 90, 99)}
    result["added_p50_ms"] = round(result["with_lsn"]["p50"] - result["without_lsn"]["p50"], 3)
    result["added_p99_ms"] = round(result["with_lsn"]["p99"] - result["without_lsn"]["p99"], 3)
    result["lsn_waits"] = {k: int(v) for k, v in delta.items() if k.startswith("todo_reader_lsn_waits_total")}
    result["server_wait_p99_ms_at_most"] = wait_p99_ms(delta)
    return result
