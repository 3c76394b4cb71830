"""What one deployment costs on AWS, per detector, from the measured calls.

Published us-east-1 prices as constants, each with its source and the date it was read.
The model is one 10-minute deployment; counts that grow with the wait (status reads,
GetDeployment polls) are the measured rate per second of waiting times that wait, the
rest (CreateDeployment, the result's fill-in, idempotency and status writes, events) are
per deployment as measured.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

PRICES_READ_ON = "2026-06"
"""When the prices below were read (us-east-1). They change rarely, and only downwards so
far; re-read the pages before quoting a figure."""

LAMBDA_ARM64_USD_PER_GB_S = 0.0000133334
"""Lambda duration, arm64, first 7.5 billion GB-s a month. https://aws.amazon.com/lambda/pricing/"""
LAMBDA_USD_PER_REQUEST = 0.20 / 1_000_000
"""Lambda requests, either architecture. https://aws.amazon.com/lambda/pricing/"""
DYNAMODB_USD_PER_READ_UNIT = 0.125 / 1_000_000
"""DynamoDB on-demand, Standard table class, per read request unit (one strongly consistent
read of up to 4 KB, or two eventually consistent ones), after the price cut of
2024-11-01. https://aws.amazon.com/dynamodb/pricing/on-demand/"""
DYNAMODB_USD_PER_WRITE_UNIT = 0.625 / 1_000_000
"""DynamoDB on-demand, Standard, per write request unit (one write of up to 1 KB).
https://aws.amazon.com/dynamodb/pricing/on-demand/"""
CODEDEPLOY_USD_PER_CALL = 0.0
"""CodeDeploy bills nothing for deployments to Amazon EC2, AWS Lambda or Amazon ECS, and no
API call is billed; only on-premises instance updates are ($0.02 each).
https://aws.amazon.com/codedeploy/pricing/"""
EVENTBRIDGE_USD_PER_AWS_SERVICE_EVENT = 0.0
"""State-change events that AWS services put on the default event bus, and their delivery to
a rule's targets, are free (custom events cost $1.00 per million).
https://aws.amazon.com/eventbridge/pricing/"""

DEPLOYMENT_S = 600.0
"""The costed deployment: 10 minutes from CreateDeployment to the terminal status."""
RECORDER_MEMORY_MB = 128
"""examples/terraform/lambda.tf gives the recorder 128 MB."""
RECORDER_BILLED_S = 0.05
"""Per event, warm: one conditional UpdateItem and a log line. An estimate (the recorder is
not timed here); at 128 MB it is 1e-8 $ per event, so its precision does not matter."""
EVENTS_PER_DEPLOYMENT = 2
"""START and the terminal state, what the simulated CodeDeploy sends (a blue/green deployment
with a reroute wait adds READY)."""
VCPU_MB = 1769
"""Lambda gives a function one vCPU's worth of CPU time per second at 1,769 MB, in proportion
below. https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"""
MEMORY_CANDIDATES_MB = (128, 192, 256)
VARIABLES_TF = Path(__file__).resolve().parent.parent / "examples/terraform/variables.tf"
COSTED = ("event", "event_fixed_1s", "polling", "botocore_waiter")


def module_memory_mb(path: Path = VARIABLES_TF) -> int:
    """The trigger's memory as the Terraform module ships it (variable ``memory_size``)."""
    found = re.search(
        r'variable\s+"memory_size"\s*\{[^}]*?default\s*=\s*(\d+)', path.read_text(), re.S
    )
    if found is None:
        raise ValueError(f"no default for variable memory_size in {path}")
    return int(found.group(1))


def usage(figures: dict[str, Any], *, table: bool) -> dict[str, float]:
    """One 10-minute deployment's billable quantities for one detector."""
    lag = figures.get("lag_p50_s") or 0.0
    rates = figures["calls_per_wait_s"]
    reads = rates["dynamodb_reads"] * DEPLOYMENT_S
    writes = figures.get("dynamodb_writes_per_deployment") or 0.0
    return {
        "trigger_seconds": round(DEPLOYMENT_S + lag, 2),
        "trigger_requests": 1,
        "recorder_invocations": EVENTS_PER_DEPLOYMENT if table else 0,
        "dynamodb_read_units": round(reads, 1),
        "dynamodb_write_units": round(writes + (EVENTS_PER_DEPLOYMENT if table else 0), 2),
        "codedeploy_calls": round(rates["codedeploy"] * DEPLOYMENT_S, 1),
        "eventbridge_events": EVENTS_PER_DEPLOYMENT if table else 0,
    }


