"""How long the input contract takes: once per container (compiling the schemas) and per warm
invocation. For the benchmark to call in a fresh interpreter, and runnable alone:

    .venv/bin/python -m tests.support.validation_timing
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any
from unittest import mock

import fastjsonschema

from shared.contract import request as contract


def validation_ms(request: dict[str, Any], runs: int = 2000) -> dict[str, float]:
    """Milliseconds of ``parse_request(request)``: the first call in a fresh container (the
    schema compiled, the running botocore checked) and the median and p99 of warm calls.

    The first call is the first of this interpreter: the contract keeps its compiled schemas
    for the life of the process, as a container does, and offers no way to forget them.
    """
    with mock.patch.object(fastjsonschema, "compile", wraps=fastjsonschema.compile) as compiling:
        started = time.perf_counter()
        contract.parse_request(request, "tf")
        first = (time.perf_counter() - started) * 1000
    if compiling.call_count == 0:
        raise RuntimeError("the schemas were compiled already: call this in a fresh interpreter")
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        contract.parse_request(request, "tf")
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "first_call_ms": round(first, 2),
        "warm_median_ms": round(statistics.median(samples), 4),
        "warm_p99_ms": round(samples[int(len(samples) * 0.99)], 4),
    }


def typical_request() -> dict[str, Any]:
    """An ECS blue/green request as the README's example sends it."""
    appspec = '{"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service"}}]}'
    return {
        "applicationName": "web",
        "deploymentGroupName": "web-blue-green",
        "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec}},
        "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
        "description": "release 42",
        "tf": {"action": "create", "prev_input": None},
    }


if __name__ == "__main__":
    print(json.dumps(validation_ms(typical_request())))
