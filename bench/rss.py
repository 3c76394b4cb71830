"""Peak memory (max RSS) of a trigger waiting on a deployment, and its CPU per AWS call.

``python -m bench.rss over-http OUT FACTOR``: a moto server, the simulated CodeDeploy and the
recorder run in this process; the trigger runs in a fresh interpreter of its own, as in Lambda
(``handlers.trigger.lambda_handler``, boto3 clients over HTTP via ``AWS_ENDPOINT_URL``), waits
for a deployment to end, and writes its own figures as JSON to OUT (``trigger-child``). This
module imports nothing heavy at the top: the trigger child must load only what the function
loads.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

WAIT_S = 40.0
"""The probe deployment's length in real seconds (scaled like everything else); shorter than
the first fallback poll, so the end is seen through the event as usual."""


def peak_rss_mb() -> float:
    """This process's peak resident set size, MiB: VmHWM, not getrusage's ru_maxrss, which
    Linux carries over from the parent across fork/exec (the 100 MB emulator process)."""
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.exists() else ():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)  # kB
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def trigger_child(out: str, factor: float) -> None:
    """The Lambda function's process: import the handler, wait once, report.

    CPU time of each AWS call, request build to parsed response, by operation (this thread's
    process time: a waiting trigger has one thread): over HTTP to a local server, it is the
    client's side of a call, what the function's CPU share has to pay for."""
    import boto3

    from bench.names import request_for
    from handlers.trigger import lambda_handler
    from tests.support.lambda_context import FakeLambdaContext

    # The function's clients come from boto3's default session, made on first use: hooks on
    # the session are copied into them.
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    started: list[float] = []
    seconds: dict[str, list[float]] = {}

    def stop(model: Any, **_kwargs: Any) -> None:
        seconds.setdefault(model.name, []).append(time.process_time() - started.pop())

    events = boto3.DEFAULT_SESSION.events
    events.register("before-parameter-build.*.*", lambda **_: started.append(time.process_time()))
    events.register("after-call.*.*", stop)
    lambda_handler(request_for(0), FakeLambdaContext(timeout_seconds=900 / factor))
    cpu_ms = {name: round(statistics.median(s) * 1000, 2) for name, s in sorted(seconds.items())}
    Path(out).write_text(json.dumps({"peak_rss_mb": peak_rss_mb(), "cpu_ms_per_call": cpu_ms}))


def over_http(out: str, factor: float) -> None:
    """Serve moto + simulator + recorder here; run the trigger in a child interpreter."""
    import boto3
    from moto.server import ThreadedMotoServer

    from bench.detectors import SCALED_SETTINGS
    from bench.footprint import ROOT, clean_env
    from bench.names import REGION, TABLE
    from bench.world import create_resources, fake_credentials, serialised_backends
    from shared.config import DEFAULTS
    from shared.recorder import RecorderService
    from tests.support.simulator import HOME_ORIGIN, SimulatedCodeDeploy, succeed_after

    os.environ["STATUS_TABLE_NAME"] = TABLE  # the recorder reads it
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = "http://{}:{}".format(*server.get_host_and_port())  # port 0: a free one
    env = clean_env() | {name: repr(DEFAULTS[name] / factor) for name in SCALED_SETTINGS}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        STATUS_TABLE_NAME=TABLE,
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
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
            with simulator.running(tick=0.005):
                subprocess.run(
                    [sys.executable, "-m", "bench.rss", "trigger-child", out, repr(factor)],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    check=True,
                    timeout=900 / factor + 120,
                )
    finally:
        server.stop()


if __name__ == "__main__":
    mode, out, factor = sys.argv[1:]
    {"over-http": over_http, "trigger-child": trigger_child}[mode](out, float(factor))
