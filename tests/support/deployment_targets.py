"""Deployment targets as CodeDeploy reports them, for the simulated CodeDeploy.

Shapes follow the botocore model (``codedeploy/2014-10-06/service-2.json``:
``DeploymentTarget`` with ``instanceTarget`` / ``lambdaTarget`` / ``ecsTarget``,
``LifecycleEvent``, ``Diagnostics``, ``ECSTaskSet`` with its ``identifer``) and the
AWS CLI example of ``aws deploy batch-get-deployment-targets`` (a succeeded
event has ``diagnostics {"errorCode": "Success", "scriptName": "", "message":
"Succeeded", "logTail": ""}``).

Lifecycle event names per compute platform are the AppSpec ``hooks`` sections'
of the CodeDeploy user guide (ECS, Lambda, EC2/on-premises in-place). The EC2
failure's message is CodeDeploy's documented wording ("Script at specified
location: ... failed with exit code 1"); the hook messages and log lines of the
ECS and Lambda failures are made up for the simulation (CodeDeploy documents
the fields, not their text).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ECS_EVENTS = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)
LAMBDA_EVENTS = ("BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")
SERVER_EVENTS = (
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
)
SUCCESS_DIAGNOSTICS = {
    "errorCode": "Success",
    "scriptName": "",
    "message": "Succeeded",
    "logTail": "",
}
INSTANCES_MARKER = "simulate:instances="
"""``simulate:instances=N`` in a Server deployment's description: N instances (default 2)."""


@dataclass(frozen=True)
class HookFailure:
    """The lifecycle event that fails, and what its hook left in ``diagnostics``."""

    event: str
    script_name: str
    message: str
    log_tail: str
    error_code: str = "ScriptFailed"


ECS_HOOK_FAILURE = HookFailure(
    event="AfterAllowTestTraffic",
    script_name="CodeDeployHook_AfterAllowTestTraffic",
    message="The AfterAllowTestTraffic hook function CodeDeployHook_AfterAllowTestTraffic "
    "reported Failed to PutLifecycleEventHookExecutionStatus",
    log_tail="\n".join(
        [
            "START smoke test against the test listener (port 8080)",
            "GET /health -> 200 (12 ms)",
            "GET /api/orders -> 500 (431 ms)",
            'ERROR orders endpoint: relation "orders_v2" does not exist',
            "smoke test FAILED: 1 of 2 checks failed",
        ]
    ),
)
LAMBDA_HOOK_FAILURE = HookFailure(
    event="BeforeAllowTraffic",
    script_name="CodeDeployHook_BeforeAllowTraffic",
    message="The BeforeAllowTraffic hook function CodeDeployHook_BeforeAllowTraffic "
    "reported Failed to PutLifecycleEventHookExecutionStatus",
    log_tail="invoking the new version with a sample event\n"
    "Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'",
)
SERVER_HOOK_FAILURE = HookFailure(
    event="ApplicationStart",
    script_name="scripts/start_server.sh",
    message="Script at specified location: scripts/start_server.sh run as user root failed "
    "with exit code 1",
    log_tail="\n".join(
        [f"[stdout]starting web server, attempt {n}" for n in range(1, 11)]
        + [
            "[stderr]Error: listen EADDRINUSE: address already in use :::8080",
            "[stderr]    at Server.setupListenHandle (node:net:1817:16)",
        ]
    ),
)


def lifecycle_events(
    names: tuple[str, ...],
    start: datetime,
    end: datetime,
    *,
    outcome: str,
    failure: HookFailure | None = None,
) -> list[dict[str, Any]]:
    """Events spread evenly over [start, end]. ``outcome``: Succeeded, Failed,
    Stopped (the rest Skipped after the middle) or InProgress (first one running)."""
    slot = (end - start) / max(len(names), 1)
    failed_at = names.index(failure.event) if failure and failure.event in names else None
    stopped_at = len(names) // 2
    events: list[dict[str, Any]] = []
    for index, name in enumerate(names):
        began, ended = start + slot * index, start + slot * (index + 1)
        event: dict[str, Any] = {"lifecycleEventName": name}
        if outcome == "InProgress":
            event["status"] = "InProgress" if index == 0 else "Pending"
            if index == 0:
                event["startTime"] = began
            events.append(event)
            continue
        skipped_after_failure = failed_at is not None and index > failed_at
        if (outcome == "Failed" and skipped_after_failure) or (
            outcome == "Stopped" and index >= stopped_at
        ):
            event["status"] = "Skipped"
        elif outcome == "Failed" and failure is not None and index == failed_at:
            event.update(
                status="Failed",
                startTime=began,
                endTime=ended,
                diagnostics={
                    "errorCode": failure.error_code,
                    "scriptName": failure.script_name,
                    "message": failure.message,
                    "logTail": failure.log_tail,
                },
            )
        else:
            event.update(
                status="Succeeded", startTime=began, endTime=ended, diagnostics=SUCCESS_DIAGNOSTICS
            )
        events.append(event)
    return events


