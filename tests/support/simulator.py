"""A simulated CodeDeploy: moves moto's deployments through their states on a clock
and emits the EventBridge state-change events real CodeDeploy would send.

Each deployment also gets targets with lifecycle events (and, when it fails,
the failing hook's diagnostics) for its compute platform, as
tests/support/deployment_targets.py builds them; with ``create_rollbacks`` a
failed deployment that carries rollback info gets a real rollback deployment
(``creator: codeDeployRollback``), which then runs its own plan.

The deployment group's own blue/green configuration, where it has one (Terraform's
``aws_codedeploy_deployment_group`` sets it), adds CodeDeploy's waits to a plan that ends
Succeeded (:func:`with_group_waits`): a Ready phase held until ContinueDeployment(READY_WAIT)
or ``deploymentReadyOption``'s timeout, and a termination wait (InProgress with
``instanceTerminationWaitTimeStarted``) held until ContinueDeployment(TERMINATION_WAIT) or
``terminationWaitTimeInMinutes``. ``minute_seconds`` says how long such a minute lasts here.
ContinueDeployment and StopDeployment reach the simulator through moto
(tests/support/moto_codedeploy.py).

Time is whatever ``clock`` says, so the same simulator serves freezegun tests
(``advance()`` after every fake sleep), the real-time demo (a background
thread) and the time-scaled benchmark.
"""

from __future__ import annotations

import heapq
import itertools
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, timedelta
from typing import Any

from shared.config import EventOrigin
from shared.status import EVENT_STATE_TO_STATUS
from shared.timestamps import to_iso, utc_now
from tests.support import moto_codedeploy
from tests.support.deployment_targets import (
    record_replacement_task_failure,
    targets_for,
)
from tests.support.moto_codedeploy import ACCOUNT_ID

HOME_ORIGIN = EventOrigin(ACCOUNT_ID, "us-east-1")
"""Where the simulator's events come from: what a recorder fed by it must call its own."""

STATUS_TO_EVENT_STATE: dict[str, str] = {
    status: state for state, status in EVENT_STATE_TO_STATUS.items()
}
FAIL_MARKER = "simulate:fail"
STOP_MARKER = "simulate:stop"
NO_EVENTS_MARKER = "simulate:no-events"
ROLLBACK_FAILS_MARKER = "simulate:rollback-fails"
"""With ``create_rollbacks``: the rollback of this deployment fails too."""
READY_MARKER = "simulate:ready"
"""Blue/green with a wait before rerouting: Ready halfway between InProgress and the end."""
SECONDS_MARKER = re.compile(r"simulate:seconds=(\d+(?:\.\d+)?)")
"""``simulate:seconds=N``: the deployment ends N seconds after creation (longer waits)."""

HEALTH_FAILURE = {
    "code": "HEALTH_CONSTRAINTS",
    "message": "The overall deployment failed because too many individual instances failed "
    "deployment, too few healthy instances are available for deployment, or some instances "
    "in your deployment group are experiencing problems.",
}
MANUAL_STOP = {"code": "MANUAL_STOP", "message": "The deployment was stopped by a user."}
READY_TIMEOUT_STOP = {
    "code": "TIMEOUT",
    "message": "The deployment was stopped because traffic was not rerouted to the replacement "
    "environment before the deployment group's wait time ended.",
}
"""The simulator's wording for a Ready wait that ran out with STOP_DEPLOYMENT (AWS documents
the Stopped status, not the errorInformation)."""

READY_WAIT = "READY_WAIT"
TERMINATION_WAIT = "TERMINATION_WAIT"


@dataclass(frozen=True)
class Hold:
    """Once its step is applied, the deployment waits here: until ContinueDeployment with
    ``wait_type``, or ``minutes`` of the group's clock (None: no timeout), after which it
    goes on (``stop_on_timeout`` False) or ends Stopped."""

    wait_type: str
    minutes: float | None
    stop_on_timeout: bool = False


