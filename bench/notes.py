"""The report's notes: how the figures were made, what a deployment costs, which targets were
missed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bench.targets import EVENT_LAG_P95_MAX_S
from bench.workload import DURATION_SPREAD, EVENT_DELAY_S, HISTORY_LENGTH
from shared.config import DEFAULTS

METHOD = (
    "Method: each detector ran in a fresh interpreter of its own, against its own in-process "
    "moto (CodeDeploy + DynamoDB) moved by the simulated CodeDeploy of "
    "tests/support/simulator.py; with the table, every surviving event went through the real "
    "recorder logic (RecorderService) into the table. Every trigger is one "
    "TriggerService.handle() in a thread of its own with a real (scaled) sleep and a Lambda "
    "deadline of 900 s; `botocore_waiter` is client.get_waiter('deployment_successful') with "
    "Delay 15 s, MaxAttempts 120. Lag = handler return - the instant the simulator set the "
    "terminal status; failed and stopped deployments count (the trigger raises "
    "DeploymentFailed, the waiter WaiterError). Calls are counted by a botocore before-call "
    "hook on the clients the trigger (or waiter) uses, so the recorder's writes are not in "
    "them. Before measuring, each process runs one short deployment per ending (warm-up)."
)
HARNESS = (
    "Harness adjustments, so that 50 Lambdas sharing one interpreter do not bend the figures: "
    "(1) GetItem and GetDeployment are answered from moto's objects at botocore's before-call "
    "point, after the request was validated, serialised and counted (moto's full path costs "
    "4-6 ms, 40-60 ms scaled); writes and CreateDeployment take moto's full path. "
    "(2) moto's UpdateItem takes ~20 ms real, so the recorder's write starts that much "
    "before the drawn delay ends ('event written later than drawn' shows the remainder). "
    "(3) The garbage collector's full passes over moto's heap (~0.25 s of frozen threads) are "
    "kept out of the measured run (gc.freeze). (4) The 50 triggers start over the first minute "
    "rather than in one instant. (5) The interpreter hands its lock to a woken thread within "
    "0.5 ms instead of 5 ms (sys.setswitchinterval), as a Lambda with its own CPU never waits "
    "behind another's work. (6) What one Lambda has to itself, the threads get too: Powertools "
    "logger keys per thread, metrics added one at a time, and moto's stores locked as DynamoDB "
    "and CodeDeploy serialise them. 'sleep overshoot' is how late the trigger's sleeps woke, "
    "in real-equivalent seconds."
)
MEMORY = (
    "Memory: peak_rss_mb is the VmHWM of a fresh interpreter that imports handlers.trigger and "
    "runs lambda_handler() once, waiting on a deployment, with boto3 talking HTTP to a moto "
    "server in another process (as the function talks to AWS)."
)

# Cost: us-east-1 prices, read 2026-06 (they change rarely, so far only downwards: re-read the
# pages before quoting a figure). Lambda: https://aws.amazon.com/lambda/pricing/ (arm64 GB-s;
# requests either architecture). DynamoDB on-demand, Standard table class, after the 2024-11-01
# cut (a read unit is a strongly consistent read of up to 4 KB):
# https://aws.amazon.com/dynamodb/pricing/on-demand/. Free: CodeDeploy to EC2, Lambda and ECS
# (https://aws.amazon.com/codedeploy/pricing/) and AWS service events on the default bus
# (https://aws.amazon.com/eventbridge/pricing/). CPU in proportion to memory, a full vCPU at
# 1,769 MB: https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html.
LAMBDA_ARM64_USD_PER_GB_S = 0.0000133334
LAMBDA_USD_PER_REQUEST = 0.20 / 1_000_000
DYNAMODB_USD_PER_READ_UNIT = 0.125 / 1_000_000
DYNAMODB_USD_PER_WRITE_UNIT = 0.625 / 1_000_000
VCPU_MB = 1769
DEPLOYMENT_S = 600.0
"""The costed deployment: 10 minutes from CreateDeployment to the terminal status."""
RECORDER_GB_S_PER_EVENT = 128 / 1024 * 0.05
"""The recorder (128 MB in lambda.tf), ~50 ms per event warm: an estimate, 1e-8 $ an event."""
EVENTS_PER_DEPLOYMENT = 2  # START and the terminal state, as the simulator sends them
COSTED = ("event", "event_fixed_1s", "polling", "botocore_waiter")
VARIABLES_TF = Path(__file__).resolve().parent.parent / "examples/terraform/variables.tf"


def event_lag_note(event: dict[str, Any], baseline: dict[str, Any]) -> str:
    lag, after = event.get("lag_p95_s"), event.get("lag_after_event_p95_s")
    verdict = "meets" if lag is not None and lag <= EVENT_LAG_P95_MAX_S else "misses"
    low, high = EVENT_DELAY_S
    text = (
        f"`event` lag p95 {lag} s {verdict} the {EVENT_LAG_P95_MAX_S:g} s target. It has two "
        f"parts. EventBridge's delivery: the terminal event's delay, p95 "
        f"{event.get('event_delay_p95_s')} s here (the workload draws it uniformly from "
        f"{low:g}-{high:g} s, so its own p95 is {low + 0.95 * (high - low):.2f} s by "
        f"construction). Ours: from the status in the table to the trigger's return, p95 {after} "
        f"s: the wait for the next table read, chosen by the read cadence "
        f"(shared/trigger/read_cadence.py: every "
        f"{DEFAULTS['STATUS_READ_MIN_INTERVAL_SECONDS']:g} s or a little more inside a window "
        f"around the group's recent durations, up to "
        f"{DEFAULTS['STATUS_READ_MAX_INTERVAL_SECONDS']:g} s while the end is far), then one "
        f"GetDeployment for the result's details. Succeeded deployments alone: p95 "
        f"{event.get('lag_after_event_succeeded_p95_s')} s; the tail is the failed and stopped "
        f"ones, whose answer also gathers the failure's explanation (several CodeDeploy reads, "
        f"each a few ms of moto's CPU, ten times that scaled) and whose early end the cadence "
        f"may read later."
    )
    if baseline.get("lag_after_event_p95_s") is not None:
        text += (
            f" `event_fixed_1s`, the same trigger reading every "
            f"{DEFAULTS['STATUS_READ_INTERVAL_SECONDS']:g} s in the same run: our part p95 "
            f"{baseline['lag_after_event_p95_s']} s with "
            f"{baseline.get('dynamodb_reads_per_deployment')} reads per deployment, against "
            f"{event.get('dynamodb_reads_per_deployment')} for `event`."
        )
    return text + (
        f" The workload gives each group {HISTORY_LENGTH} recent durations, and every duration "
        f"is the group's usual one x U({1 - DURATION_SPREAD:g}, {1 + DURATION_SPREAD:g}): an "
        "assumption (a service's deployments repeat the same start-up, health checks and "
        "configured waits); with a noisier history the window widens and its reads slow down to "
        "stay within the fixed cadence's read budget, and an end far from the usual one (an "
        f"early failure) is seen up to {DEFAULTS['STATUS_READ_MAX_INTERVAL_SECONDS']:g} s late."
    )


def call_note(ratios: dict[str, Any]) -> str:
    fallback = DEFAULTS["FALLBACK_POLL_INTERVAL_SECONDS"]
    return (
        f"CodeDeploy calls: `event` makes CreateDeployment, fallback GetDeployment polls at "
        f"{fallback:g} s, {3 * fallback:g} s, {7 * fallback:g} s... after creation (the interval "
        f"doubles from {fallback:g} s up to {DEFAULTS['FALLBACK_POLL_MAX_INTERVAL_SECONDS']:g} s "
        f"once events are seen) and one GetDeployment to fill in the result; `polling` one "
        f"GetDeployment every {DEFAULTS['POLL_INTERVAL_SECONDS']:g} s. Ratio polling / event: "
        f"{ratios['deployments_ge_5min']}x on deployments >= 5 min, "
        f"{ratios['all_deployments']}x on all."
    )


def module_memory_mb() -> int:
    """The trigger's memory as the Terraform module ships it (variable ``memory_size``)."""
    pattern = r'variable\s+"memory_size"\s*\{[^}]*?default\s*=\s*(\d+)'
    found = re.search(pattern, VARIABLES_TF.read_text(), re.S)
    if found is None:
        raise ValueError(f"no default for variable memory_size in {VARIABLES_TF}")
    return int(found.group(1))


