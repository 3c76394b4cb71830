"""The issue's targets, checked against the results."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from shared.config import DEFAULTS

EVENT_LAG_P95_MAX_S = 1.5
OUR_PART_P95_MAX_S = 0.25
"""The trigger's own part of the lag: terminal status in the table -> the trigger returns."""
BASELINE = "event_fixed_1s"
POLLING_LAG_P95_REFERENCE_S = 14.0
CALL_RATIO_MIN = 5.0
LOST_EVENTS_LAG_P95_MAX_S = DEFAULTS["FALLBACK_POLL_INTERVAL_SECONDS"] + 1
"""No events, so no back-off: the longest fallback interval in use is the first one."""
IMPORT_RATIO_MAX = 1.3
PEAK_RSS_MAX_MB = 100.0
ZIP_MAX_BYTES = 1_500_000
"""1.5 MB read as decimal megabytes, the stricter reading (as .ci/package.py)."""


@dataclass(frozen=True)
class Target:
    name: str
    target: str
    measured: str
    verdict: str  # PASS | FAIL | INFO | SKIP


def _at_most(name: str, value: float | None, limit: float, unit: str) -> Target:
    if value is None:
        return Target(name, f"<= {limit:g}{unit}", "not measured", "SKIP")
    verdict = "PASS" if value <= limit else "FAIL"
    return Target(name, f"<= {limit:g}{unit}", f"{value:g}{unit}", verdict)


def _lag_targets(detectors: dict[str, Any]) -> list[Target]:
    def p95(name: str) -> float | None:
        value = detectors.get(name, {}).get("lag_p95_s")
        return None if value is None else float(value)

    polling = p95("polling")
    after = detectors.get("event", {}).get("lag_after_event_p95_s")
    baseline = detectors.get(BASELINE, {}).get("lag_after_event_p95_s")
    return [
        _at_most("event: lag p95", p95("event"), EVENT_LAG_P95_MAX_S, " s"),
        _at_most(
            "event: our part p95 (terminal status in the table -> the trigger returns)",
            None if after is None else float(after),
            OUR_PART_P95_MAX_S,
            " s",
        ),
        Target(
            f"{BASELINE}: our part p95 (the fixed 1 s cadence, for comparison)",
            "reported",
            "not measured" if baseline is None else f"{baseline:g} s",
            "INFO",
        ),
        Target(
            "polling: lag p95 (for comparison)",
            f"about {POLLING_LAG_P95_REFERENCE_S:g} s",
            "not measured" if polling is None else f"{polling:g} s",
            "INFO",
        ),
        _at_most(
            "lost_events: lag p95",
            p95("lost_events"),
            LOST_EVENTS_LAG_P95_MAX_S,
            " s",
        ),
    ]


def _call_targets(comparisons: dict[str, Any]) -> list[Target]:
    ratios = comparisons["codedeploy_call_ratio_polling_to_event"]
    long_ratio, all_ratio = ratios["deployments_ge_5min"], ratios["all_deployments"]
    verdict = "FAIL" if long_ratio is None or long_ratio < CALL_RATIO_MIN else "PASS"
    return [
        Target(
            "CodeDeploy calls, polling / event, deployments >= 5 min",
            f">= {CALL_RATIO_MIN:g}x",
            "not measured" if long_ratio is None else f"{long_ratio:g}x",
            verdict,
        ),
        Target(
            "CodeDeploy calls, polling / event, all deployments",
            "reported",
            "not measured" if all_ratio is None else f"{all_ratio:g}x",
            "INFO",
        ),
    ]


def _read_targets(detectors: dict[str, Any]) -> list[Target]:
    event = detectors.get("event", {}).get("dynamodb_reads_per_deployment")
    baseline = detectors.get(BASELINE, {}).get("dynamodb_reads_per_deployment")
    name = f"event: DynamoDB reads / deployment, at most {BASELINE}'s"
    if event is None or baseline is None:
        return [Target(name, f"<= {BASELINE}", "not measured", "SKIP")]
    verdict = "PASS" if event <= baseline else "FAIL"
    return [Target(name, f"<= {baseline:g}", f"{event:g}", verdict)]


def _correctness_targets(detectors: dict[str, Any]) -> list[Target]:
    return [
        Target(
            f"{name}: correct",
            "true",
            str(figures.get("correct")).lower(),
            "PASS" if figures.get("correct") is True else "FAIL",
        )
        for name, figures in detectors.items()
    ]


def _footprint_targets(results: dict[str, Any]) -> list[Target]:
    cold = results.get("cold_start") or {}
    found = [
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
    zips = results.get("zip_bytes")
    if not zips:
        found.append(Target("release zips", "<= 1.5 MB each", "not measured", "SKIP"))
        return found
    for arch, size in sorted(zips.items()):
        verdict = "PASS" if size <= ZIP_MAX_BYTES else "FAIL"
        found.append(
            Target(f"zip {arch}", f"<= {ZIP_MAX_BYTES} bytes (1.5 MB)", f"{size} bytes", verdict)
        )
    return found


def evaluate(results: dict[str, Any]) -> list[dict[str, str]]:
    detectors = results["detectors"]
    targets = [
        *_lag_targets(detectors),
        *_read_targets(detectors),
        *_call_targets(results["comparisons"]),
        *_correctness_targets(detectors),
        *_footprint_targets(results),
    ]
    return [asdict(target) for target in targets]
