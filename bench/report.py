"""results.json and the readable results.md (targets: bench/targets.py, notes: bench/notes.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROWS: tuple[tuple[str, str], ...] = (
    ("lag_p50_s", "lag p50 (s)"),
    ("lag_p95_s", "lag p95 (s)"),
    ("lag_max_s", "lag max (s)"),
    ("codedeploy_calls_per_deployment", "CodeDeploy calls / deployment (Create + Get)"),
    ("codedeploy_calls_per_deployment_ge_5min", "... on deployments >= 5 min"),
    ("dynamodb_reads_per_deployment", "DynamoDB reads / deployment (GetItem + Query)"),
    ("dynamodb_writes_per_deployment", "DynamoDB writes / deployment (trigger's)"),
    ("correct", "correct (every result = simulator's final status)"),
    ("detected_by", "detected by"),
    ("events_lost", "events lost (terminal)"),
    ("event_delay_p95_s", "EventBridge delivery: terminal status -> in the table, p95 (s)"),
    ("lag_after_event_p50_s", "our part: in the table -> trigger returns, p50 (s)"),
    ("lag_after_event_p95_s", "our part: in the table -> trigger returns, p95 (s)"),
    ("lag_after_event_succeeded_p95_s", "... Succeeded deployments only, p95 (s)"),
    ("harness_event_lateness_p95_s", "harness: event written later than drawn, p95 (s)"),
)
HARNESS_ROWS: tuple[tuple[str, str], ...] = (
    ("wall_s", "wall time of the run (s, real)"),
    ("cpu_share_of_one_core", "CPU used, share of one core"),
    ("sleep_overshoot_p99_s", "trigger sleep overshoot p99 (s, real-equivalent)"),
)
FOOTPRINT_ROWS: tuple[tuple[str, str], ...] = (
    ("trigger_import_s", "import handlers.trigger (boto3 + the rest, s, median)"),
    ("boto3_import_s", "import boto3 (s, median)"),
    ("trigger_to_boto3_ratio", "trigger / boto3 (x, same interpreter, median)"),
    ("trigger_import_from_zip_s", "the same from the release zip on python3.13 (s, median)"),
    ("zip_trigger_to_boto3_ratio", "zip trigger / boto3 (x, same interpreter, median)"),
)


def write(results: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out_dir / "results.md").write_text(render(results))


def _cell(figures: dict[str, Any], figure: str) -> str:
    value = figures.get(figure)
    if figure == "events_lost":
        return f"{value} ({figures.get('terminal_events_lost')})"
    if isinstance(value, dict):
        return ", ".join(f"{key} {count}" for key, count in sorted(value.items()))
    if isinstance(value, bool):
        return str(value).lower()
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def detector_table(detectors: dict[str, dict[str, Any]]) -> list[str]:
    rows = [[label, *(_cell(d, figure) for d in detectors.values())] for figure, label in ROWS]
    rows += [
        [f"harness: {label}", *(_cell(d["harness"], figure) for d in detectors.values())]
        for figure, label in HARNESS_ROWS
    ]
    return _table(["figure", *detectors], rows)


def footprint_table(results: dict[str, Any]) -> list[str]:
    """The measured figures; their targets are in the targets table."""
    cold = results.get("cold_start")
    if cold is None:
        return ["Not measured (quick run)."]
    rows = [[label, _cell(cold, figure)] for figure, label in FOOTPRINT_ROWS]
    rows.append(["peak RSS, trigger waiting, own process (MB)", _cell(results, "peak_rss_mb")])
    zips = results.get("zip_bytes") or {"zips": "package/ not built (make package)"}
    rows += [[f"zip {arch} (bytes)", str(size)] for arch, size in sorted(zips.items())]
    return _table(["figure", "measured"], rows)


def render(results: dict[str, Any]) -> str:
    meta, workload = results["meta"], results["meta"]["workload"]
    factor = meta["scale_factor"]
    targets = [
        [t["name"], t["target"], t["measured"], f"**{t['verdict']}**"] for t in results["targets"]
    ]
    cost = (results.get("cost") or {}).get("notes") or ["Not computed."]
    lines = [
        "# codedeploy-trigger benchmark",
        "",
        f"- command: `{meta['command']}`",
        f"- date: {meta['date']}; {meta['python']} on {meta['platform']}, "
        f"{meta['cpus']} CPUs; whole run {meta['run_seconds']:.0f} s",
        f"- workload: {meta['n']} deployments at once, seed {meta['seed']}, "
        f"durations {workload['duration_s']['distribution']} s "
        f"({workload['deployments_ge_5min']} of them >= 5 min), endings "
        f"{workload['endings']}, started over the first {workload['start_spread_s']:g} s, "
        f"events delayed {workload['event_delay_s']} s (1% lost for `event`, all for "
        "`lost_events`)",
        f"- **time scale factor {factor:g}**: every interval, duration, delay and timeout ran "
        f"{factor:g}x faster; all figures are in real seconds",
        "",
        "## Detectors",
        "",
        *detector_table(results["detectors"]),
        "",
        "## Footprint",
        "",
        *footprint_table(results),
        "",
        "## Cost per deployment",
        "",
        *"\n\n".join(cost).splitlines(),
        "",
        "## Targets",
        "",
        *_table(["target", "wanted", "measured", "verdict"], targets),
        "",
        "## Notes",
        "",
        *[f"- {note}" for note in results["notes"]],
        "",
    ]
    return "\n".join(lines)
