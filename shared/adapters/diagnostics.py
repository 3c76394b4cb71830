"""Why a deployment failed, read from CodeDeploy (and ECS): the diagnostics adapter.

CodeDeploy's ``errorInformation`` is one generic line ("too many individual
instances failed"); the cause lives in the targets. This module reads them and
returns plain data (:class:`Diagnostics`, :class:`Timeline`); ``shared/report/result.py``
turns that into the text a caller reads.

Sources (botocore model ``codedeploy/2014-10-06/service-2.json``):

- ``ListDeploymentTargets`` (paginated by ``nextToken``, ``targetFilters``
  ``{"TargetStatus": [...]}``) and ``BatchGetDeploymentTargets`` ("The maximum
  number of deployment target IDs you can specify is 25"): one
  ``DeploymentTarget`` per id, whose ``instanceTarget`` / ``lambdaTarget`` /
  ``ecsTarget`` / ``cloudFormationTarget`` carries ``lifecycleEvents[]``
  (``lifecycleEventName``, ``status``, ``startTime``, ``endTime``,
  ``diagnostics {errorCode, scriptName, message, logTail}``).
  ListDeploymentTargets serves every compute platform, so the deprecated
  ``ListDeploymentInstances`` / ``BatchGetDeploymentInstances`` (EC2/on-premises
  and Lambda only) are not read: for a deployment the trigger has just waited on
  they add nothing.
- ECS (``ecs/2014-11-13``): the ECS target id is ``<cluster>:<service>``
  (BatchGetDeploymentTargets docs); ``DescribeServices`` gives the service's
  latest ``events``, ``ListTasks(desiredStatus=STOPPED)`` + ``DescribeTasks``
  the ``stoppedReason`` and the containers' ``exitCode`` / ``reason``.
- Alarms: on ``ALARM_ACTIVE``, the deployment's ``overrideAlarmConfiguration``
  (when enabled) or the group's ``alarmConfiguration`` (GetDeploymentGroup).
  Which of them fired is not read (that would need cloudwatch:DescribeAlarms).

Rules: every library error is translated here and never raised to the caller
(the deployment's failure must reach the user whatever happens to its
explanation): a failure yields ``unavailable="<reason>"``, keeping what was
already read. Collection asks ``time_left`` before each call and stops once
less than :data:`CALL_RESERVE_SECONDS` remains. Log tails can hold secrets:
nothing here logs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.adapters.aws_errors import aws_failure
from shared.deadline import NoTimeLeft
from shared.timestamps import to_iso

BATCH_SIZE = 25
"""BatchGetDeploymentTargets: at most 25 ids per call."""
MAX_LIST_PAGES = 20
"""Pages of target ids read at most: enough to count, bounded for huge fleets."""
MAX_EXPLAINED_TARGETS = 3
"""Failing targets read in detail (the message names at most this many)."""
MAX_STOPPED_TASKS = 3
MAX_SERVICE_EVENTS = 3
CALL_RESERVE_SECONDS = 3.0
"""No call starts with less time left: the briefest client of shared/adapters/clients.py's ladders
(1 attempt, 1 s connect, 2 s read) needs this much at worst."""

TimeLeft = Callable[[], float]


class DiagnosticsUnavailable(Exception):
    """A call failed or time ran out; the message is the reason shown to the user."""


@dataclass(frozen=True)
class HookDiagnostics:
    """A lifecycle event's ``diagnostics``: what the hook said."""

    error_code: str | None = None
    script_name: str | None = None
    message: str | None = None
    log_tail: str | None = None


@dataclass(frozen=True)
class LifecycleEvent:
    name: str
    status: str | None
    started_at: str | None
    ended_at: str | None
    duration_seconds: float | None
    diagnostics: HookDiagnostics | None


@dataclass(frozen=True)
class Target:
    """One deployment target: an instance, a Lambda function, an ECS service, a stack."""

    target_id: str
    target_type: str
    status: str | None
    lifecycle_events: tuple[LifecycleEvent, ...]
    label: str | None = None
    """Blue / Green when CodeDeploy says (instanceLabel, ECS replacement task set)."""
    replacement_task_set: str | None = None
    """ECS: the Green task set's id (``taskSetsInfo[].identifer``)."""

    @property
    def first_failed_event(self) -> LifecycleEvent | None:
        return next((e for e in self.lifecycle_events if e.status == "Failed"), None)


