"""The trigger's output and its failure messages: one place for what a caller reads."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from shared.codedeploy import DeploymentSnapshot

TERRAFORM_DELETE_REASON = (
    "Terraform is destroying or replacing this aws_lambda_invocation; no deployment was created"
)
# CodeDeploy user guide, "Redeploy and roll back a deployment" / blue/green "Reroute traffic":
# a blue/green deployment in Ready waits for ContinueDeployment or the group's wait time.
READY_EXPLANATION = (
    "the replacement is ready and waits for traffic to be rerouted: run ContinueDeployment, "
    "or let the deployment group's ready wait time expire"
)


class TriggerResult(TypedDict, total=False):
    """JSON returned to ``aws_lambda_invocation`` (``result`` in Terraform state)."""

    deploymentId: str
    status: str
    createdAt: str | None
    completedAt: str | None
    applicationName: str | None
    deploymentGroupName: str | None
    consoleUrl: str
    detectedBy: str | None
    errorInformation: dict[str, Any]
    rollbackInfo: dict[str, Any]


class SkippedResult(TypedDict):
    status: str
    reason: str


def build_result(
    snapshot: DeploymentSnapshot, console_url: str, detected_by: str | None
) -> TriggerResult:
    result = TriggerResult(
        deploymentId=snapshot.deployment_id,
        status=snapshot.status,
        createdAt=snapshot.created_at,
        completedAt=snapshot.completed_at,
        applicationName=snapshot.application_name,
        deploymentGroupName=snapshot.deployment_group_name,
        consoleUrl=console_url,
        detectedBy=detected_by,
    )
    if snapshot.error_information:
        result["errorInformation"] = snapshot.error_information
    if snapshot.rollback_info:
        result["rollbackInfo"] = snapshot.rollback_info
    return result


def failure_message(snapshot: DeploymentSnapshot, console_url: str) -> str:
    """Everything a person needs to act on a failed deployment, in one paragraph."""
    parts = [f"CodeDeploy deployment {snapshot.deployment_id} {snapshot.status}"]
    target = "/".join(
        name for name in (snapshot.application_name, snapshot.deployment_group_name) if name
    )
    if target:
        parts[0] += f" ({target})"
    error = snapshot.error_information or {}
    if error:
        text = str(error.get("message", "")).strip().rstrip(".")
        parts.append(f"{error.get('code', 'UNKNOWN')}: {text}")
    rollback = snapshot.rollback_info or {}
    if rollback.get("rollbackDeploymentId"):
        parts.append(f"Rolled back by deployment {rollback['rollbackDeploymentId']}")
    elif rollback.get("rollbackMessage"):
        parts.append(f"Rollback: {str(rollback['rollbackMessage']).rstrip('.')}")
    parts.append(f"Console: {console_url}")
    return ". ".join(parts)


def skipped(reason: str) -> SkippedResult:
    return SkippedResult(status="Skipped", reason=reason)


def continue_command(deployment_id: str) -> str:
    """The exact command that moves a Ready blue/green deployment on (AWS CLI reference)."""
    return (
        f"aws deploy continue-deployment --deployment-id {deployment_id} "
        "--deployment-wait-type READY_WAIT"
    )


def timeout_message(
    deployment_id: str,
    last_status: str,
    remaining_seconds: float,
    console_url: str,
    *,
    stop_said: str | None,
) -> str:
    """Why the trigger stopped waiting, and what the person can do next.

    ``stop_said`` is what happened to StopDeployment with ``stopOnTimeout``
    (None when the option is off).
    """
    message = (
        f"stopped waiting for CodeDeploy deployment {deployment_id} (last status "
        f"{last_status}) with {remaining_seconds:.0f}s left before the Lambda timeout. "
    )
    if stop_said is not None:
        message += stop_said
    elif last_status == "Ready":
        message += (
            f"The deployment is Ready: {READY_EXPLANATION}. Raising the function's timeout "
            f"will not help; to continue run: {continue_command(deployment_id)} . "
        )
    else:
        resume = json.dumps({"deploymentId": deployment_id})
        message += (
            "The deployment keeps running in CodeDeploy. To wait for it again, invoke the "
            f"trigger with {resume}, or raise the function's timeout. "
        )
    return message + f"Console: {console_url}"


def stop_message(said: str | None, error: Exception | None) -> str:
    """The StopDeployment part of a timeout message (``stopOnTimeout``)."""
    if error is not None:
        return (
            "stopOnTimeout is set but StopDeployment failed, so the deployment may still be "
            f"running: {error}. "
        )
    return (
        "stopOnTimeout is set: StopDeployment was called with autoRollbackEnabled=true "
        f"(CodeDeploy said: {said}); the deployment is being stopped and rolled back. "
    )


def active_timeout_message(active_deployment_id: str) -> str:
    return (
        f"gave up waiting for active deployment {active_deployment_id} in the deployment group "
        "to end before creating ours: the function is about to run out of time. Nothing was "
        "created; apply again once it has ended."
    )


def active_ready_message(active_deployment_id: str, console_url: str) -> str:
    return (
        f"the deployment group's active deployment {active_deployment_id} is Ready: "
        f"{READY_EXPLANATION}. It will not end by itself before the group's wait time, so "
        'onActiveDeployment "wait" does not wait for it. Nothing was created. To continue it '
        f"run: {continue_command(active_deployment_id)} , then apply again. "
        f"Console: {console_url}"
    )


def create_outcome_unknown_message(group: str, cause: str, since: str) -> str:
    return (
        f"CreateDeployment for {group} may or may not have started a deployment ({cause}), "
        f"and no deployment of this revision created since {since} was found in the group. "
        "It was not retried, because CodeDeploy has no idempotency token and a resend could "
        "deploy twice. Check the group's deployments in the console, then apply again."
    )


def create_outcome_ambiguous_message(group: str, cause: str, candidates: list[str]) -> str:
    return (
        f"CreateDeployment for {group} failed on the way back ({cause}) and several "
        f"deployments of this revision were created meanwhile: {', '.join(candidates)}. "
        "Not knowing which is ours, the trigger does not wait; check them in the console."
    )
