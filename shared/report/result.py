"""The shapes a caller reads back: the trigger's result, a skipped Terraform delete, and
the history query's answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from shared.adapters.codedeploy import DeploymentSnapshot
from shared.report.lines import clean, one_line
from shared.report.messages import traffic_shifted_next_step
from shared.status import TRAFFIC_SHIFTED, is_terminal, milestone_met

if TYPE_CHECKING:
    from shared.adapters.diagnostics import Timeline

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
    computePlatform: str | None
    """``Server`` (EC2/on-premises), ``Lambda`` or ``ECS``, as GetDeployment reports it."""
    consoleUrl: str
    detectedBy: str | None
    complete: bool
    """True when the deployment ended or met ``waitUntil``; false after ``onDeadline: return``
    (or ``wait: false``) while it still runs: another invocation can carry on."""
    milestone: str | None
    """What met ``waitUntil``: ``Ready``, ``TrafficShifted`` or ``Succeeded``, else null."""
    nextStep: str
    """Only with milestone ``TrafficShifted``: how to end the termination wait early."""
    groupClock: dict[str, int]
    """The deployment group's own waits in minutes (``readyWaitMinutes``,
    ``trafficRoutingMinutes``, ``terminationWaitMinutes``, ``longestMinutes``), when the group
    could be read (shared/trigger/group_clock.py)."""
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
    group_clock: dict[str, int] | None = None,
) -> TriggerResult:
    milestone = milestone_met(
        snapshot.status,
        wait_until,
        termination_wait_started=snapshot.instance_termination_wait_started,
    )
    result = TriggerResult(
        deploymentId=snapshot.deployment_id,
        status=snapshot.status,
        createdAt=snapshot.created_at,
        completedAt=snapshot.completed_at,
        applicationName=snapshot.application_name,
        deploymentGroupName=snapshot.deployment_group_name,
        computePlatform=snapshot.compute_platform,
        consoleUrl=console_url,
        detectedBy=detected_by,
        complete=milestone is not None or is_terminal(snapshot.status),
        milestone=milestone,
        replayed=replay_reason is not None,
        replayReason=replay_reason,
    )
    if milestone == TRAFFIC_SHIFTED:
        result["nextStep"] = traffic_shifted_next_step(snapshot.deployment_id)
    if group_clock is not None:
        result["groupClock"] = dict(group_clock)
    if snapshot.error_information:
        result["errorInformation"] = snapshot.error_information
    if snapshot.rollback_info:
        result["rollbackInfo"] = snapshot.rollback_info
    if timeline is not None:
        in_place = snapshot.deployment_type == "IN_PLACE"
        result["lifecycle"] = lifecycle_summary(timeline, in_place=in_place)
    return result


def lifecycle_summary(timeline: Timeline, *, in_place: bool = False) -> dict[str, Any]:
    # The failure module loads with a failure or a timeline, not with every import.
    from shared.report.failure import target_name

    """``lifecycle`` of a success result: where the time went, for the first target.

    Bounded: at most MAX_LIFECYCLE_EVENTS events of five short fields each. ``target`` names
    the target as its platform does (an instance, a Lambda alias shift, an ECS task set).
    """
    summary: dict[str, Any] = {"targetCount": timeline.target_count}
    if timeline.target is not None:
        summary["targetId"] = one_line(timeline.target.target_id, 200)
        summary["target"] = target_name(timeline.target, in_place=in_place)
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
