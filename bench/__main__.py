"""python -m bench [--smoke]: start the stack and the references, load data, run every
scenario in interleaved rounds, then print the figures and target ratios and write
result.json + plot.png under bench/results/ (git-ignored)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from . import data, profile, report, scenarios
from .harness import Config, Harness
from .load import wrk_path

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="one short round on small data: proves the harness works")
    parser.add_argument("--rounds", type=int, help="repeats of every scenario (default 3; smoke 1)")
    parser.add_argument("--duration", type=float, help="seconds per scenario (default 5; smoke 1)")
    parser.add_argument("--small-rows", type=int, default=1000, help="rows for the main rounds (default 1,000)")
    parser.add_argument("--big-rows", type=int, help="rows for the keyset check (default 1,000,000; smoke 20,000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per service and reference")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--profile", action="store_true", help="also py-spy the frontend, reader and writer under load")
    parser.add_argument("--only", help="comma-separated scenario names to run (default: all)")
    parser.add_argument("--out", type=Path, help="results folder (default bench/results/<time>)")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.smoke else 3)
    args.duration = args.duration or (1.0 if args.smoke else 5.0)
    args.big_rows = args.big_rows or (20_000 if args.smoke else 1_000_000)
    args.only = set(args.only.split(",")) if args.only else None
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_scenario(h: Harness, sc: scenarios.Scenario, ctx: scenarios.Context, phase: str, rnd: int, duration: float):
    result, usage = h.measure(lambda: sc.run(h, ctx, duration), duration=duration, watch=sc.watch)
    requests = max(result["requests"], 1)
    record = {
        "scenario": sc.name,
        "phase": phase,
        "round": rnd,
        "describe": sc.describe,
        **result,
        **usage,
        "cpu_ms_per_request": {name: round(s * 1000 / requests, 3) for name, s in usage["cpu_s"].items()},
    }
    rps = f"{result['rps']:>8.0f}/s" if result["rps"] is not None else " " * 10
    lat = result["latency_ms"]
    p50 = lat.get("p50", lat.get("mean", 0))
    p99 = f"p99 {lat['p99']:7.2f} ms" if "p99" in lat else " " * 14
    log(f"  {phase:<5} r{rnd} {sc.name:<16} {rps}  p50 {p50:7.2f} ms  {p99}  errors {result['errors']}")
    time.sleep(0.3)
    return record


def prepare(h: Harness, rows: int, workdir: Path) -> scenarios.Context:
    """Top the bench person's list up to ``rows`` rows, wait for the replica, vacuum,
    check the list's trigger-kept counts; describe the data."""
    list_id = h.person.list_id
    _, _, count = data.id_range(h.primary, list_id)
    if rows > count:
        data.load(h.primary, list_id, rows - count)
    data.vacuum(h.primary)
    lag = data.wait_for_replica(h.primary, h.replica)
    low, high, count = data.id_range(h.primary, list_id)
    counts = data.check_counts(h.primary, list_id)
    log(
        f"data: list {list_id} of {h.person.username!r} has {count:,} rows (ids {low}..{high}),"
        f" counts {counts}; replica caught up in {lag:.2f} s"
    )
    return scenarios.Context(rows=count, mid_after=data.middle_after(h.primary, list_id, count), workdir=str(workdir))


def main(argv=None) -> int:
    args = parse_args(argv)
    wrk_path()  # fail early, with the fix, if wrk is missing
    started = time.monotonic()
    out = args.out or RESULTS / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    h = Harness(Config(workers=args.workers, threads=args.threads), out / "logs")
    records, rss, profiles, same_page, person = [], {}, None, {}, None
    try:
        log(f"starting the stack and the references ({args.workers} workers x {args.threads} threads each)")
        h.start()
        # Someone else's rows, in the table before the bench person's: a page that forgot
        # whose list it shows would show these.
        data.load(h.primary, h.neighbour.list_id, args.small_rows)
        data.check_counts(h.primary, h.neighbour.list_id)
        ctx = prepare(h, args.small_rows, out)
        same_page = {"small": h.check_same_page(("", "?status=completed"))}
        _, last_id, _ = data.id_range(h.primary, h.person.list_id)
        for sc in scenarios.WARMUP:
            sc.run(h, ctx, 1)
        chosen = [sc for sc in scenarios.ROUND if args.only is None or sc.name in args.only]
        chosen_big = [sc for sc in scenarios.BIG_ROUND if args.only is None or sc.name in args.only]
        for rnd in range(1, args.rounds + 1):
            for sc in chosen:
                records.append(run_scenario(h, sc, ctx, "small", rnd, args.duration))
            removed = data.delete_after(h.primary, h.person.list_id, last_id)
            data.vacuum(h.primary)
            data.check_counts(h.primary, h.person.list_id)
            data.wait_for_replica(h.primary, h.replica)
            log(f"round {rnd} done: removed the {removed:,} rows it wrote ({time.monotonic() - started:.0f} s so far)")
        if chosen_big:
            big = prepare(h, args.big_rows, out)
            same_page["big"] = h.check_same_page(("", f"?after={big.mid_after}"))
            for sc in scenarios.WARMUP[:1]:
                sc.run(h, big, 1)
        for rnd in range(1, args.rounds + 1) if chosen_big else ():
            for sc in chosen_big:
                records.append(run_scenario(h, sc, big, "big", rnd, args.duration))
        if args.profile:
            profiles = profile.run(h, out, max(args.duration, 5))
        time.sleep(3)  # at rest after warm-up
        rss = h.rss()
        person = {"username": h.person.username, "account": h.person.account_id, "list": h.person.list_id}
    finally:
        h.stop()
    summary = report.summarize(records)
    rows = report.targets(records, rss)
    elapsed = time.monotonic() - started
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "settings": {k: str(v) for k, v in vars(args).items()},
        "machine": {"cpus": len(os.sched_getaffinity(0))},
        # Whose list every scenario used, and what the stack and both references showed
        # at the start of each phase (the same items and counts, checked).
        "person": person,
        "same_page": same_page,
        "elapsed_s": round(elapsed, 1),
        "targets": rows,
        "summary": summary,
        "rss_mb_at_rest": rss,
        "profiles": profiles,
        "records": records,
    }
    (out / "result.json").write_text(json.dumps(result, indent=2))
    title = f"Todo benchmark {result['when']} ({args.rounds} rounds x {args.duration:g} s, wrk -t2 -c16)"
    report.plot(summary, rows, out / "plot.png", title)
    if args.out is None:
        for name in ("result.json", "plot.png"):
            shutil.copy(out / name, RESULTS / f"latest-{name}")
    report.print_report(summary, rows)
    print(f"\nRSS at rest (MB): {json.dumps(rss)}")
    print(f"results: {out / 'result.json'}, plot: {out / 'plot.png'}; took {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
