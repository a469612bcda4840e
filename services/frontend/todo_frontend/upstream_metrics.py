"""Metrics of the frontend's calls to the reader and the writer: how many, how long,
how they ended, and how often a read was retried on a fresh connection.

Labels are fixed sets: the upstream (reader, writer), the method (from our own code)
and the outcome: ``ok`` (2xx/3xx), ``rejected`` (4xx: the caller's fault, such as a
wrong password), ``error`` (5xx or unreachable), ``timeout``.
"""

from __future__ import annotations

import time
from functools import wraps

import urllib3
from prometheus_client import Counter, Histogram

from todo_common.metrics import method_label

CALLS = Counter(
    "todo_frontend_upstream_requests_total",
    "Calls from the frontend to the reader and the writer, by outcome: ok, rejected (4xx), error, timeout.",
    ["upstream", "method", "outcome"],
)
CALL_SECONDS = Histogram(
    "todo_frontend_upstream_request_duration_seconds",
    "Time of a call from the frontend to the reader or the writer, retries included.",
    ["upstream", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
RETRIES = Counter(
    "todo_frontend_upstream_retries_total",
    "Reads sent again after a dropped keep-alive connection or a failed connect.",
    ["upstream"],
)
for _upstream in ("reader", "writer"):  # the names upstream.init_app gives; shown at 0 before any retry
    RETRIES.labels(_upstream)


def _outcome(exc: BaseException | None, status: int | None) -> str:
    from .upstream import UpstreamRejected, UpstreamUnavailable

    if isinstance(exc, UpstreamUnavailable):
        return "timeout" if exc.status == 504 else "error"
    if isinstance(exc, UpstreamRejected):
        return "rejected"
    if exc is not None:
        return "error"
    return "ok" if status is not None and status < 400 else "rejected"


def observed(request):
    """Decorates ``Upstream.request`` (a method of an object with a ``name``)."""

    @wraps(request)
    def wrapper(self, method: str, path: str, **kwargs):
        started = time.perf_counter()
        method = method.upper()
        try:
            answer = request(self, method, path, **kwargs)
        except BaseException as exc:
            CALLS.labels(self.name, method_label(method), _outcome(exc, None)).inc()
            raise
        finally:
            CALL_SECONDS.labels(self.name, method_label(method)).observe(time.perf_counter() - started)
        CALLS.labels(self.name, method_label(method), _outcome(None, answer.status)).inc()
        return answer

    return wrapper


class CountingRetry(urllib3.Retry):
    """urllib3's Retry that counts each retry under the pool's upstream name
    (``todo_upstream``, set on the pool by ``Upstream``)."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        RETRIES.labels(getattr(_pool, "todo_upstream", "unknown")).inc()
        return new
