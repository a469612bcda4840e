"""Turn the records of one run into figures: min/median/max per scenario, the
target ratios (paired round by round, then min/median/max), a JSON file and a PNG."""

from __future__ import annotations

import json
import statistics
import textwrap
from pathlib import Path

TARGETS_MB = 80


def _spread(values: list[float]) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3), "max": round(max(values), 3)}


def _by(records: list[dict], phase: str, name: str) -> list[dict]:
    return [r for r in records if r["phase"] == phase and r["scenario"] == name]


def summarize(records: list[dict]) -> dict:
    table = {}
    for record in records:
        key = f"{record['scenario']}@{record['phase']}"
        table.setdefault(key, []).append(record)
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
            "repeats": len(group),
        }
    return summary


def _paired(records, a: str, b: str, field, phase_a="small", phase_b="small") -> list[float]:
    ratios = []
    for ra, rb in zip(_by(records, phase_a, a), _by(records, phase_b, b), strict=False):
        va, vb = field(ra), field(rb)
        if va is not None and vb:
            ratios.append(va / vb)
    return ratios


def targets(records: list[dict], rss: dict, orm_quoted_rps: float = 640.0) -> list[dict]:
    def rps(r):
        return r["rps"]

    def p99(r):
        return r["latency_ms"].get("p99")

    def p50(r):
        return r["latency_ms"].get("p50")

    rows = []

    def add(name: str, values: list[float], op: str, threshold: float, unit: str = "x"):
        spread = _spread(values)
        if spread is None:
            rows.append({"target": name, "pass": None, "threshold": f"{op} {threshold}{unit}", "values": None})
            return
        value = spread["median"]
        ok = value >= threshold if op == ">=" else value <= threshold
        rows.append({"target": name, "threshold": f"{op} {threshold}{unit}", "values": spread, "pass": ok})

    add("list page 250 / lean reference (req/s)", _paired(records, "page250", "lean_page250", rps), ">=", 0.7)
    add("list page 250 / ORM reference, same run (req/s)", _paired(records, "page250", "orm_page250", rps), ">=", 1.0)
    add(
        f"list page 250 / quoted ORM reference figure ({orm_quoted_rps:.0f} req/s, other machine)",
        [r["rps"] / orm_quoted_rps for r in _by(records, "small", "page250")],
        ">=",
        1.0,
    )
    add("list page 250 p99 / lean reference p99", _paired(records, "page250", "lean_page250", p99), "<=", 1.0)
    add("reader list API / pgbench of its query (TPS)", _paired(records, "reader_api", "pgbench_read", rps), ">=", 0.10)
    add(
        "writer create API / pgbench of its INSERT (TPS)",
        _paired(records, "writer_api", "pgbench_insert", rps),
        ">=",
        0.15,
    )
    add(
        "list page p50, 1,000,000 rows / 1,000 rows (middle page)",
        _paired(records, "page250_mid", "page250_mid", p50, "big", "small"),
        "<=",
        1.2,
    )
    ryw = [r["ryw"] for r in _by(records, "small", "ryw")]
    add(
        "read right after a write: reader's LSN wait p99 (ms, bucket bound)",
        [r["server_wait_p99_ms_at_most"] for r in ryw],
        "<=",
        5.0,
        " ms",
    )
    add(
        "read right after a write: client p99 with LSN - without (ms, info)",
        [r["added_p99_ms"] for r in ryw],
        "<=",
        5.0,
        " ms",
    )
    fallbacks = sum(r["fallbacks"] + r["served_by_primary"] for r in ryw)
    rows.append(
        {
            "target": "read right after a write: fallbacks",
            "threshold": "== 0",
            "values": fallbacks,
            "pass": fallbacks == 0 if ryw else None,
        }
    )
    services = {name: max(values.values()) for name, values in rss.items() if name in ("frontend", "reader", "writer")}
    rows.append(
        {
            "target": "largest service process RSS at rest (MB), per service",
            "threshold": f"<= {TARGETS_MB}",
            "values": services,
            "pass": all(v <= TARGETS_MB for v in services.values()) if services else None,
        }
    )
    return rows


def print_report(summary: dict, rows: list[dict]) -> None:
    print("\nscenario                     req/s min / median / max      p50 ms   p99 ms  errors  CPU ms/request")
    for key, s in summary.items():
        r = s["rps"]
        rps = f"{r['min']:>8.0f} {r['median']:>8.0f} {r['max']:>8.0f}" if r else " " * 26
        p50 = f"{s['p50_ms']['median']:>8.2f}" if s["p50_ms"] else " " * 8
        p99 = f"{s['p99_ms']['median']:>8.2f}" if s["p99_ms"] else " " * 8
        cpu = " ".join(f"{k}={v:.2f}" for k, v in s["cpu_ms_per_request_median"].items())
        print(f"{key:<28} {rps}  {p50} {p99} {s['errors']:>7}  {cpu}")
    print("\ntarget                                                        threshold   min / median / max       result")
    for row in rows:
        v = row["values"]
        if isinstance(v, dict) and "median" in v:
            shown = f"{v['min']:.3f} / {v['median']:.3f} / {v['max']:.3f}"
        else:
            shown = json.dumps(v)
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[row["pass"]]
        print(f"{row['target']:<62} {row['threshold']:>9}   {shown:<24} {verdict}")


def plot(summary: dict, rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in summary if summary[k]["rps"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 0.35 * max(len(keys), 10) + 1.5))
    medians = [summary[k]["rps"]["median"] for k in keys]
    lows = [m - summary[k]["rps"]["min"] for k, m in zip(keys, medians, strict=True)]
    highs = [summary[k]["rps"]["max"] - m for k, m in zip(keys, medians, strict=True)]
    colors = ["tab:blue" if not k.startswith(("lean", "orm", "pgbench", "hello")) else "tab:gray" for k in keys]
    left.barh(keys, medians, xerr=[lows, highs], color=colors)
    left.set_xscale("log")
    left.invert_yaxis()
    left.set_xlabel("requests (or transactions) per second, median, min-max bars; log scale")
    left.set_title("Throughput (blue: the stack; grey: references and pgbench)")
    ratio_rows = [r for r in rows if isinstance(r["values"], dict) and "median" in r["values"]]
    names = [textwrap.fill(r["target"], 38) for r in ratio_rows]
    headroom = []
    for r in ratio_rows:
        op, number = r["threshold"].split()[:2]
        threshold, value = float(number.rstrip("x")), max(r["values"]["median"], 1e-3)
        headroom.append(value / threshold if op == ">=" else threshold / value)
    right.barh(names, headroom, color=["tab:green" if h >= 1 else "tab:red" for h in headroom])
    right.axvline(1.0, color="black", label="target")
    right.set_xscale("log")
    right.invert_yaxis()
    right.set_xlabel("median value / target (>= 1 meets it); log scale")
    right.set_title("Targets (paired within each round)")
    right.legend(loc="lower right")
    right.tick_params(axis="y", labelsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
