"""One detector on the whole workload: N concurrent waits in scaled real time.

Each deployment gets a worker thread (one Lambda invocation, or one ``aws deploy wait``)
that starts at its seeded offset, creates its deployment, waits for the end and notes the
moment it returned. The simulated CodeDeploy advances in a background thread and, for
detectors with the status table, hands each surviving event to the real recorder logic.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from unittest import mock

from botocore.exceptions import WaiterError

from bench.names import APPLICATION, TABLE, group_name, request_for
from bench.workload import (
    START_SPREAD_S,
    DeploymentSpec,
    EventChannel,
    Workload,
    index_of,
    plan_for,
)
from bench.world import World, emulated_aws, fake_credentials
from shared.adapters.clients import FixedClients
from shared.config import DEFAULTS
from shared.errors import DeploymentFailed
from shared.observability import logger, metrics
from shared.recorder import RecorderService
from shared.status import is_terminal
from shared.trigger.dispatch import TriggerService
from tests.support.lambda_context import FakeLambdaContext
from tests.support.provision import record_past_successes
from tests.support.simulator import HOME_ORIGIN, SimulatedCodeDeploy

LAMBDA_TIMEOUT_S = 900.0
WAITER_DELAY_S = 15.0
WAITER_MAX_ATTEMPTS = 120
SCALED_SETTINGS = (
    "POLL_INTERVAL_SECONDS",
    "STATUS_READ_INTERVAL_SECONDS",
    "STATUS_READ_MIN_INTERVAL_SECONDS",
    "STATUS_READ_MAX_INTERVAL_SECONDS",
    "FALLBACK_POLL_INTERVAL_SECONDS",
    "FALLBACK_POLL_MAX_INTERVAL_SECONDS",
    "DEADLINE_MARGIN_SECONDS",
)
SIMULATOR_TICK_S = 0.005
"""Real seconds between simulator wake-ups when nothing is due (to notice new deployments)."""
WARM_UP_FACTOR = 600.0
"""The warm-up's deployments (60 s each) then last a tenth of a second."""
TERMINAL_STATES = ("SUCCESS", "FAILURE", "STOP")
_FAILURE = re.compile(r"CodeDeploy deployment (\S+) (\w+)")


@dataclass(frozen=True)
class DetectorSpec:
    name: str
    kind: Literal["trigger", "waiter"]
    table: bool
    loss_rate: float
    """The share of state-change events EventBridge never delivers."""
    fixed_read_cadence: bool = False
    """Read the table every STATUS_READ_INTERVAL_SECONDS, whatever the group's history
    (minimum = maximum = that interval): the cadence before the read policy."""


DETECTORS: tuple[DetectorSpec, ...] = (
    DetectorSpec("event", "trigger", True, 0.01),  # ours, the status table, default settings
    DetectorSpec("event_fixed_1s", "trigger", True, 0.01, fixed_read_cadence=True),
    DetectorSpec("polling", "trigger", False, 0.0),  # ours without the table: GetDeployment
    DetectorSpec("botocore_waiter", "waiter", False, 0.0),  # aws deploy wait
    DetectorSpec("lost_events", "trigger", True, 1.0),  # ours with the table, every event lost
)
DETECTOR_NAMED = {detector.name: detector for detector in DETECTORS}


@dataclass
class Outcome:
    """What one worker saw; times are time.monotonic() (real, unscaled)."""

    index: int
    deployment_id: str | None = None
    status: str | None = None
    detected_by: str | None = None
    returned_at: float | None = None
    error: str | None = None
    traceback: str | None = None
    """Of the exception that ended the worker, if one did (printed with the results)."""


@dataclass
class DetectorRun:
    spec: DetectorSpec
    factor: float
    workload: Workload
    outcomes: list[Outcome]
    ids: dict[int, str]
    final_status: dict[str, str]
    terminal_at: dict[str, float]
    delivered_at: dict[str, float]
    planned_delay: dict[str, float]
    """deploymentId -> the EventBridge delay drawn for its terminal event (scaled s)."""
    calls: dict[int, dict[str, int]]
    dropped_events: list[tuple[int, str]]
    sleep_overshoots: list[float]
    simulator_errors: list[str]
    wall_s: float
    cpu_s: float