@dataclass(frozen=True)
class StoppedTask:
    task_id: str
    stopped_reason: str | None
    container: str | None = None
    exit_code: int | None = None
    container_reason: str | None = None


@dataclass(frozen=True)
class EcsService:
    """What ECS says about the service behind an ECS target."""

    cluster: str
    service: str
    stopped_tasks: tuple[StoppedTask, ...] = ()
    events: tuple[str, ...] = ()
    unavailable: str | None = None


@dataclass(frozen=True)
class Diagnostics:
    """Why a deployment failed, as far as CodeDeploy and ECS said within the time given."""

    failing_targets: tuple[Target, ...] = ()
    failing_target_count: int = 0
    ecs_services: tuple[EcsService, ...] = ()
    alarms: tuple[str, ...] = ()
    unavailable: str | None = None


@dataclass(frozen=True)
class Timeline:
    """A successful deployment's lifecycle, for the first target, plus the target count."""

    target_count: int = 0
    target: Target | None = None
    unavailable: str | None = None


@dataclass(frozen=True)
class RollbackReport:
    """The rollback deployment CodeDeploy started, and how far it got while we waited."""

    deployment_id: str | None
    status: str | None = None
    """Its last status seen; None when it could not be read."""
    note: str | None = None
    """Why its outcome is unknown (deadline, error), or CodeDeploy's rollbackMessage."""


ClientMethod = Callable[[Mapping[str, Any]], Any]
"""One named call of a boto3 client with the request's parameters, e.g.
``lambda p: codedeploy.list_deployment_targets(**p)``. The client is looked up when the call
is made: a bounded client picks its retry policy for the time left then (and may find none)."""


