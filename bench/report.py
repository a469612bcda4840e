"""Turn the records of one run into figures: min/median/max per scenario, the targets
of issue 12 (ratios paired round by round, judged on their median) and figures kept
for information, who pays for JSON, how requests spread over gunicorn workers; a
JSON file and a PNG."""

from __future__ import annotations

import json
import statistics
import textwrap
from pathlib import Path

from . import spread

TARGETS_MB = 80
# The page scenarios whose spread over workers is reported, and the services serving
# them (wrk's connections reach the first; the frontend's pooled ones the reader).
PAGE_SCENARIOS = {
    "page250": ("frontend", "reader"),
    "first_visit": ("frontend", "reader"),
    "original_page250": ("original",),
    "page250_c64": ("frontend", "reader"),
    "first_visit_c64": ("frontend", "reader"),
    "original_page250_c64": ("original",),
}


def _spread(values: list[float]) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3), "max": round(max(values), 3)}


def _by(records: list[dict], name: str) -> dict[int, dict]:
    return {r["round"]: r for r in records if r["scenario"] == name}


def summarize(records: list[dict]) -> dict:
    table: dict[str, list[dict]] = {}
    for record in records:
        table.setdefault(record["scenario"], []).append(record)
    summary = {}
    for key, group in table.items():
        cpu = {}
        for name in group[0]["cpu_ms_per_request"]:
            cpu[name] = _spread([r["cpu_ms_per_request"][name] for r in group])["median"]
        summary[key] = {
            "describe": group[0]["describe"],
            "rps": _spread([r["rps"] for r in group]),
            "p50_ms": _spread([r["latency_ms"].get("p50") for r in group]),
            "p99_ms": _spread([r["latency_ms"].get("p99") for r in group]),
            "errors": sum(r["errors"] for r in group),
            "cpu_ms_per_request_median": cpu,
            "bytes_per_request": group[0].get("bytes_per_request"),
            "repeats": len(group),
        }
    return summary


def _paired(records, a: str, b: str, field) -> list[float]:
    """field(a) / field(b) in each round that ran both."""
    ra, rb = _by(records, a), _by(records, b)
    ratios = []
    for rnd in sorted(ra.keys() & rb.keys()):
        va, vb = field(ra[rnd]), field(rb[rnd])
        if va is not None and vb:
            ratios.append(va / vb)
    return ratios


FIGURES = {
    "req/s": lambda r: r["rps"],
    "p99": lambda r: r["latency_ms"].get("p99"),
    "p50": lambda r: r["latency_ms"].get("p50"),
    "replica CPU": lambda r: r["cpu_ms_per_request"].get("replica"),
}
# Ratios a / b of one figure, paired round by round and judged on their median:
# (name, a, b, figure, op, threshold). Then the same kept for information only.
TARGET_RATIOS = [
    ("list page 250, returning browser / original app (req/s)", "page250", "original_page250", "req/s", ">=", 1.0),
    ("list page 250, returning browser p99 / original app p99", "page250", "original_page250", "p99", "<=", 1.0),
    ("list page 250, first visit / original app (req/s)", "first_visit", "original_page250", "req/s", ">=", 0.9),
    ("add + the page it lands on / original add + redirect", "add_flow", "original_add_flow", "req/s", ">=", 1.0),
    ("reader list API / pgbench plain 250-row SELECT (TPS)", "reader_api", "pgbench_plain", "req/s", ">=", 0.10),
    ("writer create API / pgbench of its INSERT (TPS)", "writer_api", "pgbench_insert", "req/s", ">=", 0.15),
    (
        "middle page p50, 1,000,000-row / 1,000-row list (interleaved)",
        "page250_mid_big",
        "page250_mid",
        "p50",
        "<=",
        1.1,
    ),
]
INFO_RATIOS = [
    ("-c64: list page, returning browser / original app (req/s)", "page250_c64", "original_page250_c64", "req/s"),
    ("-c64: list page, returning browser p99 / original app p99", "page250_c64", "original_page250_c64", "p99"),
    ("-c64: list page, first visit / original app (req/s)", "first_visit_c64", "original_page250_c64", "req/s"),
    ("reader list API / pgbench of its own page query, page kept (TPS)", "reader_api", "pgbench_read_kept", "req/s"),
    ("pgbench TPS: json_agg of the 250 rows / plain SELECT", "pgbench_plain_json", "pgbench_plain", "req/s"),
    ("pgbench TPS: reader's page query / plain SELECT", "pgbench_read", "pgbench_plain", "req/s"),
    ("replica CPU per transaction: json_agg / plain SELECT", "pgbench_plain_json", "pgbench_plain", "replica CPU"),
    ("replica CPU per transaction: reader's page query / plain", "pgbench_read", "pgbench_plain", "replica CPU"),
    ("replica CPU per transaction: page query, page kept / plain", "pgbench_read_kept", "pgbench_plain", "replica CPU"),
    ("list page 250 / lean reference, same template (req/s)", "page250", "lean_page250", "req/s"),
    ("list page 250 / ORM reference, same template (req/s)", "page250", "orm_page250", "req/s"),
]


