"""The trigger's output and its failure messages: one place for what a caller reads."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, TypedDict

from shared.adapters.codedeploy import DeploymentSnapshot
from shared.adapters.diagnostics import (
    Diagnostics,
    EcsService,
    LifecycleEvent,
    RollbackReport,
    Target,
    Timeline,
)
from shared.status import is_terminal, milestone_met
from shared.text import MAX_MESSAGE_BYTES, cut, mask_secrets, printed_size

MAX_MESSAGE_CHARS = MAX_MESSAGE_BYTES
"""The failure message's bound, as the Lambda runtime prints it (shared/text.py)."""
LOG_TAIL_LINES = 10
LOG_TAIL_BYTES = 1024
MAX_LIFECYCLE_EVENTS = 20
SECTION_SEPARATOR = " | "
LOG_LINE_SEPARATOR = " // "
# Terraform prints the payload JSON-escaped on one line: a newline would show as "\n",
# so sections are joined with " | " and log lines with " // ".
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_TARGET_KINDS = {
    "ECSTarget": "ECS service",
    "LambdaTarget": "Lambda function",
    "InstanceTarget": "instance",
    "Instance": "instance",
    "CloudFormationTarget": "CloudFormation stack",
}


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
        summary["targetId"] = _one_line(timeline.target.target_id, 200)
        summary["events"] = [
            {
                "name": _one_line(event.name, 100),
                "status": event.status,
                "startedAt": event.started_at,
                "endedAt": event.ended_at,
                "durationSeconds": event.duration_seconds,
            }
            for event in timeline.target.lifecycle_events[:MAX_LIFECYCLE_EVENTS]
        ]
    if timeline.unavailable:
        summary["unavailable"] = _clean(timeline.unavailable, 300)
    return summary


def failure_message(
    snapshot: DeploymentSnapshot,
    console_url: str,
    diagnostics: Diagnostics | None = None,
    rollback: RollbackReport | None = None,
    *,
    log_tails_left_out: str | None = None,
) -> str:
    """Everything a person needs to act on a failed deployment, on one line, under 4 KB.

    Sections, separated by " | ": the deployment, CodeDeploy's code and message,
    up to three failing targets with their first failed lifecycle event (hook,
    diagnostics, log tail), the ECS service's stopped tasks and events, alarms,
    why diagnostics are missing, the rollback, the console link. Long parts are
    shortened until the whole fits, log tails first. Every text read from AWS has its
    credential shapes masked; ``log_tails_left_out`` (why) replaces each log tail by a note.
    """
    head = [_headline(snapshot)]
    error = snapshot.error_information or {}
    if error:
        text = _clean(str(error.get("message", "")), 1000)
        head.append(f"{_one_line(str(error.get('code', 'UNKNOWN')), 100)}: {text}")
    tail = [*_rollback_sections(snapshot, rollback), f"Console: {_one_line(console_url, 400)}"]
    body: list[str] = []
    for log_bytes, text_bytes in ((LOG_TAIL_BYTES, 400), (512, 300), (256, 200), (0, 120)):
        if diagnostics:
            tails = _LogTails(log_bytes, log_tails_left_out)
            body = _diagnostics_sections(diagnostics, tails, text_bytes)
        message = SECTION_SEPARATOR.join([*head, *body, *tail])
        if printed_size(message) <= MAX_MESSAGE_BYTES:
            return message
    return _squeeze(head, body, tail)


def progress_note(timeline: Timeline) -> str | None:
    """Where a deployment that outlived the wait stands: its first unfinished lifecycle event."""
    target = timeline.target
    if target is None:
        if timeline.unavailable:
            return f"progress unavailable: {_clean(timeline.unavailable, 200)}"
        return None
    current = next((e for e in target.lifecycle_events if e.status != "Succeeded"), None)
    where = f"{_kind(target)} {_one_line(target.target_id, 200)}"
    if current is None:
        return f"{where}: every lifecycle event succeeded so far"
    since = f" since {current.started_at}" if current.started_at else ""
    return f"{where} at {_one_line(current.name, 100)} ({current.status or 'unknown'}{since})"


def _headline(snapshot: DeploymentSnapshot) -> str:
    line = f"CodeDeploy deployment {_one_line(snapshot.deployment_id, 100)} {snapshot.status}"
    target = "/".join(
        _one_line(name, 100)
        for name in (snapshot.application_name, snapshot.deployment_group_name)
        if name
    )
    return f"{line} ({target})" if target else line