def _target_status(outcome: str, failed: bool) -> str:
    if outcome == "InProgress":
        return "InProgress"
    if outcome == "Stopped":
        return "Skipped"
    return "Failed" if failed else "Succeeded"


def ecs_target(
    deployment_id: str,
    cluster: str,
    service: str,
    events: list[dict[str, Any]],
    *,
    status: str,
    updated: datetime,
    region: str = "us-east-1",
    account: str = "123456789012",
) -> dict[str, Any]:
    """An ``ECSTarget``: target id ``<cluster>:<service>`` (BatchGetDeploymentTargets docs)."""
    suffix = hashlib.sha256(deployment_id.encode()).hexdigest()[:10]
    task_sets = [
        {
            "identifer": f"ecs-svc/{int(suffix[:8], 16):019d}",
            "desiredCount": 2,
            "pendingCount": 0,
            "runningCount": 2,
            "status": "PRIMARY",
            "trafficWeight": 100.0,
            "targetGroup": {"name": f"{service}-blue"},
            "taskSetLabel": "Blue",
        },
        {
            "identifer": f"ecs-svc/{int(suffix[2:10], 16):019d}",
            "desiredCount": 2,
            "pendingCount": 0,
            "runningCount": 0 if status == "Failed" else 2,
            "status": "ACTIVE",
            "trafficWeight": 0.0,
            "targetGroup": {"name": f"{service}-green"},
            "taskSetLabel": "Green",
        },
    ]
    return {
        "deploymentTargetType": "ECSTarget",
        "ecsTarget": {
            "deploymentId": deployment_id,
            "targetId": f"{cluster}:{service}",
            "targetArn": f"arn:aws:ecs:{region}:{account}:service/{cluster}/{service}",
            "lastUpdatedAt": updated,
            "lifecycleEvents": events,
            "status": status,
            "taskSetsInfo": task_sets,
        },
    }


def lambda_target(
    deployment_id: str,
    function: str,
    events: list[dict[str, Any]],
    *,
    status: str,
    updated: datetime,
    region: str = "us-east-1",
    account: str = "123456789012",
    alias: str = "live",
    current_version: str = "1",
    target_version: str = "2",
    target_version_weight: float | None = None,
) -> dict[str, Any]:
    """A ``LambdaTarget``: the target id is the function's name; ``lambdaFunctionInfo`` says
    which alias moves from which version to which, and the target version's traffic share."""
    weight = target_version_weight
    if weight is None:
        weight = 0.0 if status == "Failed" else 1.0
    return {
        "deploymentTargetType": "LambdaTarget",
        "lambdaTarget": {
            "deploymentId": deployment_id,
            "targetId": function,
            "targetArn": f"arn:aws:lambda:{region}:{account}:function:{function}:{alias}",
            "status": status,
            "lastUpdatedAt": updated,
            "lifecycleEvents": events,
            "lambdaFunctionInfo": {
                "functionName": function,
                "functionAlias": alias,
                "currentVersion": current_version,
                "targetVersion": target_version,
                "targetVersionWeight": weight,
            },
        },
    }


def instance_target(
    deployment_id: str,
    instance_id: str,
    events: list[dict[str, Any]],
    *,
    status: str,
    updated: datetime,
    region: str = "us-east-1",
    account: str = "123456789012",
) -> dict[str, Any]:
    """An ``InstanceTarget``: the target id is the EC2 (or on-premises) instance id."""
    return {
        "deploymentTargetType": "InstanceTarget",
        "instanceTarget": {
            "deploymentId": deployment_id,
            "targetId": instance_id,
            "targetArn": f"arn:aws:ec2:{region}:{account}:instance/{instance_id}",
            "status": status,
            "lastUpdatedAt": updated,
            "lifecycleEvents": events,
            "instanceLabel": "Blue",
        },
    }


def instance_id(deployment_id: str, index: int) -> str:
    return "i-0" + hashlib.sha256(f"{deployment_id}/{index}".encode()).hexdigest()[:16]


