"""python -m bench [--smoke]: start the stack and the original app as shipped, load data,
run every scenario in interleaved rounds, then print the figures and target ratios and
write result.json + plot.png under bench/results/ (git-ignored)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from . import data, profile, report, scenarios, spread
from .harness import HTTP_SERVERS, Config, Harness
from .load import wrk_path

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="one short round on small data: proves the harness works")
    parser.add_argument("--rounds", type=int, help="repeats of every scenario (default 5; smoke 1)")
    parser.add_argument("--duration", type=float, help="seconds per scenario (default 5; smoke 1)")
    parser.add_argument("--small-rows", type=int, default=1000, help="rows in the bench person's list (default 1,000)")
    parser.add_argument(
        "--big-rows",
        type=int,
        help="rows in the neighbour's list, for the keyset check (default 1,000,000; smoke 20,000)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per service and reference")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument(
        "--profile", action="store_true", help="also py-spy the frontend, reader, writer and original under load"
    )
    parser.add_argument(
        "--only",
        help="comma-separated scenario names to run (default: the round; also lean_page250, orm_page250,"
        " page10, lean_page10, orm_page10, add_post, original_add_post, lean_add_post, orm_add_post, hello)",
    )
    parser.add_argument("--out", type=Path, help="results folder (default bench/results/<time>)")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.smoke else 5)
    args.duration = args.duration or (1.0 if args.smoke else 5.0)
    args.big_rows = args.big_rows or (20_000 if args.smoke else 1_000_000)
    args.only = set(args.only.split(",")) if args.only else None
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_scenario(h: Harness, sc: scenarios.Scenario, ctx: scenarios.Context, rnd: int, duration: float):
    result, usage = h.measure(lambda: sc.run(h, ctx, duration), duration=duration, watch=sc.watch)
    requests = max(result["requests"], 1)
    record = {
        "scenario": sc.name,
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
    served = next((usage["served"][name] for name in sc.watch if name in HTTP_SERVERS), {})
    shares = spread.shares(served)
    split = "workers " + "/".join(f"{100 * share:.0f}" for share in shares) + " %" if shares else ""
    log(f"  r{rnd} {sc.name:<21} {rps}  p50 {p50:7.2f} ms  {p99}  errors {result['errors']}  {split}")
    time.sleep(0.3)
    return record


def prepare(h: Harness, small_rows: int, big_rows: int, workdir: Path) -> scenarios.Context:
    """Load the neighbour's big list first (its rows come first in the table: a page that
    forgot whose list it shows would show them), then the bench person's; vacuum, wait
    for the replica, check both lists' trigger-kept counts; describe the data."""
    started = time.monotonic()
    described = {}
    for person, rows in ((h.neighbour, big_rows), (h.person, small_rows)):
        data.load(h.primary, person.list_id, rows)
        data.check_counts(h.primary, person.list_id)
    data.vacuum(h.primary)
    lag = data.wait_for_replica(h.primary, h.replica)
    for person in (h.neighbour, h.person):
        low, high, count = data.id_range(h.primary, person.list_id)
        counts = data.check_counts(h.primary, person.list_id)
        described[person.username] = (count, data.middle_after(h.primary, person.list_id, count))
        log(f"data: list {person.list_id} of {person.username!r}: {count:,} rows (ids {low}..{high}), counts {counts}")
    log(f"data loaded in {time.monotonic() - started:.0f} s; the replica caught up {lag:.2f} s after the last write")
    (rows, mid), (big, big_mid) = described[h.person.username], described[h.neighbour.username]
    return scenarios.Context(rows=rows, mid_after=mid, big_rows=big, big_mid_after=big_mid, workdir=str(workdir))


def main(argv=None) -> int:
    args = parse_args(argv)
    wrk_path()  # fail early, with the fix, if wrk is missing
    started = time.monotonic()
    out = args.out or RESULTS / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    h = Harness(Config(workers=args.workers, threads=args.threads), out / "logs")
    groups = scenarios.plan(args.only)
    references = {"original"} | {ref for group in groups for sc in group for ref in sc.references}
    references = tuple(ref for ref in ("original", "lean", "orm") if ref in references)
    records, rss, profiles, same_page, person = [], {}, None, {}, None
    try:
        log(f"starting the stack and {', '.join(references)} ({args.workers} workers x {args.threads} threads each)")
        h.start(references)
        ctx = prepare(h, args.small_rows, args.big_rows, out)
        same_page = {
            "small": h.check_same_page(("", "?status=completed")),
            "original": h.check_original(),
            "mid": h.check_page("person", f"?after={ctx.mid_after}", first_id=ctx.mid_after + 1),
            "big_mid": h.check_page("neighbour", f"?after={ctx.big_mid_after}", first_id=ctx.big_mid_after + 1),
        }
        if not args.smoke:
            waited = h.let_sign_ups_settle()
            log(f"waited {waited:.0f} s: the returning browser's sign-up is older than LSN_KEEP_SECONDS")
        _, last_id, _ = data.id_range(h.primary, h.person.list_id)
        for sc in scenarios.WARMUP:
            if all(ref in references for ref in sc.references):
                sc.run(h, ctx, 1)
        for rnd in range(1, args.rounds + 1):
            for group in groups:
                for sc in group if rnd % 2 else reversed(group):
                    records.append(run_scenario(h, sc, ctx, rnd, args.duration))
            removed = data.delete_after(h.primary, h.person.list_id, last_id)
            data.vacuum(h.primary)
            data.check_counts(h.primary, h.person.list_id)
            data.wait_for_replica(h.primary, h.replica)
            log(f"round {rnd} done: removed the {removed:,} rows it wrote ({time.monotonic() - started:.0f} s so far)")
        if args.profile:
            profiles = profile.run(h, out, max(args.duration, 8))
        time.sleep(3)  # at rest after warm-up
        rss = h.rss()
        person = {
            "username": h.person.username,
            "account": h.person.account_id,
            "list": h.person.list_id,
            "rows": ctx.rows,
            "neighbour": {"username": h.neighbour.username, "list": h.neighbour.list_id, "rows": ctx.big_rows},
        }
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
        # Whose lists the scenarios used, and what the stack and the references showed
        # before the first round (the same items, checked; the original's page weight).
        "person": person,
        "same_page": same_page,
        "elapsed_s": round(elapsed, 1),
        "targets": rows,
        "json_costs": report.json_costs(summary),
        "worker_spread": report.worker_spread(records),
        "summary": summary,
        "rss_mb_at_rest": rss,
        "profiles": profiles,
        "records": records,
    }
    (out / "result.json").write_text(json.dumps(result, indent=2))
    title = f"Todo benchmark {result['when']} ({args.rounds} rounds x {args.duration:g} s, wrk -t2 -c16 / -c64)"
    report.plot(summary, rows, out / "plot.png", title)
    if args.out is None:
        for name in ("result.json", "plot.png"):
            shutil.copy(out / name, RESULTS / f"latest-{name}")
    report.print_report(summary, rows, records)
    profile.print_profiles(profiles)
    print(f"\nRSS at rest (MB): {json.dumps(rss)}")
    print(f"results: {out / 'result.json'}, plot: {out / 'plot.png'}; took {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