@dataclass(frozen=True)
class Step:
    """At ``after`` seconds past creation the deployment moves to ``status``."""

    after: float
    status: str
    error: dict[str, str] | None = None
    rollback: dict[str, str] | None = None
    hold: Hold | None = None
    termination_wait: bool = False
    """Sets ``instanceTerminationWaitTimeStarted``: traffic is on the replacement and the
    original environment waits for the group's termination wait."""
    event: bool = True
    """Whether CodeDeploy sends a state-change event for this step (it has no state for a
    return from Ready to InProgress or for the start of the termination wait)."""


Plan = list[Step]


def succeed_after(duration: float, *, start: float = 1.0) -> Plan:
    return [Step(min(start, duration / 2), "InProgress"), Step(duration, "Succeeded")]


def fail_after(duration: float, *, start: float = 1.0) -> Plan:
    rollback = {
        "rollbackDeploymentId": "d-ROLLBACK1",
        "rollbackMessage": "Deployment rolled back by deployment d-ROLLBACK1",
    }
    return [
        Step(min(start, duration / 2), "InProgress"),
        Step(duration, "Failed", error=HEALTH_FAILURE, rollback=rollback),
    ]


def stop_after(duration: float, *, start: float = 1.0) -> Plan:
    return [
        Step(min(start, duration / 2), "InProgress"),
        Step(duration, "Stopped", error=MANUAL_STOP),
    ]


def plan_from_description(deployment: Any, duration: float = 5.0, *, start: float = 1.0) -> Plan:
    """Default planner: the description's marker chooses the ending."""
    description = deployment.description or ""
    seconds = SECONDS_MARKER.search(description)
    if seconds is not None:
        duration = float(seconds.group(1))
    if FAIL_MARKER in description:
        plan = fail_after(duration, start=start)
    elif STOP_MARKER in description:
        plan = stop_after(duration, start=start)
    else:
        plan = succeed_after(duration, start=start)
    if READY_MARKER in description:
        # Ready (READY event), then the ending once the wait before rerouting is over.
        started = plan[0].after
        plan.insert(1, Step(started + (duration - started) / 2, "Ready"))
    return plan


def is_blue_green(deployment: Any) -> bool:
    """Whether the deployment is blue/green on EC2/on-premises or ECS: what ContinueDeployment
    serves (BlueInstanceTerminationOption "does not apply to Lambda deployments", botocore
    model)."""
    style = moto_codedeploy.own_deployment_style(deployment)
    platform = getattr(deployment.application, "compute_platform", None) or "Server"
    return style.get("deploymentType") == "BLUE_GREEN" and platform != "Lambda"


def _blue_green(deployment: Any) -> dict[str, Any]:
    """The deployment's own blueGreenDeploymentConfiguration (its group's when it was created,
    as GetDeployment answers it) for a blue/green deployment ({}: none)."""
    if not is_blue_green(deployment) or deployment.creator == "codeDeployRollback":
        # A rollback reroutes to the original environment: no Ready gate, no second wait.
        return {}
    return dict(moto_codedeploy.own_blue_green_configuration(deployment))


def ready_hold(deployment: Any) -> Hold | None:
    """The Ready wait of the group's deploymentReadyOption (API reference,
    DeploymentReadyOption): STOP_DEPLOYMENT holds Ready until ContinueDeployment(READY_WAIT)
    and ends Stopped after waitTimeInMinutes; CONTINUE_DEPLOYMENT reroutes at once (AWS
    rejects a wait time with it for ECS: terraform-provider-aws issue 9653), or here after
    waitTimeInMinutes when one is given."""
    option = _blue_green(deployment).get("deploymentReadyOption") or {}
    action = option.get("actionOnTimeout")
    minutes = float(option.get("waitTimeInMinutes") or 0)
    if action == "STOP_DEPLOYMENT":
        return Hold(READY_WAIT, minutes, stop_on_timeout=True)
    if action == "CONTINUE_DEPLOYMENT" and minutes > 0:
        return Hold(READY_WAIT, minutes)
    return None


def termination_hold(deployment: Any) -> Hold | None:
    """The termination wait of terminateBlueInstancesOnDeploymentSuccess (API reference,
    BlueInstanceTerminationOption): with TERMINATE, terminationWaitTimeInMinutes (at most
    2880) after all traffic has moved; KEEP_ALIVE or no wait: none."""
    option = _blue_green(deployment).get("terminateBlueInstancesOnDeploymentSuccess") or {}
    minutes = float(option.get("terminationWaitTimeInMinutes") or 0)
    if option.get("action") == "TERMINATE" and minutes > 0:
        return Hold(TERMINATION_WAIT, minutes)
    return None


