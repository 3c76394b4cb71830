"""results.json and the readable results.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.targets import (
    CALL_RATIO_MIN,
    EVENT_LAG_P95_MAX_S,
    LOST_EVENTS_LAG_P95_MAX_S,
    OUR_PART_P95_MAX_S,
    POLLING_LAG_P95_REFERENCE_S,
)

ROWS: tuple[tuple[str, str, str], ...] = (
    # (figure, label, target)
    ("lag_p50_s", "lag p50 (s)", ""),
    (
        "lag_p95_s",
        "lag p95 (s)",
        f"event <= {EVENT_LAG_P95_MAX_S:g}; lost_events <= {LOST_EVENTS_LAG_P95_MAX_S:g}; "
        f"polling about {POLLING_LAG_P95_REFERENCE_S:g} (comparison)",
    ),
    ("lag_max_s", "lag max (s)", ""),
    ("codedeploy_calls_per_deployment", "CodeDeploy calls / deployment (Create + Get)", ""),
    (
        "codedeploy_calls_per_deployment_ge_5min",
        "... on deployments >= 5 min",
        f"polling / event >= {CALL_RATIO_MIN:g}",
    ),
    ("dynamodb_reads_per_deployment", "DynamoDB reads / deployment (GetItem + Query)", ""),
    ("dynamodb_writes_per_deployment", "DynamoDB writes / deployment (trigger's)", ""),
    ("correct", "correct (every result = simulator's final status)", "true"),
    ("detected_by", "detected by", ""),
    ("events_lost", "events lost (terminal)", ""),
    ("event_delay_p95_s", "EventBridge delivery: terminal status -> in the table, p95 (s)", ""),
    ("lag_after_event_p50_s", "our part: in the table -> trigger returns, p50 (s)", ""),
    (
        "lag_after_event_p95_s",
        "our part: in the table -> trigger returns, p95 (s)",
        f"event <= {OUR_PART_P95_MAX_S:g}",
    ),
)
FOOTPRINT_ROWS: tuple[tuple[str, str], ...] = (
    ("trigger_import_s", "import handlers.trigger (boto3 + the rest, s, median)"),
    ("recorder_import_s", "import handlers.recorder (s, median)"),
    ("boto3_import_s", "import boto3 (s, median)"),
    ("trigger_to_boto3_ratio", "trigger / boto3 (x, same interpreter, median)"),
    ("trigger_import_from_zip_s", "the same from the release zip on python3.13 (s, median)"),
    ("zip_trigger_to_boto3_ratio", "zip trigger / boto3 (x, same interpreter, median)"),
)
HARNESS_ROWS: tuple[tuple[str, str], ...] = (
    ("wall_s", "wall time of the run (s, real)"),
    ("cpu_share_of_one_core", "CPU used, share of one core"),
    ("sleep_overshoot_p99_s", "trigger sleep overshoot p99 (s, real-equivalent)"),
)


def write(results: dict[str, Any], out_dir: Path) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    text = render(results)
    (out_dir / "results.md").write_text(text)
    return text


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
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def detector_table(results: dict[str, Any]) -> list[str]:
    detectors = results["detectors"]
    names = list(detectors)
    rows = [
        [label, *(_cell(detectors[name], figure) for name in names), target or "-"]
        for figure, label, target in ROWS
    ]
    rows += [
        [
            f"harness: {label}",
            *(_cell(detectors[name]["harness"], figure) for name in names),
            "-",
        ]
        for figure, label in HARNESS_ROWS
    ]
    lateness = [_cell(detectors[name], "harness_event_lateness_p95_s") for name in names]
    rows.append(["harness: event written later than drawn, p95 (s)", *lateness, "-"])
    return _table(["figure", *names, "target"], rows)


def footprint_table(results: dict[str, Any]) -> list[str]:
    """The measured figures; their targets are in the targets table."""
    cold = results.get("cold_start")
    if cold is None:
        return ["Not measured (quick run)."]
    rows = [[label, _cell(cold, figure)] for figure, label in FOOTPRINT_ROWS]
    rows.append(["peak RSS, trigger waiting, own process (MB)", _cell(results, "peak_rss_mb")])
    detail = results.get("peak_rss_detail") or {}
    rows.append(["... of which after import (MB)", _cell(detail, "after_import_mb")])
    zips = results.get("zip_bytes") or {"zips": "package/ not built (make package)"}
    rows += [[f"zip {arch} (bytes)", str(size)] for arch, size in sorted(zips.items())]
    return _table(["figure", "measured"], rows)


def cost_section(results: dict[str, Any]) -> list[str]:
    notes = (results.get("cost") or {}).get("notes") or ["Not computed."]
    return [line for note in notes for line in (note, "")][:-1]


def targets_table(results: dict[str, Any]) -> list[str]:
    rows = [
        [t["name"], t["target"], t["measured"], f"**{t['verdict']}**"] for t in results["targets"]
    ]
    return _table(["target", "wanted", "measured", "verdict"], rows)


def render(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# codedeploy-trigger benchmark",
        "",
        f"- command: `{meta['command']}`",
        f"- date: {meta['date']}; {meta['python']} on {meta['platform']}, "
        f"{meta['cpus']} CPUs; whole run {meta['run_seconds']:.0f} s",
        f"- workload: {meta['n']} deployments at once, seed {meta['seed']}, "
        f"durations {meta['workload']['duration_s']['distribution']} s "
        f"({meta['workload']['deployments_ge_5min']} of them >= 5 min), endings "
        f"{meta['workload']['endings']}, started over the first "
        f"{meta['workload']['start_spread_s']:g} s, events delayed "
        f"{meta['workload']['event_delay_s']} s (1% lost for `event`, all for `lost_events`)",
        f"- **time scale factor {meta['scale_factor']:g}**: every interval, duration, delay "
        f"and timeout ran {meta['scale_factor']:g}x faster; all figures are in real seconds",
        "",
        "## Detectors",
        "",
        *detector_table(results),
        "",
        "## Footprint",
        "",
        *footprint_table(results),
        "",
        "## Cost per deployment",
        "",
        *cost_section(results),
        "",
        "## Targets",
        "",
        *targets_table(results),
        "",
        "## Notes",
        "",
        *[f"- {note}" for note in results["notes"]],
        "",
    ]
    return "\n".join(lines)
