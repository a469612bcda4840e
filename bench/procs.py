"""What the processes under test use, read from /proc: CPU time, resident memory,
and which TCP connections each process holds (to find keep-alive stickiness and
connection-pool churn). Linux only, no dependencies."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces; it ends at the last ')'.
    return text[text.rindex(")") + 2 :].split()


def children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields and int(fields[1]) == pid:
                kids.append(int(entry))
    return sorted(kids)


def cpu_seconds(pid: int, *, with_reaped_children: bool = False) -> float:
    """utime + stime of one process (and of its already-exited children if asked)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Group:
    """A gunicorn master and its workers, or a postmaster and its backends."""

    name: str
    master: int

    def workers(self) -> list[int]:
        return children(self.master)

    def cpu(self) -> float:
        # Reaped children (exited PostgreSQL backends, recycled workers) count too.
        return cpu_seconds(self.master, with_reaped_children=True) + sum(cpu_seconds(p) for p in self.workers())

    def worker_cpu(self) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pid in self.workers()}

    def rss(self) -> dict[str, float]:
        out = {f"master {self.master}": round(rss_mb(self.master), 1)}
        out.update({f"worker {pid}": round(rss_mb(pid), 1) for pid in self.workers()})
        return out


def postmaster_pid(data_dir: Path) -> int:
    return int((Path(data_dir) / "postmaster.pid").read_text().split()[0])


def _tcp_table() -> dict[int, tuple[int, int]]:
    """socket inode -> (local port, remote port) of established IPv4 connections."""
    table = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[3] != "01":  # ESTABLISHED
            continue
        local_port = int(parts[1].split(":")[1], 16)
        remote_port = int(parts[2].split(":")[1], 16)
        table[int(parts[9])] = (local_port, remote_port)
    return table


def socket_inodes(pid: int) -> list[int]:
    inodes = []
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.append(int(target[8:-1]))
    return inodes


def connections(pids: list[int], ports: dict[str, int]) -> dict[int, dict[str, int]]:
    """For each pid: how many established connections it holds, inbound on each named
    port ("in:frontend") and outbound to each named port ("to:replica")."""
    table = _tcp_table()
    by_port = {port: name for name, port in ports.items()}
    result = {}
    for pid in pids:
        counts: dict[str, int] = {}
        for inode in socket_inodes(pid):
            if inode not in table:
                continue
            local, remote = table[inode]
            if local in by_port:
                key = f"in:{by_port[local]}"
            elif remote in by_port:
                key = f"to:{by_port[remote]}"
            else:
                continue
            counts[key] = counts.get(key, 0) + 1
        result[pid] = counts
    return result