def usd_per_deployment(figures: dict[str, Any], memory_mb: int, *, table: bool) -> float:
    """One 10-minute deployment: the trigger's GB-s and request, the recorder's, the table's
    reads (the measured rate per second of waiting; each counted as one unit, an upper bound
    for the eventually consistent Query) and writes."""
    events = EVENTS_PER_DEPLOYMENT if table else 0
    gb_s = memory_mb / 1024 * (DEPLOYMENT_S + (figures.get("lag_p50_s") or 0.0))
    reads = figures["dynamodb_reads_per_wait_s"] * DEPLOYMENT_S
    writes = (figures.get("dynamodb_writes_per_deployment") or 0.0) + events
    usd = (gb_s + events * RECORDER_GB_S_PER_EVENT) * LAMBDA_ARM64_USD_PER_GB_S
    usd += (1 + events) * LAMBDA_USD_PER_REQUEST
    return float(usd + reads * DYNAMODB_USD_PER_READ_UNIT + writes * DYNAMODB_USD_PER_WRITE_UNIT)


def cost(
    detectors: dict[str, dict[str, Any]], table_detectors: set[str], measured: dict[str, Any]
) -> dict[str, Any]:
    """``cost`` in results.json: the price of a deployment per detector, and its notes."""
    memory = module_memory_mb()
    usd = {
        name: round(usd_per_deployment(detectors[name], memory, table=name in table_detectors), 6)
        for name in COSTED
        if name in detectors
    }
    reads = detectors.get("event", {}).get("dynamodb_reads_per_wait_s", 0.0)
    waiting = memory / 1024 * DEPLOYMENT_S * LAMBDA_ARM64_USD_PER_GB_S
    lines = [
        f"One {DEPLOYMENT_S / 60:g}-minute deployment, arm64, the trigger at {memory} MB (the "
        f"module's default), us-east-1 prices read 2026-06 (sources in bench/notes.py): "
        + ", ".join(f"`{name}` ${value:.6f}" for name, value in usd.items())
        + f". Nearly all of it is the trigger's Lambda GB-seconds while it waits "
        f"(${waiting:.6f}); the table's reads add "
        f"${reads * DEPLOYMENT_S * DYNAMODB_USD_PER_READ_UNIT:.6f} for `event`; CodeDeploy calls "
        f"and AWS service events are free. `botocore_waiter` is costed as run in a Lambda of the "
        f"same memory (from a CI runner its AWS cost is 0 and the runner's minutes are billed).",
    ]
    peak = measured.get("peak_rss_mb")
    read_ms = ((measured.get("peak_rss_detail") or {}).get("cpu_ms_per_call") or {}).get("GetItem")
    cold = measured.get("cold_start") or {}
    import_s = cold.get("trigger_import_from_zip_s") or cold.get("trigger_import_s")
    if peak and read_ms and import_s:
        lines.append(
            f"Memory: at {memory} MB the waiting trigger's peak of {peak:g} MB leaves "
            f"{memory / peak:.1f}x headroom; Lambda's CPU share ({memory}/{VCPU_MB} of a vCPU) "
            f"stretches a status read's {read_ms:g} ms of CPU on a full core to about "
            f"{read_ms * VCPU_MB / memory:.0f} ms, and the import's {import_s:g} s to about "
            f"{import_s * VCPU_MB / memory:.1f} s if CPU-bound (at 128 MB: "
            f"{read_ms * VCPU_MB / 128:.0f} ms and {import_s * VCPU_MB / 128:.1f} s)."
        )
    return {"usd_per_deployment": usd, "trigger_memory_mb": memory, "notes": lines}


