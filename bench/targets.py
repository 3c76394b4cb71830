"""The benchmark's targets, checked against the results."""

from __future__ import annotations

from typing import Any

from bench.footprint import packaging
from shared.config import DEFAULTS

EVENT_LAG_P95_MAX_S = 1.5
OUR_PART_P95_MAX_S = 0.25
"""The trigger's own part of the lag: terminal status in the table -> the trigger returns."""
BASELINE = "event_fixed_1s"
POLLING_LAG_P95_REFERENCE_S = 14.0
CALL_RATIO_MIN = 5.0
LOST_EVENTS_LAG_P95_MAX_S = DEFAULTS["FALLBACK_POLL_INTERVAL_SECONDS"] + 1
"""No events, so no back-off: the longest fallback interval in use is the first one."""
IMPORT_RATIO_MAX = 1.2
PEAK_RSS_MAX_MB = 100.0


def zip_max_bytes() -> int:
    """The release build's budget (decimal megabytes, the stricter reading of 1.5 MB)."""
    return int(packaging().MAX_ZIP_BYTES)


def _target(name: str, wanted: str, measured: str, verdict: str) -> dict[str, str]:
    """``verdict``: PASS | FAIL | INFO (reported, no target) | SKIP (not measured)."""
    return {"name": name, "target": wanted, "measured": measured, "verdict": verdict}


def _at_most(name: str, value: float | None, limit: float, unit: str = "") -> dict[str, str]:
    if value is None:
        return _target(name, f"<= {limit:g}{unit}", "not measured", "SKIP")
    verdict = "PASS" if value <= limit else "FAIL"
    return _target(name, f"<= {limit:g}{unit}", f"{value:g}{unit}", verdict)


def _info(name: str, wanted: str, value: float | None, unit: str) -> dict[str, str]:
    return _target(name, wanted, "not measured" if value is None else f"{value:g}{unit}", "INFO")


def evaluate(results: dict[str, Any]) -> list[dict[str, str]]:
    detectors = results["detectors"]

    def figure(name: str, key: str) -> float | None:
        value = detectors.get(name, {}).get(key)
        return None if value is None else float(value)

    ratios = results["comparisons"]["codedeploy_call_ratio_polling_to_event"]
    long_ratio = ratios["deployments_ge_5min"]
    reads, baseline_reads = (
        figure("event", "dynamodb_reads_per_deployment"),
        figure(BASELINE, "dynamodb_reads_per_deployment"),
    )
    cold = results.get("cold_start") or {}
    found = [
        _at_most("event: lag p95", figure("event", "lag_p95_s"), EVENT_LAG_P95_MAX_S, " s"),
        _at_most(
            "event: our part p95 (terminal status in the table -> the trigger returns)",
            figure("event", "lag_after_event_p95_s"),
            OUR_PART_P95_MAX_S,
            " s",
        ),
        _info(
            "event: our part p95, Succeeded deployments only (a failure's answer also gathers "
            "its explanation)",
            "reported",
            figure("event", "lag_after_event_succeeded_p95_s"),
            " s",
        ),
        _info(
            f"{BASELINE}: our part p95 (the fixed 1 s cadence, for comparison)",
            "reported",
            figure(BASELINE, "lag_after_event_p95_s"),
            " s",
        ),
        _info(
            "polling: lag p95 (for comparison)",
            f"about {POLLING_LAG_P95_REFERENCE_S:g} s",
            figure("polling", "lag_p95_s"),
            " s",
        ),
        _at_most(
            "lost_events: lag p95",
            figure("lost_events", "lag_p95_s"),
            LOST_EVENTS_LAG_P95_MAX_S,
            " s",
        ),
        _at_most(f"event: DynamoDB reads / deployment, at most {BASELINE}'s", reads, baseline_reads)
        if baseline_reads is not None
        else _target(
            "event: DynamoDB reads / deployment", f"<= {BASELINE}", "not measured", "SKIP"
        ),
        _target(
            "CodeDeploy calls, polling / event, deployments >= 5 min",
            f">= {CALL_RATIO_MIN:g}x",
            "not measured" if long_ratio is None else f"{long_ratio:g}x",
            "PASS" if long_ratio is not None and long_ratio >= CALL_RATIO_MIN else "FAIL",
        ),
        _info(
            "CodeDeploy calls, polling / event, all deployments",
            "reported",
            ratios["all_deployments"],
            "x",
        ),
        *(
            _target(f"{name}: correct", "true", str(figures.get("correct")).lower(), verdict)
            for name, figures in detectors.items()
            for verdict in ["PASS" if figures.get("correct") is True else "FAIL"]
        ),
        _at_most(
            "import of the trigger / import boto3 (dev venv, .pyc present)",
            cold.get("trigger_to_boto3_ratio"),
            IMPORT_RATIO_MAX,
            "x",
        ),
        _at_most(
            "import of the trigger from the release zip (python3.13, as Lambda) / boto3",
            cold.get("zip_trigger_to_boto3_ratio"),
            IMPORT_RATIO_MAX,
            "x",
        ),
        _at_most(
            "peak RSS, trigger waiting (own process)",
            results.get("peak_rss_mb"),
            PEAK_RSS_MAX_MB,
            " MB",
        ),
    ]
    wanted = f"<= {zip_max_bytes()} bytes (1.5 MB)"
    zips = results.get("zip_bytes")
    if not zips:
        return [*found, _target("release zips", wanted, "not measured", "SKIP")]
    for arch, size in sorted(zips.items()):
        verdict = "PASS" if size <= zip_max_bytes() else "FAIL"
        found.append(_target(f"zip {arch}", wanted, f"{size} bytes", verdict))
    return found
