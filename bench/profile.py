"""py-spy profiles of service workers under load (``python -m bench --profile``):
collapsed stacks on disk plus a short "where the CPU goes per request" summary per
service.

Every worker of a profiled service is sampled (keep-alive stickiness can leave one
worker nearly idle, so sampling one would miss most of the work), in two runs of the
same load, one per py-spy mode:

- ``gil``: the thread holding the GIL, i.e. Python code at work. Time in C with the
  GIL released (zlib, the kernel's socket copies, libpq) is not seen.
- ``running``: every thread py-spy does not find idle, GIL or not; this sees that C
  and kernel time too, but on a saturated machine also threads that could run and
  wait for a core, so it leans towards whatever follows a wait.

The service's CPU time per request over the same run (from /proc, all its processes)
is shared out by each function's share of the samples: ``self`` is time in the
function itself, ``inclusive`` with what it calls."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from .harness import Harness
from .load import run_wrk

# scenario: (services to profile, the server wrk loads, what it sends). The read path
# under the bench person's 250-item page (a returning browser's cookie), the original app
# under its own page, the writer under its create API (the bench person's service
# token), the whole stack under the add form and the page it lands on (the same browser).
PLANS = {
    "page250": (("frontend", "reader"), "frontend", "page"),
    "original_page250": (("original",), "original", "original_page"),
    "writer_api": (("writer",), "writer", "create"),
    "add_flow": (("frontend", "writer", "reader"), "frontend", "add_flow"),
}
RATE = 250  # samples per second
MODES = {"gil": ["--gil"], "running": []}


def _load(h: Harness, load: str) -> dict:
    if load == "page":
        cookie, token = h.session("frontend")
        return {"path": h.list_path, "cookie": cookie, "token": token}
    if load == "original_page":
        return {"path": "/"}
    if load == "add_flow":
        cookie, token = h.session("frontend")
        return {
            "mode": "add_flow",
            "path": h.list_path + "/todos",
            "get_path": h.list_path,
            "cookie": cookie,
            "token": token,
        }
    return {"mode": "post_json", "path": "/v1/todos", "authorization": h.service_headers()["Authorization"]}


def _frame(raw: str) -> str:
    """``func (path/to/module.py:123)`` -> ``func (module.py)``."""
    if " (" not in raw:
        return raw
    name, _, where = raw.partition(" (")
    return f"{name} ({where.split(':')[0].rsplit('/', 1)[-1]})"


PLUMBING = 0.9  # inclusive tables leave out frames in more than this share of samples


def summarize(collapsed: list[Path], cpu_ms_per_request: float | None, top: int = 15) -> dict:
    """Share of the samples in which each function appears (inclusive) and is the leaf
    (self), and those shares as milliseconds of CPU per request. The inclusive table
    leaves out the plumbing every request runs through (threads, gunicorn, Flask's
    dispatch: frames in more than 90 % of the samples)."""
    inclusive, leaf, total = Counter(), Counter(), 0
    for path in collapsed:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            count = int(count)
            frames = [_frame(f) for f in stack.split(";")]
            if any("wait_for_and_dispatch_events" in f for f in frames[-2:]) or "select" in frames[-1]:
                continue  # idle threads that py-spy still saw as running
            total += count
            for frame in set(frames):
                inclusive[frame] += count
            leaf[frames[-1]] += count
    if not total:
        return {"busy_samples": 0}

    def table(counter: Counter) -> list[dict]:
        rows = []
        kept = [(name, samples) for name, samples in counter.most_common() if samples <= PLUMBING * total]
        for name, samples in kept[:top]:
            row = {"function": name, "pct": round(100 * samples / total, 1)}
            if cpu_ms_per_request is not None:
                row["ms_per_request"] = round(cpu_ms_per_request * samples / total, 3)
            rows.append(row)
        return rows

    return {
        "busy_samples": total,
        "cpu_ms_per_request": cpu_ms_per_request,
        "self": table(leaf),
        "inclusive": table(inclusive),
    }


def _profile(py_spy: str, h: Harness, out: Path, scenario: str, mode: str, duration: float) -> dict:
    """Drive ``scenario``'s load while py-spy samples every worker of its services."""
    services, server, load = PLANS[scenario]
    groups = h.groups()
    spies: dict[str, list] = {}
    for service in services:
        for pid in groups[service].workers():
            path = out / f"profile-{scenario}-{service}-{mode}-{pid}.txt"
            command = [py_spy, "record", "--pid", str(pid), "--duration", str(int(duration)), "--rate", str(RATE)]
            command += ["--format", "raw", "--output", str(path), "--nonblocking", *MODES[mode]]
            spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            spies.setdefault(service, []).append((path, spy))
    wrk_load = _load(h, load)
    time.sleep(0.5)
    cpu_before = {service: groups[service].cpu() for service in services}
    answer = run_wrk(h.url(server), duration=duration, **wrk_load)
    results = {}
    for service, recorded in spies.items():
        cpu_ms = (groups[service].cpu() - cpu_before[service]) * 1000 / max(answer.requests, 1)
        errors = [spy.communicate(timeout=60)[1] for _, spy in recorded]
        paths = [path for path, _ in recorded if path.exists()]
        key = f"{scenario}:{service}:{mode}"
        if paths:
            results[key] = summarize(paths, round(cpu_ms, 3))
        else:
            results[key] = {"error": " ".join(e.strip()[-300:] for e in errors)}
        results[key]["requests_per_s"] = round(answer.rps, 1)
        results[key]["files"] = [str(path) for path in paths]
    return results


def run(h: Harness, out: Path, duration: float) -> dict:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        return {"error": "py-spy is not installed (tools/install-bench-tools.sh installs it)"}
    results = {}
    groups = h.groups()
    for scenario, (services, *_) in PLANS.items():
        if all(service in groups for service in services):
            for mode in MODES:
                results.update(_profile(py_spy, h, out, scenario, mode, duration))
    return results


def print_profiles(profiles: dict | None, top: int = 12) -> None:
    if not profiles or "error" in profiles:
        if profiles:
            print(f"\nprofiles: {profiles['error']}")
        return
    for key, p in profiles.items():
        if "self" not in p:
            print(f"\nprofile {key}: {p.get('error', 'no samples')}")
            continue
        print(
            f"\nprofile {key}: {p['cpu_ms_per_request']} ms CPU per request at {p['requests_per_s']} req/s"
            f" ({p['busy_samples']} samples). Top functions, self | inclusive (ms per request, share):"
        )
        for mine, whole in zip(p["self"][:top], p["inclusive"][:top], strict=False):
            left = f"{mine.get('ms_per_request', 0):6.3f} {mine['pct']:5.1f}%  {mine['function'][:52]:<52}"
            right = f"{whole.get('ms_per_request', 0):6.3f} {whole['pct']:5.1f}%  {whole['function'][:52]}"
            print(f"  {left}   {right}")
