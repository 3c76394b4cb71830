"""A simulated CodeDeploy: moves moto's deployments through their states on a clock
and emits the EventBridge state-change events real CodeDeploy would send.

Each deployment also gets targets with lifecycle events (and, when it fails,
the failing hook's diagnostics) for its compute platform, as
tests/support/deployment_targets.py builds them; with ``create_rollbacks`` a
failed deployment that carries rollback info gets a real rollback deployment
(``creator: codeDeployRollback``), which then runs its own plan.

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
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Step:
    """At ``after`` seconds past creation the deployment moves to ``status``."""

    after: float
    status: str
    error: dict[str, str] | None = None
    rollback: dict[str, str] | None = None


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
class _Tracked:
    created: float
    steps: list[Step]
    final_status: str


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

    def advance(self) -> None:
        """Apply every step and deliver every event that is due by now."""
        with self._lock:
            now = self.clock()
            self._discover(now)
            for deployment_id, tracked in self._tracked.items():
                while tracked.steps and tracked.created + tracked.steps[0].after <= now:
                    self._apply(deployment_id, tracked.steps.pop(0), now)
            due = []
            while self._outbox and self._outbox[0][0] <= now:
                due.append(heapq.heappop(self._outbox)[2])
        for event in due:
            if self.deliver is not None:
                self.deliver(event)
            if event["detail"]["state"] in ("SUCCESS", "FAILURE", "STOP"):
                self.terminal_deliveries.setdefault(event["detail"]["deploymentId"], now)

    def stop(self, deployment_id: str) -> None:
        """StopDeployment: the deployment ends Stopped now, whatever its plan said."""
        with self._lock:
            now = self.clock()
            self._discover(now)
            tracked = self._tracked[deployment_id]
            tracked.steps.clear()
            tracked.final_status = "Stopped"
            self._apply(deployment_id, Step(now - tracked.created, "Stopped", MANUAL_STOP), now)
        self.advance()  # deliver the STOP event now, not on the next tick

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
                steps = list(self.planner(deployment))
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
        self._set_targets(deployment_id, step.status)
        if step.status in ("Succeeded", "Failed", "Stopped"):
            self.terminal_events[deployment_id] = now
        state = STATUS_TO_EVENT_STATE.get(step.status)
        if state is None:
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

    def _roll_back(self, deployment_id: str, event: str) -> dict[str, str] | None:
        """CodeDeploy's automatic rollback: a new deployment of the previous revision."""
        found = moto_codedeploy.deployments(self.region, self.account)
        failed = found[deployment_id]
        if failed.creator == "codeDeployRollback" or not _rolls_back_on(failed, event):
            return None  # CodeDeploy does not roll back a rollback
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