def targets_for(
    deployment: Any,
    outcome: str,
    *,
    start: datetime,
    end: datetime,
    region: str = "us-east-1",
    account: str = "123456789012",
) -> list[dict[str, Any]]:
    """The targets of a moto deployment on its compute platform, ending with ``outcome``.

    ECS: one target, the deployment group's service. Lambda: one function.
    Server: ``simulate:instances=N`` instances (2 by default); on failure the
    first fails its hook and the others are skipped, as with OneAtATime.
    """
    platform = getattr(deployment.application, "compute_platform", None) or "Server"
    deployment_id = deployment.deployment_id
    common: dict[str, Any] = {"updated": end, "region": region, "account": account}
    if platform == "ECS":
        failure = ECS_HOOK_FAILURE if outcome == "Failed" else None
        events = lifecycle_events(ECS_EVENTS, start, end, outcome=outcome, failure=failure)
        services = getattr(deployment.deployment_group, "ecs_services", None) or [{}]
        cluster = services[0].get("clusterName") or "cluster"
        service = services[0].get("serviceName") or "service"
        status = _target_status(outcome, failure is not None)
        return [ecs_target(deployment_id, cluster, service, events, status=status, **common)]
    if platform == "Lambda":
        failure = LAMBDA_HOOK_FAILURE if outcome == "Failed" else None
        events = lifecycle_events(LAMBDA_EVENTS, start, end, outcome=outcome, failure=failure)
        function = f"{deployment.application_name}-function"
        status = _target_status(outcome, failure is not None)
        return [lambda_target(deployment_id, function, events, status=status, **common)]
    targets = []
    for index in range(_instance_count(deployment)):
        first_fails = outcome == "Failed" and index == 0
        if outcome == "Failed" and index > 0:
            events = lifecycle_events(SERVER_EVENTS, start, end, outcome="Stopped")
            for event in events:
                event.update(status="Skipped")
                for key in ("startTime", "endTime", "diagnostics"):
                    event.pop(key, None)
            status = "Skipped"
        else:
            failure = SERVER_HOOK_FAILURE if first_fails else None
            events = lifecycle_events(SERVER_EVENTS, start, end, outcome=outcome, failure=failure)
            status = _target_status(outcome, first_fails)
        iid = instance_id(deployment_id, index)
        targets.append(instance_target(deployment_id, iid, events, status=status, **common))
    return targets


def _instance_count(deployment: Any) -> int:
    description = deployment.description or ""
    if INSTANCES_MARKER in description:
        digits = description.split(INSTANCES_MARKER, 1)[1].split()[0]
        return max(1, int(digits))
    return 2


REPLACEMENT_STOP_REASON = "Essential container in task exited"
REPLACEMENT_EXIT = (1, "Error: connect ECONNREFUSED 10.0.3.17:5432 (database unreachable)")


def record_replacement_task_failure(
    cluster: str, service: str, task_set: str, *, region: str, account: str
) -> None:
    """What ECS shows after a replacement task set's task died: in moto's ECS backend, a
    STOPPED task started by the task set (``startedBy`` = its id), its container's exit
    code and reason, and a service event. The cluster and service are made if missing
    (moto does not check the ECS side of a CodeDeploy group)."""
    from moto.ecs.models import ecs_backends  # moto is a test dependency only

    backend = ecs_backends[account][region]
    if cluster not in backend.clusters:
        backend.create_cluster(cluster_name=cluster)
    definition = backend.register_task_definition(
        family=service,
        container_definitions=[{"name": "app", "image": f"{service}:next", "memory": 512}],
    )
    if f"{cluster}:{service}" not in backend.services:
        backend.create_service(cluster, service, 2, task_definition_str=definition.arn)
    (task,) = backend.run_task(cluster, definition.arn, 1, None, task_set, None, "FARGATE")
    backend.stop_task(cluster, task.task_arn, REPLACEMENT_STOP_REASON)
    container = task.containers[0]
    container.exitCode = REPLACEMENT_EXIT[0]
    container.reason = REPLACEMENT_EXIT[1]  # type: ignore[attr-defined]  # moto keeps no reason
    backend.services[f"{cluster}:{service}"].events.insert(
        0,
        {
            "id": task.task_arn.rsplit("/", 1)[-1],
            "createdAt": datetime.now(UTC),
            "message": f"(service {service}, taskSet {task_set}) has stopped 1 running tasks: "
            f"(task {task.task_arn.rsplit('/', 1)[-1]}).",
        },
    )