def _row(name: str, values: list[float], op: str | None = None, threshold: float | None = None, unit: str = "x"):
    figures = _spread(values)
    row = {"target": name, "kind": "target" if op else "info", "values": figures}
    if op:
        row["threshold"] = f"{op} {threshold}{unit}"
        row["pass"] = None
        if figures is not None:
            row["pass"] = figures["median"] >= threshold if op == ">=" else figures["median"] <= threshold
    return row


def targets(records: list[dict], rss: dict) -> list[dict]:
    """Issue 12's targets (``kind`` "target": PASS/FAIL on the median of the paired
    ratios) and related figures kept for information (``kind`` "info", shown only when
    both sides ran)."""
    rows = [
        _row(name, _paired(records, a, b, FIGURES[figure]), op, threshold)
        for name, a, b, figure, op, threshold in TARGET_RATIOS
    ]
    ryw = [r["ryw"] for r in sorted(_by(records, "ryw").values(), key=lambda r: r["round"])]
    rows.append(
        _row(
            "read right after a write: reader's LSN wait p99 (ms, bucket bound)",
            [r["server_wait_p99_ms_at_most"] for r in ryw],
            "<=",
            5.0,
            " ms",
        )
    )
    fallbacks = sum(r["fallbacks"] + r["served_by_primary"] for r in ryw)
    rows.append(
        {
            "target": "read right after a write: fallbacks",
            "kind": "target",
            "threshold": "== 0",
            "values": fallbacks,
            "pass": fallbacks == 0 if ryw else None,
        }
    )
    services = {name: max(values.values()) for name, values in rss.items() if name in ("frontend", "reader", "writer")}
    rows.append(
        {
            "target": "largest service process RSS at rest (MB), per service",
            "kind": "target",
            "threshold": f"<= {TARGETS_MB}",
            "values": services,
            "pass": all(v <= TARGETS_MB for v in services.values()) if services else None,
        }
    )
    rows += [_row(name, _paired(records, a, b, FIGURES[figure])) for name, a, b, figure in INFO_RATIOS]
    rows.append(_row("read right after a write: client p99 with LSN - without (ms)", [r["added_p99_ms"] for r in ryw]))
    return [row for row in rows if row["kind"] == "target" or row["values"] is not None]


def json_costs(summary: dict) -> dict | None:
    """Who pays for the page's JSON: what the replica spends per transaction on the plain
    rows, on the same rows as json_agg, and on the reader's whole page query (reading
    the items, and for a page the reader keeps)."""
    names = {"plain": "pgbench_plain", "json_agg": "pgbench_plain_json", "page query": "pgbench_read"}
    if not all(name in summary for name in names.values()):
        return None
    if "pgbench_read_kept" in summary:
        names["page query, page kept"] = "pgbench_read_kept"
    return {
        label: {
            "tps_median": summary[name]["rps"]["median"],
            "replica_cpu_ms_per_tx": summary[name]["cpu_ms_per_request_median"].get("replica"),
        }
        for label, name in names.items()
    }


def worker_spread(records: list[dict]) -> dict:
    """For each page scenario and round: each serving service's workers' shares of the
    requests (largest first) and the connections they held, and the round's req/s."""
    out: dict[str, list[dict]] = {}
    for record in records:
        services = PAGE_SCENARIOS.get(record["scenario"], ())
        served = record.get("served", {})
        row = {"round": record["round"], "rps": record["rps"]}
        for service in services:
            if service in served:
                workers = sorted(served[service].values(), key=lambda w: -w["requests"])
                row[service] = {
                    "shares": [round(s, 3) for s in spread.shares(served[service])],
                    "connections": [w["connections"] for w in workers],
                }
        if len(row) > 2:
            out.setdefault(record["scenario"], []).append(row)
    return out


def _verdict(row: dict) -> str:
    if row["kind"] == "info":
        return "info"
    return {True: "PASS", False: "FAIL", None: "n/a"}[row["pass"]]


def _shown(values) -> str:
    if isinstance(values, dict) and "median" in values:
        return f"{values['min']:.3f} / {values['median']:.3f} / {values['max']:.3f}"
    return json.dumps(values)