@dataclass
class DiagnosticsCollector:
    """Reads targets, hooks, ECS tasks and alarms within ``time_left`` seconds.

    ``codedeploy`` and ``ecs`` are boto3 clients (``ecs`` made only when an
    ECS target needs it); with shared/adapters/clients.py's bounded clients each call also
    picks retries and timeouts that fit the time left.
    """

    codedeploy: Any
    time_left: TimeLeft
    ecs: Callable[[], Any] | None = None
    _calls: int = field(default=0, init=False)

    @property
    def calls(self) -> int:
        """API calls made so far (tests and logs)."""
        return self._calls

    def explain(
        self,
        deployment_id: str,
        *,
        error_code: str | None = None,
        application_name: str | None = None,
        deployment_group_name: str | None = None,
    ) -> Diagnostics:
        """Failing targets, their first failed hook, ECS tasks, alarms. Never raises.

        What was read before an error or the deadline is kept.
        """
        ids: list[str] = []
        found: list[Target] = []
        ecs: list[EcsService] = []
        alarms: tuple[str, ...] = ()
        try:
            ids = list(self._target_ids(deployment_id, status="Failed"))
            if ids:
                found = self._batch_targets(deployment_id, ids[:MAX_EXPLAINED_TARGETS])
            ecs = self._ecs_services(found)
            if error_code == "ALARM_ACTIVE":
                alarms = self._alarms(deployment_id, application_name, deployment_group_name)
        except DiagnosticsUnavailable as error:
            return Diagnostics(tuple(found), len(ids), tuple(ecs), alarms, str(error))
        return Diagnostics(tuple(found), len(ids), tuple(ecs), alarms)

    def timeline(self, deployment_id: str) -> Timeline:
        """The first target's lifecycle events and the number of targets. Never raises."""
        try:
            ids = list(self._target_ids(deployment_id, status=None))
            targets = self._batch_targets(deployment_id, ids[:1]) if ids else []
            return Timeline(len(ids), targets[0] if targets else None)
        except DiagnosticsUnavailable as error:
            return Timeline(unavailable=str(error))

    # --- CodeDeploy targets ------------------------------------------------------------------

    def _target_ids(self, deployment_id: str, *, status: str | None) -> Iterator[str]:
        params: dict[str, Any] = {"deploymentId": deployment_id}
        if status is not None:
            params["targetFilters"] = {"TargetStatus": [status]}
        yield from self._pages(
            "ListDeploymentTargets",
            lambda p: self.codedeploy.list_deployment_targets(**p),
            params,
            "targetIds",
        )

    def _pages(
        self, operation: str, method: ClientMethod, params: dict[str, Any], key: str
    ) -> Iterator[str]:
        token: str | None = None
        for _ in range(MAX_LIST_PAGES):
            request = dict(params, nextToken=token) if token else params
            page = self._call(operation, method, request)
            yield from (str(i) for i in page.get(key) or [])
            token = page.get("nextToken")
            if not token:
                return

    def _batch_targets(self, deployment_id: str, ids: Sequence[str]) -> list[Target]:
        return self._batch(
            deployment_id,
            ids,
            ("BatchGetDeploymentTargets", "targetIds", "deploymentTargets"),
            lambda p: self.codedeploy.batch_get_deployment_targets(**p),
            _target,
        )

    def _batch(
        self,
        deployment_id: str,
        ids: Sequence[str],
        api: tuple[str, str, str],
        method: ClientMethod,
        parse: Callable[[dict[str, Any]], Target],
    ) -> list[Target]:
        """One batch call per BATCH_SIZE ids; ``api`` is (operation, ids key, result key)."""
        operation, ids_key, result_key = api
        targets: list[Target] = []
        for chunk in _chunks(ids, BATCH_SIZE):
            page = self._call(
                operation, method, {"deploymentId": deployment_id, ids_key: list(chunk)}
            )
            targets.extend(parse(item) for item in page.get(result_key) or [])
        return targets

    # --- alarms --------------------------------------------------------------------------------

    def _alarms(
        self, deployment_id: str, application: str | None, group: str | None
    ) -> tuple[str, ...]:
        info = self._call(
            "GetDeployment",
            lambda p: self.codedeploy.get_deployment(**p),
            {"deploymentId": deployment_id},
        )
        override = (info.get("deploymentInfo") or {}).get("overrideAlarmConfiguration") or {}
        if override.get("enabled"):
            return _alarm_names(override)
        if not application or not group:
            return ()
        found = self._call(
            "GetDeploymentGroup",
            lambda p: self.codedeploy.get_deployment_group(**p),
            {"applicationName": application, "deploymentGroupName": group},
        )
        return _alarm_names((found.get("deploymentGroupInfo") or {}).get("alarmConfiguration"))

    # --- ECS -------------------------------------------------------------------------------------

    def _ecs_services(self, targets: Sequence[Target]) -> list[EcsService]:
        services: list[EcsService] = []
        for target in targets:
            if target.target_type != "ECSTarget" or ":" not in target.target_id:
                continue
            cluster, service = target.target_id.split(":", 1)
            try:
                services.append(self._ecs_service(cluster, service, target.replacement_task_set))
            except DiagnosticsUnavailable as error:
                # ECS permissions are optional (module variable): say so, keep going.
                services.append(EcsService(cluster, service, unavailable=str(error)))
        return services

    def _ecs_service(self, cluster: str, service: str, task_set: str | None) -> EcsService:
        if self.ecs is None:
            raise DiagnosticsUnavailable("no ECS client")
        client = self.ecs()
        described = self._call(
            "DescribeServices",
            lambda p: client.describe_services(**p),
            {"cluster": cluster, "services": [service]},
        )
        events: tuple[str, ...] = ()
        for found in described.get("services") or []:
            # ECS lists a service's events newest first.
            events = tuple(
                str(e.get("message", "")) for e in (found.get("events") or [])[:MAX_SERVICE_EVENTS]
            )
        listed = self._call(
            "ListTasks",
            lambda p: client.list_tasks(**p),
            {"cluster": cluster, "serviceName": service, "desiredStatus": "STOPPED"},
        )
        arns = list(listed.get("taskArns") or [])
        stopped: list[StoppedTask] = []
        if arns:
            tasks = self._call(
                "DescribeTasks",
                lambda p: client.describe_tasks(**p),
                {"cluster": cluster, "tasks": arns[:100]},
            )
            chosen = list(tasks.get("tasks") or [])
            # Tasks of a task set carry its id in startedBy: prefer the replacement's.
            replacement = [t for t in chosen if task_set and t.get("startedBy") == task_set]
            stopped = [_stopped_task(t) for t in (replacement or chosen)[:MAX_STOPPED_TASKS]]
        return EcsService(cluster, service, tuple(stopped), events)

    # --- calls -----------------------------------------------------------------------------------

    def _call(
        self, operation: str, call: ClientMethod, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        left = self.time_left()
        if left < CALL_RESERVE_SECONDS:
            raise DiagnosticsUnavailable(
                f"deadline: {max(left, 0.0):.0f}s left before the function must answer, "
                f"not enough for {operation}"
            )
        self._calls += 1
        try:
            response: dict[str, Any] = call(params)
        except ClientError as error:
            failure = aws_failure(error)
            code = "Unknown" if failure.code is None else failure.code
            text = f"{operation} failed ({code}): {failure.message.strip()}"
            raise DiagnosticsUnavailable(text[:300]) from error
        except BotoCoreError as error:
            raise DiagnosticsUnavailable(f"{operation} failed: {error}"[:300]) from error
        except NoTimeLeft as error:
            # The client ladder found no retry policy that fits the time left.
            text = f"deadline: {error}, not enough for {operation}"
            raise DiagnosticsUnavailable(text) from error
        return response


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_TARGET_KEYS = {
    "InstanceTarget": "instanceTarget",
    "LambdaTarget": "lambdaTarget",
    "ECSTarget": "ecsTarget",
    "CloudFormationTarget": "cloudFormationTarget",
}


def _target(raw: Mapping[str, Any]) -> Target:
    kind = str(raw.get("deploymentTargetType") or "")
    body: Mapping[str, Any] = raw.get(_TARGET_KEYS.get(kind, ""), {}) or next(
        (raw[key] for key in _TARGET_KEYS.values() if key in raw), {}
    )
    green = next(
        (s for s in body.get("taskSetsInfo") or [] if s.get("taskSetLabel") == "Green"), None
    )
    return Target(
        target_id=str(body.get("targetId") or "?"),
        target_type=kind or "Unknown",
        status=body.get("status"),
        lifecycle_events=tuple(_event(e) for e in body.get("lifecycleEvents") or []),
        label=body.get("instanceLabel"),
        # "identifer" is the model's own spelling of ECSTaskSet's id.
        replacement_task_set=green.get("identifer") if green else None,
    )


def _event(raw: Mapping[str, Any]) -> LifecycleEvent:
    start, end = raw.get("startTime"), raw.get("endTime")
    duration = None
    if isinstance(start, datetime) and isinstance(end, datetime):
        duration = round((end - start).total_seconds(), 3)
    found = raw.get("diagnostics") or {}
    diagnostics = (
        HookDiagnostics(
            error_code=found.get("errorCode") or None,
            script_name=found.get("scriptName") or None,
            message=found.get("message") or None,
            log_tail=found.get("logTail") or None,
        )
        if found
        else None
    )
    return LifecycleEvent(
        name=str(raw.get("lifecycleEventName") or "?"),
        status=raw.get("status"),
        started_at=to_iso(start),
        ended_at=to_iso(end),
        duration_seconds=duration,
        diagnostics=diagnostics,
    )


def _stopped_task(raw: Mapping[str, Any]) -> StoppedTask:
    containers = list(raw.get("containers") or [])
    # The failing container: a non-zero exit code, else one with a reason.
    culprit = next(
        (c for c in containers if c.get("exitCode") not in (None, 0)),
        next((c for c in containers if c.get("reason")), None),
    )
    return StoppedTask(
        task_id=str(raw.get("taskArn") or "?").rsplit("/", 1)[-1],
        stopped_reason=raw.get("stoppedReason"),
        container=culprit.get("name") if culprit else None,
        exit_code=culprit.get("exitCode") if culprit else None,
        container_reason=culprit.get("reason") if culprit else None,
    )


def _alarm_names(configuration: Mapping[str, Any] | None) -> tuple[str, ...]:
    if not configuration:
        return ()
    return tuple(str(a["name"]) for a in configuration.get("alarms") or [] if a.get("name"))
