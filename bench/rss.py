"""Peak memory (max RSS) of a trigger waiting on a deployment, and its CPU per AWS call.

``over-http``: a moto server, the simulated CodeDeploy and the recorder run in one process;
the trigger runs in a fresh interpreter of its own, as in Lambda
(``handlers.trigger.lambda_handler``, boto3 clients over HTTP via ``AWS_ENDPOINT_URL``),
waits for a deployment to end, and reports its own peak RSS (``trigger-child``).

Each mode writes one JSON object to the file named by ``--out``. This module imports
nothing heavy at the top: the trigger child must load only what the function loads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REGION = "us-east-1"
WAIT_S = 40.0
"""The probe deployment's length in real seconds (scaled like everything else); shorter than
the first fallback poll, so the end is seen through the event as usual."""


def peak_rss_mb() -> float:
    """This process's peak resident set size, MiB.

    VmHWM, not getrusage's ru_maxrss: Linux carries the parent's peak over into a child's
    ru_maxrss across fork/exec, so a trigger started by the 100 MB emulator process would
    report the emulator's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)  # kB
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _write(path: str, result: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(result))


class CallCpu:
    """CPU time of each AWS call, request build to parsed response (this thread's process
    time: a waiting trigger has one thread), by operation. Over HTTP to a local server, so
    it is the client's side of a call: what the function's CPU share has to pay for."""

    def __init__(self) -> None:
        self._started = 0.0
        self.seconds: dict[str, list[float]] = {}

    def start(self, **_kwargs: Any) -> None:
        self._started = time.process_time()

    def stop(self, model: Any, **_kwargs: Any) -> None:
        self.seconds.setdefault(model.name, []).append(time.process_time() - self._started)

    def median_ms(self) -> dict[str, float]:
        import statistics

        return {
            name: round(statistics.median(values) * 1000, 2)
            for name, values in sorted(self.seconds.items())
        }


def trigger_child(out: str, factor: float) -> None:
    """The Lambda function's process: import the handler, wait once, report."""
    started = time.perf_counter()
    from bench.names import request_for
    from handlers.trigger import lambda_handler
    from tests.support.lambda_context import FakeLambdaContext

    after_import = peak_rss_mb()
    import boto3

    # The function's clients come from boto3's default session, made on first use: hooks on
    # the session are copied into them.
    boto3.setup_default_session()
    meter = CallCpu()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-parameter-build.*.*", meter.start)
    boto3.DEFAULT_SESSION.events.register("after-call.*.*", meter.stop)
    context = FakeLambdaContext(timeout_seconds=900 / factor)
    result = lambda_handler(request_for(0), context)
    _write(
        out,
        {
            "peak_rss_mb": peak_rss_mb(),
            "after_import_mb": after_import,
            "status": result.get("status"),
            "detected_by": result.get("detectedBy"),
            "seconds": round(time.perf_counter() - started, 2),
            "cpu_ms_per_call": meter.median_ms(),
            "calls": {name: len(values) for name, values in sorted(meter.seconds.items())},
        },
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _child_env(endpoint: str, factor: float) -> dict[str, str]:
    from bench.detectors import SCALED_SETTINGS
    from bench.footprint import clean_env
    from bench.names import TABLE
    from shared.config import DEFAULTS

    env = clean_env()
    env.update({name: repr(DEFAULTS[name] / factor) for name in SCALED_SETTINGS})
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        STATUS_TABLE_NAME=TABLE,
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
    return env


def over_http(out: str, factor: float) -> None:
    """Serve moto + simulator + recorder here; run the trigger in a child interpreter."""
    import boto3
    from moto.server import ThreadedMotoServer

    from bench.names import TABLE
    from bench.world import create_resources, fake_credentials, serialised_backends
    from shared.recorder import RecorderService
    from tests.support.simulator import HOME_ORIGIN, SimulatedCodeDeploy, succeed_after

    os.environ["STATUS_TABLE_NAME"] = TABLE  # the recorder reads it
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        with fake_credentials(), serialised_backends():
            codedeploy = boto3.client("codedeploy", endpoint_url=endpoint, region_name=REGION)
            dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
            create_resources(codedeploy, dynamodb, 1)
            simulator = SimulatedCodeDeploy(
                clock=time.monotonic,
                deliver=RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN).handle,
                planner=lambda _d: succeed_after(WAIT_S / factor, start=1 / factor),
                event_delay=lambda: 0.5 / factor,
            )
            child_out = f"{out}.child"
            with simulator.running(tick=0.005):
                subprocess.run(
                    [
                        *(sys.executable, "-m", "bench.rss", "trigger-child"),
                        *("--out", child_out, "--factor", repr(factor)),
                    ],
                    cwd=Path(__file__).resolve().parent.parent,
                    env=_child_env(endpoint, factor),
                    capture_output=True,
                    check=True,
                    timeout=900 / factor + 120,
                )
        _write(out, json.loads(Path(child_out).read_text()))
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=("over-http", "trigger-child"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--factor", type=float, required=True)
    args = parser.parse_args()
    modes = {"over-http": over_http, "trigger-child": trigger_child}
    modes[args.mode](args.out, args.factor)


if __name__ == "__main__":
    main()