def with_group_waits(deployment: Any, plan: Plan) -> Plan:
    """``plan`` with the waits of the deployment group's blue/green configuration: a held
    Ready phase (halfway, or the plan's own Ready step) followed by rerouting (InProgress,
    no event), and a termination wait between the moment traffic has moved and Succeeded.
    A plan that does not end Succeeded, or a group without such waits, is left as it is."""
    if not plan or plan[-1].status != "Succeeded":
        return plan
    ready, termination = ready_hold(deployment), termination_hold(deployment)
    steps = list(plan)
    if ready is not None:
        found = next((i for i, step in enumerate(steps) if step.status == "Ready"), None)
        if found is None:
            started = steps[0].after if len(steps) > 1 else 0.0
            found = len(steps) - 1
            steps.insert(found, Step(started + (steps[-1].after - started) / 2, "Ready"))
        at = steps[found].after
        steps[found] = replace(steps[found], hold=ready)
        steps.insert(found + 1, Step(at, "InProgress", event=False))
    if termination is not None:
        end = steps[-1].after
        steps.insert(
            len(steps) - 1,
            Step(end, "InProgress", hold=termination, termination_wait=True, event=False),
        )
    return steps


def drop_marked(event: dict[str, Any]) -> bool:
    """A ``drop_event`` hook: no events for a deployment whose description has
    NO_EVENTS_MARKER (only GetDeployment polling can see how it ends)."""
    found = moto_codedeploy.deployments(event["region"], event["account"])
    description = found[event["detail"]["deploymentId"]].description or ""
    return NO_EVENTS_MARKER in description


def _rolls_back_on(deployment: Any, event: str) -> bool:
    """The deployment's autoRollbackConfiguration, else its group's (CreateDeployment docs:
    the deployment's own configuration overrides the group's), names ``event``
    (DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM)."""
    config = deployment.auto_rollback_configuration or getattr(
        deployment.deployment_group, "auto_rollback_configuration", None
    )
    events = (config or {}).get("events") or []
    return bool(config and config.get("enabled") and event in events)


def _rollback_event(step: Step) -> str | None:
    """The AutoRollbackEvent a step's ending stands for: a failure, or a stop by an alarm
    (ALARM_ACTIVE). A manual stop rolls back only when StopDeployment asks."""
    if step.status == "Failed":
        return "DEPLOYMENT_FAILURE"
    if step.status == "Stopped" and (step.error or {}).get("code") == "ALARM_ACTIVE":
        return "DEPLOYMENT_STOP_ON_ALARM"
    return None


def last_good_revision(deployments: dict[str, Any], deployment: Any) -> Any:
    """The revision of the last successful deployment of ``deployment``'s group, None when
    there is none: what a rollback redeploys (user guide, "Redeploy and roll back a
    deployment") and what ``deploymentMode: RESTART`` restarts."""
    done = [
        d
        for d in list(deployments.values())
        if d.application_name == deployment.application_name
        and d.deployment_group_name == deployment.deployment_group_name
        and d.status == "Succeeded"
        and d.revision
    ]
    latest = max(done, key=lambda d: d.complete_time, default=None)
    return latest.revision if latest is not None else None


def deployment_event(
    deployment: Any, state: str, region: str, account: str = ACCOUNT_ID
) -> dict[str, Any]:
    """The EventBridge envelope of a CodeDeploy deployment state change."""
    app, group = deployment.application_name, deployment.deployment_group_name
    arn = f"arn:aws:codedeploy:{region}:{account}"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "source": "aws.codedeploy",
        "account": account,
        "time": to_iso(utc_now()),
        "region": region,
        "resources": [f"{arn}:application:{app}", f"{arn}:deploymentgroup:{app}/{group}"],
        "detail": {
            "region": region,
            "deploymentId": deployment.deployment_id,
            "instanceGroupId": str(uuid.uuid4()),
            "application": app,
            "deploymentGroup": group,
            "state": state,
        },
    }