class SleepMeter(list[float]):
    """The trigger's injected sleep: real, noting how late it woke (a harness-health figure)."""

    def sleep(self, seconds: float) -> None:
        start = time.monotonic()
        time.sleep(seconds)
        self.append(time.monotonic() - start - seconds)


@contextlib.contextmanager
def as_separate_lambdas(spec: DetectorSpec, factor: float) -> Iterator[None]:
    """Each worker thread gets what its own Lambda would, and its output stays out of the report.

    Settings are read per invocation: scaled here for the detector. The Powertools Logger and
    Metrics are one per process, and Lambda runs one invocation per process at a time:
    ``append_keys``/``remove_keys`` change the formatter's one key dict, which formatting a
    line iterates, and ``add_metric`` serialises the shared metric dict at 100 values. So keys
    live in a ContextVar (``thread_safe_*_keys``: a thread starts with none) and a lock makes
    ``add_metric`` one invocation's at a time.
    """
    values = {name: repr(DEFAULTS[name] / factor) for name in SCALED_SETTINGS}
    if spec.fixed_read_cadence:
        fixed = values["STATUS_READ_INTERVAL_SECONDS"]
        values |= dict.fromkeys(
            ("STATUS_READ_MIN_INTERVAL_SECONDS", "STATUS_READ_MAX_INTERVAL_SECONDS"), fixed
        )
    metrics_lock, add_metric = threading.Lock(), metrics.add_metric

    def add_metric_alone(*args: Any, **kwargs: Any) -> None:
        with metrics_lock:
            add_metric(*args, **kwargs)

    level = logger.log_level
    logger.setLevel("ERROR")
    try:
        with (
            mock.patch.dict(os.environ, values),
            mock.patch.object(logger, "append_keys", logger.thread_safe_append_keys),
            mock.patch.object(logger, "remove_keys", logger.thread_safe_remove_keys),
            mock.patch.object(metrics, "add_metric", add_metric_alone),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            os.environ.pop("STATUS_TABLE_NAME", None)
            if spec.table:
                os.environ["STATUS_TABLE_NAME"] = TABLE
            yield
    finally:
        logger.setLevel(level)
        metrics.clear_metrics()


@contextlib.contextmanager
def measured_alone() -> Iterator[None]:
    """Kept out of the run: the collector's full passes over moto's heap (~0.25 s holding the
    GIL, which a Lambda's small heap lacks; the run allocates a few tens of MB), and a woken
    trigger waiting up to 5 ms (50 ms scaled) for the interpreter lock behind another thread's
    CPU work (handed over within 0.5 ms instead), which a Lambda with its own CPU never does."""
    interval = sys.getswitchinterval()
    gc.collect()
    gc.freeze()
    gc.disable()
    sys.setswitchinterval(0.0005)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.enable()
        gc.unfreeze()


@contextlib.contextmanager
def advancing(
    simulator: SimulatedCodeDeploy, lock: threading.Lock, errors: list[str]
) -> Iterator[None]:
    """Advance the simulator in real time, waking exactly when its next step is due."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                with lock:
                    simulator.advance()
            except Exception:  # a broken harness must show in the report
                errors.append(traceback.format_exc())
            due = simulator.next_due()
            pause = SIMULATOR_TICK_S if due is None else due - time.monotonic()
            stop.wait(min(SIMULATOR_TICK_S, max(0.0, pause)))

    thread = threading.Thread(target=loop, name="simulated-codedeploy", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def wait_with_trigger(
    world: World, spec: DeploymentSpec, factor: float, sleeper: SleepMeter
) -> Outcome:
    # Every client the trigger uses is the world's, so that each call is counted (and reads
    # take the fast path): CreateDeployment's own, and the failure diagnostics'.
    clients = FixedClients(
        world.codedeploy, world.trigger_dynamodb, codedeploy_create=world.codedeploy_create
    )
    service = TriggerService(clients, sleep=sleeper.sleep)
    context = FakeLambdaContext(timeout_seconds=LAMBDA_TIMEOUT_S / factor)
    try:
        result = service.handle(trigger_input(spec.index), context)
    except DeploymentFailed as failed:
        found = _FAILURE.search(str(failed))
        if found is None:
            return Outcome(spec.index, returned_at=time.monotonic(), error=str(failed))
        return Outcome(spec.index, found.group(1), found.group(2), "raised", time.monotonic())
    found_id, status = str(result.get("deploymentId")), str(result.get("status"))
    ended = time.monotonic()
    by = result.get("detectedBy")
    return Outcome(spec.index, found_id, status, None if by is None else str(by), ended)


def trigger_input(index: int) -> dict[str, object]:
    """The deployment's request, without ``waitForRollback``: the bench measures how soon the
    end is seen, and following the rollback is a further wait (the simulator's rollback id
    names no deployment, so it would only add the fallback poll's 60 s to every failure)."""
    return {**request_for(index), "waitForRollback": False}


def wait_with_botocore(world: World, spec: DeploymentSpec, factor: float) -> Outcome:
    """What ``aws deploy wait deployment-successful`` and the GitHub Action do."""
    deployment_id = world.codedeploy.create_deployment(**request_for(spec.index))["deploymentId"]
    waiter = world.codedeploy.get_waiter("deployment_successful")
    config = {"Delay": WAITER_DELAY_S / factor, "MaxAttempts": WAITER_MAX_ATTEMPTS}
    try:
        waiter.wait(deploymentId=deployment_id, WaiterConfig=config)
    except WaiterError as error:
        returned = time.monotonic()
        info = error.last_response.get("deploymentInfo", {})
        status = info.get("status")
        if not is_terminal(str(status)):
            return Outcome(spec.index, deployment_id, status, None, returned, str(error))
        return Outcome(spec.index, deployment_id, status, "raised", returned)
    return Outcome(spec.index, deployment_id, "Succeeded", "waiter", time.monotonic())


def run_workers(
    detector: DetectorSpec, world: World, workload: Workload, factor: float, sleeper: SleepMeter
) -> list[Outcome]:
    outcomes: dict[int, Outcome] = {}
    start = time.monotonic()

    def work(spec: DeploymentSpec) -> None:
        world.meter.attribute_to(spec.index)
        time.sleep(max(0.0, start + spec.start_offset_s / factor - time.monotonic()))
        try:
            if detector.kind == "trigger":
                outcomes[spec.index] = wait_with_trigger(world, spec, factor, sleeper)
            else:
                outcomes[spec.index] = wait_with_botocore(world, spec, factor)
        except Exception as error:  # recorded: a wrong or missing result fails `correct`
            failed = f"{type(error).__name__}: {error}"
            outcomes[spec.index] = Outcome(
                spec.index, error=failed, traceback=traceback.format_exc()
            )

    threads = [
        threading.Thread(
            target=work, args=(spec,), name=f"{detector.name}-{spec.index}", daemon=True
        )
        for spec in workload.deployments
    ]
    for thread in threads:
        thread.start()
    # Every wait is bounded (Lambda deadline, MaxAttempts); this only guards the harness.
    limit = start + (START_SPREAD_S + WAITER_DELAY_S * WAITER_MAX_ATTEMPTS + 60) / factor
    for thread in threads:
        thread.join(timeout=max(0.0, limit - time.monotonic()))
    return [
        outcomes.get(spec.index, Outcome(spec.index, error="still waiting at the harness limit"))
        for spec in workload.deployments
    ]


@dataclass
class _Tracking:
    """What the simulator's hooks learn while the detector runs."""

    channel: EventChannel
    ids: dict[int, str] = field(default_factory=dict)
    delivered_at: dict[str, float] = field(default_factory=dict)
    write_s: float = 0.0
    """Moving average of call-to-applied for the recorder's writes (real seconds)."""

    def delay(self) -> float:
        """The drawn delay (state change -> status in the table), less the ~10-20 ms moto
        takes to apply the recorder's UpdateItem: the emulator's slowness stays out of the lag."""
        return max(0.0, self.channel.delay() - self.write_s)

    def note_write(self, seconds: float) -> None:
        self.write_s = seconds if self.write_s == 0.0 else 0.8 * self.write_s + 0.2 * seconds


def _simulator(
    world: World, detector: DetectorSpec, workload: Workload, factor: float, tracking: _Tracking
) -> SimulatedCodeDeploy:
    recorder = RecorderService(dynamodb_client=world.recorder_dynamodb, home=HOME_ORIGIN)

    def planner(deployment: Any) -> Any:
        index = index_of(deployment)
        tracking.ids[index] = deployment.deployment_id
        tracking.channel.learn(deployment.deployment_id, index)
        return plan_for(workload.deployments[index], factor)

    def deliver(event: dict[str, Any]) -> None:
        started = time.monotonic()
        recorder.handle(event)
        # From the moment moto applied the write, a read of the table can see it.
        written = world.locks.last_commit() or time.monotonic()
        tracking.note_write(written - started)
        if event["detail"]["state"] in TERMINAL_STATES:
            tracking.delivered_at[event["detail"]["deploymentId"]] = written

    # Without a table nobody reads events: do not spend the CPU delivering them.
    hand_over: Callable[[dict[str, Any]], Any] | None = deliver if detector.table else None
    return SimulatedCodeDeploy(
        clock=time.monotonic,
        deliver=hand_over,
        planner=planner,
        event_delay=tracking.delay,
        drop_event=tracking.channel.drop,
    )


def measure(name: str, n: int, seed: int, factor: float, *, warm_up: bool = True) -> DetectorRun:
    """Warm up every code path (first-use imports and caches stay out of the measured run),
    then run one detector on the seeded workload; meant for a process of its own."""
    detector = DETECTOR_NAMED[name]
    with fake_credentials():
        if warm_up:
            run_detector(detector, Workload.warm_up(), WARM_UP_FACTOR)
        return run_detector(detector, Workload.generate(n, seed), factor)


def run_detector(detector: DetectorSpec, workload: Workload, factor: float) -> DetectorRun:
    n = len(workload.deployments)
    sleeper = SleepMeter()
    errors: list[str] = []
    with as_separate_lambdas(detector, factor), emulated_aws(n) as (world, locks):
        for spec in workload.deployments if detector.table else ():
            # The group's earlier deployments in the table, as the recorder left them.
            durations = [seconds / factor for seconds in spec.recent_durations_s]
            group = group_name(spec.index)
            record_past_successes(world.recorder_dynamodb, TABLE, APPLICATION, group, durations)
        tracking = _Tracking(EventChannel(workload, detector.loss_rate, factor))
        simulator = _simulator(world, detector, workload, factor, tracking)
        with advancing(simulator, locks.create, errors), measured_alone():
            wall0, cpu0 = time.monotonic(), time.process_time()
            outcomes = run_workers(detector, world, workload, factor, sleeper)
            wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
        final = {did: simulator.final_status(did) for did in tracking.ids.values()}
        return DetectorRun(
            spec=detector,
            factor=factor,
            workload=workload,
            outcomes=outcomes,
            ids=dict(tracking.ids),
            final_status=final,
            terminal_at=dict(simulator.terminal_events),
            delivered_at=dict(tracking.delivered_at),
            calls={index: dict(counter) for index, counter in world.meter.calls.items()},
            planned_delay={
                deployment_id: delay
                for (deployment_id, state), delay in tracking.channel.planned_delay.items()
                if state in TERMINAL_STATES
            },
            dropped_events=list(tracking.channel.dropped),
            sleep_overshoots=list(sleeper),
            simulator_errors=errors,
            wall_s=wall,
            cpu_s=cpu,
        )