def import_note(cold: dict[str, Any]) -> str:
    text = (
        f"Cold start: {cold['runs']} fresh interpreters per probe (Python {cold['python']}, warm "
        f"file cache), probes taking turns; times are medians. This shared host's speed drifts "
        f"by up to 2x between interpreters, so each ratio to boto3 is the median over "
        f"interpreters that import boto3 and then the trigger, timing both parts: "
        f"{cold['trigger_to_boto3_ratio']}x from the dev venv (.pyc present; the rest is "
        f"Powertools, whose package __init__ loads its logger, metrics and tracer whichever "
        f"submodule is imported, then our modules; their records are NamedTuples, whose "
        f"methods come built, where a frozen dataclass has six compiled from source at every "
        f"import: CONTRIBUTING.md, Records)."
    )
    if cold.get("zip_trigger_to_boto3_ratio") is not None:
        text += (
            f" From the release zip, as Lambda runs it (python3.13 -S, the zip with its "
            f"cpython-313 .pyc, the runtime's boto3 compiled, no bytecode written): "
            f"{cold['zip_trigger_to_boto3_ratio']:g}x."
        )
    return text


def write_notes(results: dict[str, Any]) -> list[str]:
    factor, detectors = results["meta"]["scale_factor"], results["detectors"]
    found = [
        f"{METHOD} Detectors ran: {results['meta']['detectors_ran']}.",
        f"Scale: factor {factor:g}; the trigger's interval settings, the deployment durations, "
        f"the event delays, the Lambda deadline and the waiter's Delay were all divided by it, "
        f"and every time figure multiplied back.",
        HARNESS,
    ]
    if "event" in detectors:
        found.append(event_lag_note(detectors["event"], detectors.get("event_fixed_1s", {})))
    found.append(call_note(results["comparisons"]["codedeploy_call_ratio_polling_to_event"]))
    if results.get("cold_start"):
        found += [import_note(results["cold_start"]), MEMORY]
    missed = [t["name"] for t in results["targets"] if t["verdict"] == "FAIL"]
    return [*found, "Targets missed: " + (", ".join(missed) or "none") + "."]