def print_report(summary: dict, rows: list[dict], records: list[dict]) -> None:
    print("\nscenario                  req/s min / median / max      p50 ms   p99 ms  errors  CPU ms/request")
    for key, s in summary.items():
        r = s["rps"]
        rps = f"{r['min']:>8.0f} {r['median']:>8.0f} {r['max']:>8.0f}" if r else " " * 26
        p50 = f"{s['p50_ms']['median']:>8.2f}" if s["p50_ms"] else " " * 8
        p99 = f"{s['p99_ms']['median']:>8.2f}" if s["p99_ms"] else " " * 8
        cpu = " ".join(f"{k}={v:.2f}" for k, v in s["cpu_ms_per_request_median"].items())
        print(f"{key:<25} {rps}  {p50} {p99} {s['errors']:>7}  {cpu}")
    print(f"\n{'target':<68} {'threshold':>9}   {'min / median / max':<24} result")
    for row in rows:
        threshold = row.get("threshold", "")
        print(f"{row['target']:<68} {threshold:>9}   {_shown(row['values']):<24} {_verdict(row)}")
    costs = json_costs(summary)
    if costs:
        print("\nwho pays for JSON: the replica sends the items as rows (its page query builds only the small")
        print("header as JSON), the reader writes the items' JSON (orjson) and keeps it until the list changes,")
        print("the frontend decodes it once per distinct answer (kept rendered per worker). Replica, per")
        print("transaction (median):")
        for label, c in costs.items():
            cpu = c["replica_cpu_ms_per_tx"]
            print(f"  {label:<21} {c['tps_median']:>8.0f} TPS   replica CPU {cpu if cpu is not None else '?'} ms")
    spreads = worker_spread(records)
    if spreads:
        print("\nrequests per gunicorn worker, per round: share % of each worker (connections it held), req/s")
        for name, rounds in spreads.items():
            cells = []
            for r in rounds:
                parts = []
                for service in PAGE_SCENARIOS[name]:
                    if service in r:
                        shares = "/".join(f"{100 * s:.0f}" for s in r[service]["shares"]) or "?"
                        conns = "/".join(str(c) for c in r[service]["connections"])
                        parts.append(f"{service} {shares} ({conns})")
                cells.append(f"r{r['round']} {r['rps']:.0f}/s " + ", ".join(parts))
            print(f"  {name}")
            for cell in cells:
                print(f"    {cell}")


def plot(summary: dict, rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    keys = [k for k in summary if summary[k]["rps"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 0.35 * max(len(keys), 12) + 1.5))
    medians = [summary[k]["rps"]["median"] for k in keys]
    lows = [m - summary[k]["rps"]["min"] for k, m in zip(keys, medians, strict=True)]
    highs = [summary[k]["rps"]["max"] - m for k, m in zip(keys, medians, strict=True)]
    colors = ["tab:gray" if k.startswith(("lean", "orm", "original", "pgbench", "hello")) else "tab:blue" for k in keys]
    left.barh(keys, medians, xerr=[lows, highs], color=colors)
    left.set_xscale("log")
    left.xaxis.set_minor_formatter(NullFormatter())  # labelled minor ticks overlap
    left.invert_yaxis()
    left.set_xlabel("requests (or transactions) per second, median, min-max bars; log scale")
    left.set_title("Throughput (blue: the stack; grey: the original app and pgbench)")
    ratio_rows = [
        r for r in rows if r["kind"] == "target" and isinstance(r["values"], dict) and "median" in r["values"]
    ]
    names = [textwrap.fill(r["target"], 40) for r in ratio_rows]
    headroom = []
    for r in ratio_rows:
        op, number = r["threshold"].split()[:2]
        threshold, value = float(number.rstrip("x")), max(r["values"]["median"], 1e-3)
        # Clipped at 10x: a wait of 0 ms would stretch the axis past reading.
        headroom.append(min(10.0, value / threshold if op == ">=" else threshold / value))
    right.barh(names, headroom, color=["tab:green" if h >= 1 else "tab:red" for h in headroom])
    right.axvline(1.0, color="black", label="target")
    right.set_xscale("log")
    right.xaxis.set_minor_formatter(NullFormatter())
    right.xaxis.set_major_formatter(ScalarFormatter())
    right.invert_yaxis()
    right.set_xlabel("median of the paired ratios / target (>= 1 meets it); log scale")
    right.set_title("Issue 12's targets (paired within each round)")
    right.legend(loc="lower right")
    right.tick_params(axis="y", labelsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
