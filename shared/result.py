"""The trigger's output and its failure messages: one place for what a caller reads."""

from __future__ import annotations

from typing import Any, TypedDict

from shared.codedeploy import DeploymentSnapshot


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
