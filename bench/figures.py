"""From one detector's raw run to its figures, in real (unscaled) seconds."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from bench.detectors import DetectorRun

CODEDEPLOY = "codedeploy:"
DYNAMODB_READS = ("dynamodb:GetItem", "dynamodb:Query")
DYNAMODB_WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def lags(run: DetectorRun) -> list[float]:
    """Per deployment: terminal status set in CodeDeploy -> the handler returned."""
    ended = {o.index: o.returned_at for o in run.outcomes if o.returned_at is not None}
    terminal = {index: run.terminal_at.get(deployment) for index, deployment in run.ids.items()}
    return [
        (returned - start) * run.factor
        for index, returned in ended.items()
        if (start := terminal.get(index)) is not None
    ]


def mismatches(run: DetectorRun) -> list[dict[str, Any]]:
    """Every deployment whose result is not the simulator's final status."""
    wrong = []
    for outcome in run.outcomes:
        expected_id = run.ids.get(outcome.index)
        expected = run.final_status.get(expected_id or "")
        got = (outcome.deployment_id, outcome.status)
        if outcome.error is not None or got != (expected_id, expected):
            wrong.append(
                {
                    "index": outcome.index,
                    "expected": expected,
                    "got": outcome.status,
                    "error": outcome.error,
                    "traceback": outcome.traceback,
                }
            )
    return wrong


def calls_per_deployment(
    run: DetectorRun, prefix_or_names: str | tuple[str, ...], *, long_only: bool = False
) -> float | None:
    def count(calls: dict[str, int]) -> int:
        if isinstance(prefix_or_names, str):
            return sum(n for name, n in calls.items() if name.startswith(prefix_or_names))
        return sum(calls.get(name, 0) for name in prefix_or_names)

    chosen = [spec.index for spec in run.workload.deployments if spec.is_long or not long_only]
    return _mean(count(run.calls.get(index, {})) for index in chosen)


def reads_per_wait_second(run: DetectorRun) -> float:
    """Table reads per real second of deployment, over the whole workload (the cost model
    scales them to its own deployment length)."""
    seconds = sum(spec.duration_s for spec in run.workload.deployments)
    per_deployment = calls_per_deployment(run, DYNAMODB_READS) or 0.0
    return round(per_deployment * len(run.workload.deployments) / seconds, 5)


def event_path(run: DetectorRun) -> dict[str, float | None]:
    """Where the lag of event detections goes: EventBridge's delay, then our reads."""
    delays, after, lateness, after_succeeded = [], [], [], []
    returned = {o.index: o.returned_at for o in run.outcomes if o.returned_at is not None}
    for index, deployment_id in run.ids.items():
        delivered = run.delivered_at.get(deployment_id)
        terminal = run.terminal_at.get(deployment_id)
        if delivered is None or terminal is None:
            continue
        delays.append((delivered - terminal) * run.factor)
        planned = run.planned_delay.get(deployment_id)
        if planned is not None:
            lateness.append((delivered - terminal - planned) * run.factor)
        end = returned.get(index)
        if end is not None and end >= delivered:
            after.append((end - delivered) * run.factor)
            if run.final_status.get(deployment_id) == "Succeeded":
                after_succeeded.append((end - delivered) * run.factor)
    return {
        "event_delay_p95_s": _round(percentile(delays, 95)),
        "lag_after_event_p50_s": _round(percentile(after, 50)),
        "lag_after_event_p95_s": _round(percentile(after, 95)),
        # A failure's answer also gathers its explanation, and an early end is read later.
        "lag_after_event_succeeded_p95_s": _round(percentile(after_succeeded, 95)),
        "harness_event_lateness_p95_s": _round(percentile(lateness, 95)),
    }


def detector_figures(run: DetectorRun) -> dict[str, Any]:
    lag = lags(run)
    wrong = mismatches(run)
    figures: dict[str, Any] = {
        "lag_p50_s": _round(percentile(lag, 50)),
        "lag_p95_s": _round(percentile(lag, 95)),
        "lag_max_s": _round(max(lag) if lag else None),
        "codedeploy_calls_per_deployment": _round(calls_per_deployment(run, CODEDEPLOY)),
        "codedeploy_calls_per_deployment_ge_5min": _round(
            calls_per_deployment(run, CODEDEPLOY, long_only=True)
        ),
        "dynamodb_reads_per_deployment": _round(calls_per_deployment(run, DYNAMODB_READS), 1),
        "dynamodb_writes_per_deployment": _round(calls_per_deployment(run, DYNAMODB_WRITES)),
        "dynamodb_reads_per_wait_s": reads_per_wait_second(run),
        "correct": not wrong and len(lag) == len(run.outcomes),
        "mismatches": wrong,
        "detected_by": dict(Counter(o.detected_by or "none" for o in run.outcomes)),
        "events_lost": len(run.dropped_events),
        "terminal_events_lost": sum(
            state in ("SUCCESS", "FAILURE", "STOP") for _, state in run.dropped_events
        ),
    }
    if run.spec.table:
        figures.update(event_path(run))
    figures["harness"] = harness_figures(run)
    return figures


def harness_figures(run: DetectorRun) -> dict[str, Any]:
    """How far the harness itself may have bent the figures (real-seconds equivalents)."""
    overshoot = [seconds * run.factor for seconds in run.sleep_overshoots]
    return {
        "wall_s": round(run.wall_s, 1),
        "cpu_share_of_one_core": round(run.cpu_s / run.wall_s, 2) if run.wall_s else None,
        "sleep_overshoot_p99_s": _round(percentile(overshoot, 99), 3),
        "simulator_errors": run.simulator_errors,
    }


def comparisons(detectors: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """CodeDeploy calls per deployment, polling / event."""
    event, polling = detectors.get("event", {}), detectors.get("polling", {})

    def ratio(key: str) -> float | None:
        mine, theirs = event.get(key), polling.get(key)
        return None if theirs is None or not mine else round(theirs / mine, 2)

    return {
        "codedeploy_call_ratio_polling_to_event": {
            "all_deployments": ratio("codedeploy_calls_per_deployment"),
            "deployments_ge_5min": ratio("codedeploy_calls_per_deployment_ge_5min"),
        }
    }
