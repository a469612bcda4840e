"""Which gunicorn worker served how many requests: keep-alive stickiness, measured.

wrk opens its connections once and keeps them; each connection is accepted by one
worker and stays there, so the split of connections between a service's workers
decides how the load is split. While a scenario runs, ``Sampler`` asks the kernel
(``ss -tie``) every half second for every established connection *into* the watched
services' ports: its socket inode (which tells the worker holding it, from
/proc/<pid>/fd) and ``data_segs_in``, the data segments it has received. A client
that waits for each answer before it sends the next request (wrk, the frontend's
pool, without pipelining) sends one request per segment on loopback, so
``data_segs_in`` is the number of requests that connection carried. The last sample
is up to half a second before the load ends, so the counts are a little short;
shares are what matter, and ``requests`` are scaled to wrk's total by the caller.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading

from . import procs

_LINE = re.compile(r"^\S+\s+\S+\s+\S+:(\d+)\s+\S+:(\d+)\s.*\bino:(\d+)")
_SEGS_IN = re.compile(r"\bdata_segs_in:(\d+)")


def _snapshot(ports: set[int]) -> dict[int, tuple[int, int]]:
    """socket inode -> (local port, data segments received) of established connections
    whose local port is one of ``ports``."""
    ss = shutil.which("ss")
    if ss is None or not ports:
        return {}
    proc = subprocess.run(
        [ss, "-tinHe", "state", "established"], capture_output=True, text=True, timeout=10, check=False
    )
    result, current = {}, None
    for line in proc.stdout.splitlines():
        match = _LINE.match(line) if not line.startswith((" ", "\t")) else None
        if match:
            port, inode = int(match.group(1)), int(match.group(3))
            current = inode if port in ports and inode else None
            if current is not None:
                result[current] = (port, 0)
            continue
        segs = _SEGS_IN.search(line)
        if current is not None and segs:
            result[current] = (result[current][0], int(segs.group(1)))
            current = None
    return result


class Sampler:
    """Samples, in a thread, the inbound connections of ``groups`` ({name: (gunicorn
    Group, port)}); ``stop()`` returns {name: {worker pid: {"connections", "requests"}}}."""

    def __init__(self, groups: dict[str, tuple[procs.Group, int]], interval: float = 0.5):
        self.groups = groups
        self.interval = interval
        self._stop = threading.Event()
        self._seen: dict[int, tuple[str, int, int]] = {}  # inode -> (group, worker pid, requests)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def _sample(self) -> None:
        by_port = {port: name for name, (_, port) in self.groups.items()}
        sockets = _snapshot(set(by_port))
        if not sockets:
            return
        owner = {}
        for name, (group, _) in self.groups.items():
            for pid in group.workers():
                for inode in procs.socket_inodes(pid):
                    owner[inode] = (name, pid)
        for inode, (port, segments) in sockets.items():
            if inode in owner and owner[inode][0] == by_port[port]:
                name, pid = owner[inode]
                self._seen[inode] = (name, pid, max(segments, self._seen.get(inode, ("", 0, 0))[2]))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def stop(self) -> dict[str, dict[str, dict[str, int]]]:
        self._stop.set()
        self._thread.join()
        out: dict[str, dict[str, dict[str, int]]] = {}
        for name, (group, _) in self.groups.items():
            out[name] = {str(pid): {"connections": 0, "requests": 0} for pid in group.workers()}
        for name, pid, requests in self._seen.values():
            worker = out[name].setdefault(str(pid), {"connections": 0, "requests": 0})
            worker["connections"] += 1
            worker["requests"] += requests
        return out


def shares(workers: dict[str, dict[str, int]]) -> list[float]:
    """Each worker's share of the requests seen, largest first."""
    total = sum(w["requests"] for w in workers.values())
    if not total:
        return []
    return sorted((w["requests"] / total for w in workers.values()), reverse=True)
