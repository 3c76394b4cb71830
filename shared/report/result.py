"""The shapes a caller reads back: the trigger's result, a skipped Terraform delete, and
the history query's answer."""

from __future__ import annotations

from typing import Any, TypedDict

from shared.adapters.codedeploy import DeploymentSnapshot
from shared.adapters.diagnostics import (
    Timeline,
)
from shared.report.lines import clean, one_line
from shared.status import is_terminal, milestone_met

MAX_LIFECYCLE_EVENTS = 20


TERRAFORM_DELETE_REASON = (
    "Terraform is destroying or replacing this aws_lambda_invocation; no deployment was created"
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
    complete: bool
    """True when the deployment ended or met ``waitUntil``; false after ``onDeadline: return``
    (or ``wait: false``) while it still runs: another invocation can carry on."""
    milestone: str | None
    """The status that met ``waitUntil`` (``Ready`` or ``Succeeded``), else null."""
    errorInformation: dict[str, Any]
    rollbackInfo: dict[str, Any]
    lifecycle: dict[str, Any]
    replayed: bool
    """True when an identical request's earlier deployment is returned instead of a new one."""
    replayReason: str | None
    """Why it was replayed (still running, or succeeded within the replay window), else null."""


class SkippedResult(TypedDict):
    status: str
    reason: str


def build_result(
    snapshot: DeploymentSnapshot,
    console_url: str,
    detected_by: str | None,
    timeline: Timeline | None = None,
    *,
    wait_until: str = "Succeeded",
    replay_reason: str | None = None,
) -> TriggerResult:
    milestone = milestone_met(snapshot.status, wait_until)
    result = TriggerResult(
        deploymentId=snapshot.deployment_id,
        status=snapshot.status,
        createdAt=snapshot.created_at,
        completedAt=snapshot.completed_at,
        applicationName=snapshot.application_name,
        deploymentGroupName=snapshot.deployment_group_name,
        consoleUrl=console_url,
        detectedBy=detected_by,
        complete=milestone is not None or is_terminal(snapshot.status),
        milestone=milestone,
        replayed=replay_reason is not None,
        replayReason=replay_reason,
    )
    if snapshot.error_information:
        result["errorInformation"] = snapshot.error_information
    if snapshot.rollback_info:
        result["rollbackInfo"] = snapshot.rollback_info
    if timeline is not None:
        result["lifecycle"] = lifecycle_summary(timeline)
    return result


def lifecycle_summary(timeline: Timeline) -> dict[str, Any]:
    """``lifecycle`` of a success result: where the time went, for the first target.

    Bounded: at most MAX_LIFECYCLE_EVENTS events of five short fields each.
    """
    summary: dict[str, Any] = {"targetCount": timeline.target_count}
    if timeline.target is not None:
        summary["targetId"] = one_line(timeline.target.target_id, 200)
        summary["events"] = [
            {
                "name": one_line(event.name, 100),
                "status": event.status,
                "startedAt": event.started_at,
                "endedAt": event.ended_at,
                "durationSeconds": event.duration_seconds,
            }
            for event in timeline.target.lifecycle_events[:MAX_LIFECYCLE_EVENTS]
        ]
    if timeline.unavailable:
        summary["unavailable"] = clean(timeline.unavailable, 300)
    return summary


def skipped(reason: str) -> SkippedResult:
    return SkippedResult(status="Skipped", reason=reason)


class HistoryEntry(TypedDict):
    deploymentId: str
    status: str
    createdAt: str | None
    completedAt: str | None
    source: str


class HistoryResult(TypedDict):
    deployments: list[HistoryEntry]
    latest: HistoryEntry | None