def priced(quantities: dict[str, float], memory_mb: int) -> dict[str, float]:
    """USD per line of one deployment's bill."""
    gb_s = memory_mb / 1024 * quantities["trigger_seconds"]
    recorder_gb_s = RECORDER_MEMORY_MB / 1024 * RECORDER_BILLED_S
    invocations = quantities["trigger_requests"] + quantities["recorder_invocations"]
    lines = {
        "lambda_trigger_gb_s": gb_s * LAMBDA_ARM64_USD_PER_GB_S,
        "lambda_recorder_gb_s": quantities["recorder_invocations"]
        * recorder_gb_s
        * LAMBDA_ARM64_USD_PER_GB_S,
        "lambda_requests": invocations * LAMBDA_USD_PER_REQUEST,
        "dynamodb_reads": quantities["dynamodb_read_units"] * DYNAMODB_USD_PER_READ_UNIT,
        "dynamodb_writes": quantities["dynamodb_write_units"] * DYNAMODB_USD_PER_WRITE_UNIT,
        "codedeploy_calls": quantities["codedeploy_calls"] * CODEDEPLOY_USD_PER_CALL,
        "eventbridge": quantities["eventbridge_events"] * EVENTBRIDGE_USD_PER_AWS_SERVICE_EVENT,
    }
    return {name: round(value, 8) for name, value in lines.items()}


def memory_choice(
    peak_rss_mb: float | None, cpu_ms: dict[str, float] | None, cold_import_s: float | None
) -> list[dict[str, Any]]:
    """What each candidate memory size gives: headroom over the measured peak, and the
    CPU-bound time of one status read and of the trigger's import at its CPU share (the
    measured CPU time on one full core, scaled by VCPU_MB / memory)."""
    rows = []
    for memory in MEMORY_CANDIDATES_MB:
        share = min(1.0, memory / VCPU_MB)
        read_ms = None if not cpu_ms else cpu_ms.get("GetItem")
        rows.append(
            {
                "memory_mb": memory,
                "headroom_over_peak_rss": None
                if not peak_rss_mb
                else round(memory / peak_rss_mb, 1),
                "status_read_cpu_ms": None if read_ms is None else round(read_ms / share, 1),
                "import_cpu_s": None if cold_import_s is None else round(cold_import_s / share, 2),
                "usd_per_10min_wait": round(
                    memory / 1024 * DEPLOYMENT_S * LAMBDA_ARM64_USD_PER_GB_S, 6
                ),
            }
        )
    return rows


def cost_figures(
    detectors: dict[str, dict[str, Any]], table_detectors: set[str], footprint: dict[str, Any]
) -> dict[str, Any]:
    """``cost`` in results.json: USD per deployment, its breakdown, the model and prices."""
    memory = module_memory_mb()
    breakdown: dict[str, Any] = {}
    for name in COSTED:
        if name not in detectors:
            continue
        quantities = usage(detectors[name], table=name in table_detectors)
        lines = priced(quantities, memory)
        breakdown[name] = {"quantities": quantities, "usd": lines}
    cold = footprint.get("cold_start") or {}
    return {
        "usd_per_deployment": {
            name: round(sum(item["usd"].values()), 6) for name, item in breakdown.items()
        },
        "breakdown": breakdown,
        "model": {
            "deployment_s": DEPLOYMENT_S,
            "architecture": "arm64",
            "trigger_memory_mb": memory,
            "recorder_memory_mb": RECORDER_MEMORY_MB,
            "recorder_billed_s_per_event": RECORDER_BILLED_S,
            "events_per_deployment": EVENTS_PER_DEPLOYMENT,
            "botocore_waiter": "the waiter run in a Lambda function of the same memory; run "
            "from a CI runner instead its AWS cost is 0 and the runner's minutes are billed",
            "read_units": "every read call counted as 1 read unit: strongly consistent "
            "GetItem of an item < 4 KB; the one Query on the group index is eventually "
            "consistent, 0.5 unit for its < 4 KB (an upper bound)",
        },
        "prices": {
            "read_on": PRICES_READ_ON,
            "region": "us-east-1",
            "lambda_arm64_usd_per_gb_s": LAMBDA_ARM64_USD_PER_GB_S,
            "lambda_usd_per_request": LAMBDA_USD_PER_REQUEST,
            "dynamodb_usd_per_read_unit": DYNAMODB_USD_PER_READ_UNIT,
            "dynamodb_usd_per_write_unit": DYNAMODB_USD_PER_WRITE_UNIT,
            "codedeploy_usd_per_call": CODEDEPLOY_USD_PER_CALL,
            "eventbridge_usd_per_aws_service_event": EVENTBRIDGE_USD_PER_AWS_SERVICE_EVENT,
        },
        "memory": memory_choice(
            footprint.get("peak_rss_mb"),
            (footprint.get("peak_rss_detail") or {}).get("cpu_ms_per_call"),
            cold.get("trigger_import_from_zip_s") or cold.get("trigger_import_s"),
        ),
    }