@dataclass(frozen=True)
class _LogTails:
    """How log tails are shown in this attempt at fitting: within ``max_bytes`` (0: not at
    all), or replaced by a note saying why they are ``left_out``."""

    max_bytes: int
    left_out: str | None = None


def _diagnostics_sections(diagnostics: Diagnostics, tails: _LogTails, text_bytes: int) -> list[str]:
    sections = [_target_section(t, tails, text_bytes) for t in diagnostics.failing_targets]
    more = diagnostics.failing_target_count - len(diagnostics.failing_targets)
    if more > 0:
        sections.append(f"and {more} more failing target{'s' if more > 1 else ''}")
    sections.extend(_ecs_section(s, text_bytes) for s in diagnostics.ecs_services)
    if diagnostics.alarms:
        names = ", ".join(_one_line(a, 100) for a in diagnostics.alarms[:10])
        sections.append(f"alarms watched by the deployment: {names}")
    if diagnostics.unavailable:
        sections.append(f"diagnostics unavailable: {_clean(diagnostics.unavailable, 300)}")
    return sections


def _target_section(target: Target, tails: _LogTails, text_bytes: int) -> str:
    label = f", {target.label}" if target.label else ""
    text = f"{_kind(target)} {_one_line(target.target_id, 200)}{label}"
    event = target.first_failed_event
    if event is None:
        return f"{text}: {target.status or 'status unknown'}, no failed lifecycle event reported"
    return f"{text}: {_event_text(event, tails, text_bytes)}"


def _event_text(event: LifecycleEvent, tails: _LogTails, text_bytes: int) -> str:
    text = f"{_one_line(event.name, 100)} {event.status}"
    found = event.diagnostics
    if found is None:
        return text
    if found.script_name:
        text += f", hook {_one_line(found.script_name, 200)}"
    said = ": ".join(_clean(part, text_bytes) for part in (found.error_code, found.message) if part)
    if said:
        text += f": {said}"
    if found.log_tail and tails.left_out:
        text += f"; log tail left out ({tails.left_out})"
    elif found.log_tail and tails.max_bytes > 0:
        text += f"; {_log_tail(found.log_tail, tails.max_bytes)}"
    return text


def _log_tail(log: str, max_bytes: int) -> str:
    """The last LOG_TAIL_LINES non-empty lines within ``max_bytes`` as printed, saying when cut.

    Credentials are masked in the whole tail first: a cut could otherwise leave a secret
    whose key (``password=``) or ``BEGIN ... PRIVATE KEY`` line it removed.
    """
    lines = [_one_line(line, 10_000) for line in mask_secrets(log).splitlines()]
    lines = [line for line in lines if line]
    kept = lines[-LOG_TAIL_LINES:]
    text = LOG_LINE_SEPARATOR.join(kept)
    if printed_size(text) > max_bytes + 2:  # the JSON quotes are not the tail's
        text = cut(text, max_bytes + 2, keep="end", marker="")
        return f"log tail (cut to its last {max_bytes} bytes): ...{text}"
    if len(kept) < len(lines):
        return f"log tail (cut to its last {len(kept)} of {len(lines)} lines): {text}"
    return f"log tail: {text}"


def _ecs_section(service: EcsService, text_bytes: int) -> str:
    name = f"ECS {_one_line(service.cluster, 200)}/{_one_line(service.service, 200)}"
    if service.unavailable:
        return f"{name}: details unavailable: {_clean(service.unavailable, 300)}"
    parts: list[str] = []
    for task in service.stopped_tasks:
        reason = _clean(task.stopped_reason, text_bytes)
        text = f"stopped task {_one_line(task.task_id, 100)}: {reason}"
        if task.container:
            exit_code = f" exit code {task.exit_code}" if task.exit_code is not None else ""
            said = _clean(task.container_reason, text_bytes)
            said = f": {said}" if said else ""
            text += f" (container {_one_line(task.container, 100)}{exit_code}{said})"
        parts.append(text)
    if service.events:
        events = LOG_LINE_SEPARATOR.join(_clean(e, text_bytes) for e in service.events)
        parts.append(f"latest service events: {events}")
    return f"{name}: {'; '.join(parts) if parts else 'no stopped tasks or events reported'}"