@dataclass
class _Held:
    hold: Hold
    since: float
    """clock() when the hold began."""
    until: float | None
    """clock() when the group's timer ends it (None: never)."""


@dataclass
class _Tracked:
    created: float
    steps: list[Step]
    final_status: str
    held: _Held | None = None


@dataclass
class SimulatedCodeDeploy:
    clock: Callable[[], float]
    deliver: Callable[[dict[str, Any]], Any] | None = None
    planner: Callable[[Any], Plan] = plan_from_description
    event_delay: Callable[[], float] = lambda: 0.0
    drop_event: Callable[[dict[str, Any]], bool] = lambda _event: False
    region: str = "us-east-1"
    account: str = ACCOUNT_ID
    create_rollbacks: bool = False
    """A Failed step (or a Stopped one with ALARM_ACTIVE) with rollback info creates a real
    rollback deployment (off by default: the benchmark's workload counts deployments)."""
    minute_seconds: float = 60.0
    """How long a minute of the group's clock (Ready wait, termination wait) lasts here."""
    targets: Callable[..., list[dict[str, Any]]] = targets_for
    """The targets of a deployment at a status (``targets_for``'s signature); the e2e emulator
    gives each compute platform its own."""
    terminal_events: dict[str, float] = field(default_factory=dict)
    """deploymentId -> clock() when its terminal status was set in CodeDeploy."""
    terminal_deliveries: dict[str, float] = field(default_factory=dict)
    """deploymentId -> clock() when its first terminal event was delivered."""
    _tracked: dict[str, _Tracked] = field(default_factory=dict)
    _outbox: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)
    _sequence: Iterator[int] = field(default_factory=itertools.count)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        # ContinueDeployment and StopDeployment in this account and region come here.
        moto_codedeploy.register_controller(self, self.region, self.account)

    def advance(self) -> None:
        """Apply every step and deliver every event that is due by now."""
        with self._lock:
            now = self.clock()
            self._discover(now)
            for deployment_id, tracked in self._tracked.items():
                self._catch_up(deployment_id, tracked, now)
            due = []
            while self._outbox and self._outbox[0][0] <= now:
                due.append(heapq.heappop(self._outbox)[2])
        for event in due:
            if self.deliver is not None:
                self.deliver(event)
            if event["detail"]["state"] in ("SUCCESS", "FAILURE", "STOP"):
                self.terminal_deliveries.setdefault(event["detail"]["deploymentId"], now)

    def _catch_up(self, deployment_id: str, tracked: _Tracked, now: float) -> None:
        while True:
            held = tracked.held
            if held is not None:
                if held.until is None or held.until > now:
                    return
                self._release(deployment_id, tracked, held.until, timed_out=True)
                continue
            if not tracked.steps or tracked.created + tracked.steps[0].after > now:
                return
            step = tracked.steps.pop(0)
            at = tracked.created + step.after
            self._apply(deployment_id, step, now)
            if step.hold is not None:
                minutes = step.hold.minutes
                until = None if minutes is None else at + minutes * self.minute_seconds
                tracked.held = _Held(step.hold, at, until)

    def _release(
        self, deployment_id: str, tracked: _Tracked, at: float, *, timed_out: bool
    ) -> None:
        """End a hold at clock() ``at``: the rest of the plan moves later by the time held,
        or, for a Ready wait that ran out with STOP_DEPLOYMENT, the deployment ends Stopped."""
        held = tracked.held
        if held is None:
            return
        tracked.held = None
        if timed_out and held.hold.stop_on_timeout:
            # DEPLOYMENT_STOP_ON_REQUEST rolls it back (the CDK's EcsDeploymentGroup: "roll
            # back if the approval period times out and the deployment stops").
            rollback = _rolls_back_on(self._deployment(deployment_id), "DEPLOYMENT_STOP_ON_REQUEST")
            self._end_stopped(deployment_id, tracked, at, READY_TIMEOUT_STOP, rollback=rollback)
            return
        shift = at - held.since
        tracked.steps = [replace(step, after=step.after + shift) for step in tracked.steps]

    def continue_deployment(self, deployment_id: str, wait_type: str) -> None:
        """ContinueDeployment: end the Ready wait (READY_WAIT) or the termination wait
        (TERMINATION_WAIT) now. Errors as the API reference names them: a deployment that is
        not blue/green is UnsupportedActionForDeploymentTypeException, one not in the wait
        asked for DeploymentIsNotInReadyStateException (AWS does not document which error a
        TERMINATION_WAIT out of its phase gets: this one, whose text says "can't continue
        yet")."""
        with self._lock:
            now = self.clock()
            self._discover(now)
            self._catch_up(deployment_id, self._tracked[deployment_id], now)
            tracked = self._tracked[deployment_id]
            deployment = self._deployment(deployment_id)
            if tracked.held is not None and tracked.held.hold.wait_type == wait_type:
                self._release(deployment_id, tracked, now, timed_out=False)
            elif wait_type == READY_WAIT and deployment.status == "Ready":
                # A Ready phase without a hold (``simulate:ready``): its ending comes now.
                if tracked.steps:
                    shift = now - (tracked.created + tracked.steps[0].after)
                    tracked.steps = [replace(s, after=s.after + shift) for s in tracked.steps]
            elif not is_blue_green(deployment):
                raise moto_codedeploy.CodeDeployError(
                    "UnsupportedActionForDeploymentTypeException",
                    "ContinueDeployment is supported only for blue/green deployments.",
                )
            else:
                raise moto_codedeploy.CodeDeployError(
                    "DeploymentIsNotInReadyStateException",
                    "The deployment does not have a status of Ready and can't continue yet.",
                )
        self.advance()  # apply what is due now and deliver its events

    def stop(self, deployment_id: str, rollback: bool | None = None) -> None:
        """StopDeployment: the deployment ends Stopped now, whatever its plan said.

        ``rollback`` is StopDeployment's autoRollbackEnabled: True rolls back (a rollback
        deployment of the last good revision), False does not, None leaves it to the
        configuration (DEPLOYMENT_STOP_ON_REQUEST)."""
        with self._lock:
            now = self.clock()
            self._discover(now)
            tracked = self._tracked[deployment_id]
            if rollback is None:
                rollback = _rolls_back_on(
                    self._deployment(deployment_id), "DEPLOYMENT_STOP_ON_REQUEST"
                )
            self._end_stopped(deployment_id, tracked, now, MANUAL_STOP, rollback=rollback)
        self.advance()  # deliver the STOP event now, not on the next tick

    def _end_stopped(
        self,
        deployment_id: str,
        tracked: _Tracked,
        now: float,
        error: dict[str, str],
        *,
        rollback: bool,
    ) -> None:
        tracked.steps.clear()
        tracked.held = None
        tracked.final_status = "Stopped"
        self._apply(deployment_id, Step(now - tracked.created, "Stopped", error), now)
        if rollback:
            info = self._roll_back(deployment_id, None)
            if info is not None:
                self._deployment(deployment_id).rollback_info = info

    def _deployment(self, deployment_id: str) -> Any:
        return moto_codedeploy.deployments(self.region, self.account)[deployment_id]

    def final_status(self, deployment_id: str) -> str:
        return self._tracked[deployment_id].final_status

    def next_due(self) -> float | None:
        """When something will next happen (for schedulers that sleep until then)."""
        with self._lock:
            times = [t.created + t.steps[0].after for t in self._tracked.values() if t.steps]
            if self._outbox:
                times.append(self._outbox[0][0])
            return min(times) if times else None

    def _discover(self, now: float) -> None:
        # A copy: CreateDeployment may add one meanwhile (moto's server thread, the demo).
        found = moto_codedeploy.deployments(self.region, self.account)
        for deployment_id, deployment in list(found.items()):
            if deployment_id not in self._tracked:
                if deployment.status in ("Succeeded", "Failed", "Stopped"):
                    # Ended before this simulator started (an earlier test example).
                    self._tracked[deployment_id] = _Tracked(now, [], deployment.status)
                    continue
                # Plans count from CodeDeploy's createTime, not from when we noticed.
                age = (utc_now() - deployment.create_time.replace(tzinfo=UTC)).total_seconds()
                steps = with_group_waits(deployment, list(self.planner(deployment)))
                self._tracked[deployment_id] = _Tracked(
                    now - max(age, 0.0), steps, steps[-1].status
                )

    def _apply(self, deployment_id: str, step: Step, now: float) -> None:
        rollback_event = _rollback_event(step)
        real_rollback = rollback_event is not None and step.rollback and self.create_rollbacks
        moto_codedeploy.set_status(
            deployment_id,
            step.status,
            error=step.error,
            rollback=None if real_rollback else step.rollback,
            region=self.region,
            account=self.account,
        )
        if real_rollback:
            # After the failure is recorded: CodeDeploy runs one deployment per group at a time.
            rollback = self._roll_back(deployment_id, rollback_event or "DEPLOYMENT_FAILURE")
            if rollback is not None:
                found = moto_codedeploy.deployments(self.region, self.account)
                found[deployment_id].rollback_info = rollback
        if step.termination_wait:
            self._deployment(deployment_id).instance_termination_wait_time_started = True
        self._set_targets(deployment_id, step.status)
        if step.status in ("Succeeded", "Failed", "Stopped"):
            self.terminal_events[deployment_id] = now
        state = STATUS_TO_EVENT_STATE.get(step.status)
        if state is None or not step.event:
            return
        deployment = moto_codedeploy.deployments(self.region, self.account)[deployment_id]
        event = deployment_event(deployment, state, self.region, self.account)
        if not self.drop_event(event):
            heapq.heappush(self._outbox, (now + self.event_delay(), next(self._sequence), event))

    def _set_targets(self, deployment_id: str, status: str) -> None:
        if status not in ("InProgress", "Succeeded", "Failed", "Stopped"):
            return
        deployment = moto_codedeploy.deployments(self.region, self.account)[deployment_id]
        end = utc_now()
        start = (deployment.start_time or deployment.create_time).replace(tzinfo=UTC)
        if end - start < timedelta(seconds=1):  # the same frozen instant: still a timeline
            start = end - timedelta(seconds=1)
        targets = self.targets(
            deployment, status, start=start, end=end, region=self.region, account=self.account
        )
        if status == "Failed":
            for target in targets:
                if "ecsTarget" in target:
                    body = target["ecsTarget"]
                    cluster, service = body["targetId"].split(":", 1)
                    green = body["taskSetsInfo"][1]["identifer"]
                    record_replacement_task_failure(
                        cluster, service, green, region=self.region, account=self.account
                    )
        moto_codedeploy.set_targets(
            deployment_id,
            targets,
            region=self.region,
            account=self.account,
        )

    def _roll_back(self, deployment_id: str, event: str | None) -> dict[str, str] | None:
        """CodeDeploy's automatic rollback: a new deployment of the previous revision.
        ``event`` None: asked for explicitly (StopDeployment's autoRollbackEnabled)."""
        found = moto_codedeploy.deployments(self.region, self.account)
        failed = found[deployment_id]
        if failed.creator == "codeDeployRollback":
            return None  # CodeDeploy does not roll back a rollback
        if event is not None and not _rolls_back_on(failed, event):
            return None
        ending = " simulate:fail" if ROLLBACK_FAILS_MARKER in (failed.description or "") else ""
        rollback_id = moto_codedeploy.backend(self.region, self.account).create_deployment(
            application_name=failed.application_name,
            deployment_group_name=failed.deployment_group_name,
            revision=last_good_revision(found, failed) or failed.revision,
            description=f"Rollback of {deployment_id}{ending}",
        )
        rollback = found[rollback_id]
        rollback.creator = "codeDeployRollback"
        rollback.rollback_info = {"rollbackTriggeringDeploymentId": deployment_id}
        return {
            "rollbackDeploymentId": rollback_id,
            "rollbackMessage": f"Deployment rolled back by deployment {rollback_id}",
        }

    @contextmanager
    def running(self, tick: float = 0.05) -> Iterator[SimulatedCodeDeploy]:
        """Advance in a background thread, in real time (the demo)."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(tick):
                self.advance()

        thread = threading.Thread(target=loop, name="simulated-codedeploy", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()