def _rollback_sections(snapshot: DeploymentSnapshot, report: RollbackReport | None) -> list[str]:
    info = snapshot.rollback_info or {}
    rollback_id = (report.deployment_id if report else None) or info.get("rollbackDeploymentId")
    if not rollback_id:
        message = info.get("rollbackMessage")
        return [f"Rollback: {_clean(str(message), 300).rstrip('.')}"] if message else []
    text = f"Rolled back by deployment {_one_line(str(rollback_id), 100)}"
    if report is None or not report.waited:
        return [text]
    if report.status == "Succeeded":
        return [f"{text}: Succeeded, the previous version is serving again"]
    if report.status in ("Failed", "Stopped"):
        return [f"{text}: {report.status}, the previous version may NOT be serving"]
    note = f" ({_clean(report.note, 300)})" if report.note else ""
    if report.status is None:
        return [f"{text}: its outcome could not be read{note}"]
    status = _one_line(report.status, 40)
    return [f"{text}: still {status} when the function had to answer{note}"]


def _kind(target: Target) -> str:
    return _TARGET_KINDS.get(target.target_type, "target")


def _clean(text: str | None, limit: int) -> str:
    """Free text read from AWS (messages, reasons, events): credentials masked, then
    :func:`_one_line`. Names and ids are not masked: a cluster named ``secrets:`` stays."""
    return _one_line(mask_secrets(text) if text else text, limit)


def _one_line(text: str | None, limit: int) -> str:
    """One line, no control characters, at most ``limit`` bytes as printed (shared/text.py:
    emoji and CJK count as the runtime prints them)."""
    if not text:
        return ""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return cut(flat, limit + 2)  # printed_size counts the JSON quotes; ``limit`` does not


def _squeeze(head: list[str], body: list[str], tail: list[str]) -> str:
    """Last resort: cut the middle so that head (what failed) and tail (rollback, link) stay.

    Head and tail are cut first, to 1.5 KB and 1 KB (they are shorter unless CodeDeploy's own
    words are huge); the body gets the room left, measured as printed.
    """
    marker = " [cut to fit 4 KB]"
    head_text = cut(SECTION_SEPARATOR.join(head), MAX_MESSAGE_BYTES * 3 // 8)
    tail_text = cut(SECTION_SEPARATOR.join(tail), MAX_MESSAGE_BYTES // 4, keep="end")
    parts = [head_text, "", tail_text]
    room = MAX_MESSAGE_BYTES - printed_size(SECTION_SEPARATOR.join(parts)) - printed_size(marker)
    middle = cut(SECTION_SEPARATOR.join(body), room + 4, marker="") if room > 0 else ""
    return SECTION_SEPARATOR.join([head_text, middle + marker, tail_text])


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
    progress: str | None = None,
) -> str:
    """Why the trigger stopped waiting, and what the person can do next.

    ``stop_said`` is what happened to StopDeployment with ``stopOnTimeout``
    (None when the option is off).
    """
    message = (
        f"stopped waiting for CodeDeploy deployment {deployment_id} (last status "
        f"{last_status}) with {remaining_seconds:.0f}s left before the Lambda timeout. "
    )
    if progress:
        message += f"Progress: {progress}. "
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


def create_interrupted_message(group: str, since: str) -> str:
    """The watchdog interrupted CreateDeployment (or the look-up after an ambiguous one)."""
    return (
        f"ran out of time while CreateDeployment for {group} had no answer yet, so it may or "
        "may not have started a deployment; it was not resent, because CodeDeploy has no "
        f"idempotency token. Check the group's deployments created since {since} in the "
        'console: attach to ours with {"deploymentId": "<id>"}, or apply again if there is '
        "none."
    )


def out_of_time_before_create_message() -> str:
    return (
        "ran out of time before CreateDeployment was sent (a call did not answer before the "
        "function's deadline): no deployment was created. Apply again, or raise the "
        "function's timeout."
    )


def create_outcome_ambiguous_message(group: str, cause: str, candidates: list[str]) -> str:
    return (
        f"CreateDeployment for {group} failed on the way back ({cause}) and several "
        f"deployments of this revision were created meanwhile: {', '.join(candidates)}. "
        "Not knowing which is ours, the trigger does not wait; check them in the console."
    )
