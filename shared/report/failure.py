"""The failure text: everything a person needs to act on a failed deployment, on one line,
under 4 KB; and where a deployment that outlived the wait stands."""

from __future__ import annotations

from dataclasses import dataclass

from shared.adapters.codedeploy import DeploymentSnapshot
from shared.adapters.diagnostics import (
    Diagnostics,
    EcsService,
    LifecycleEvent,
    RollbackReport,
    Target,
    Timeline,
)
from shared.report.lines import LOG_LINE_SEPARATOR, SECTION_SEPARATOR, clean, one_line, squeeze
from shared.text import MAX_MESSAGE_BYTES, cut, mask_secrets, printed_size

MAX_MESSAGE_CHARS = MAX_MESSAGE_BYTES
"""The failure message's bound, as the Lambda runtime prints it (shared/text.py)."""


LOG_TAIL_LINES = 10


LOG_TAIL_BYTES = 1024


_TARGET_KINDS = {
    "ECSTarget": "ECS service",
    "LambdaTarget": "Lambda function",
    "InstanceTarget": "instance",
    "Instance": "instance",
    "CloudFormationTarget": "CloudFormation stack",
}


def failure_message(
    snapshot: DeploymentSnapshot,
    console_url: str,
    diagnostics: Diagnostics | None = None,
    rollback: RollbackReport | None = None,
    *,
    log_tails_left_out: str | None = None,
    next_step: str | None = None,
    replay_reason: str | None = None,
) -> str:
    """Everything a person needs to act on a failed deployment, on one line, under 4 KB.

    Sections, separated by " | ": the deployment and its compute platform, up to three
    failing targets named as their platform names them (instance, Lambda alias shift, ECS
    task set) with their first failed lifecycle event (hook script or function, what it
    reported, log tail), then CodeDeploy's error code and summary (generic: "too many
    individual instances failed"), the ECS service's stopped tasks and events, alarms, why
    diagnostics are missing, the rollback, ``next_step`` (what to do in Terraform), the
    console link.
    Long parts are shortened until the whole fits, log tails first. Every text read from AWS
    has its credential shapes masked; ``log_tails_left_out`` (why) replaces each log tail by
    a note. ``replay_reason``: this invocation returned an identical request's deployment
    instead of creating one; the message says so right after the headline.
    """
    head = [_headline(snapshot)]
    in_place = snapshot.deployment_type == "IN_PLACE"
    if replay_reason:
        head.append(f"Not created by this invocation: {clean(replay_reason, 300)}")
    error = snapshot.error_information or {}
    summary = []
    if error:
        text = clean(str(error.get("message", "")), 1000)
        summary.append(f"{one_line(str(error.get('code', 'UNKNOWN')), 100)}: {text}")
    tail = [*_rollback_sections(snapshot, rollback, _serving_before(diagnostics))]
    if next_step:
        tail.append(next_step)
    tail.append(f"Console: {one_line(console_url, 400)}")
    body: list[str] = summary
    for log_bytes, text_bytes in ((LOG_TAIL_BYTES, 400), (512, 300), (256, 200), (0, 120)):
        if diagnostics:
            tails = _LogTails(log_bytes, log_tails_left_out)
            body = _diagnostics_sections(diagnostics, tails, text_bytes, summary, in_place=in_place)
        message = SECTION_SEPARATOR.join([*head, *body, *tail])
        if printed_size(message) <= MAX_MESSAGE_BYTES:
            return message
    return squeeze(head, body, tail)


def progress_note(timeline: Timeline) -> str | None:
    """Where a deployment that outlived the wait stands: its first unfinished lifecycle event."""
    target = timeline.target
    if target is None:
        if timeline.unavailable:
            return f"progress unavailable: {clean(timeline.unavailable, 200)}"
        return None
    current = next((e for e in target.lifecycle_events if e.status != "Succeeded"), None)
    where = target_name(target)
    if current is None:
        return f"{where}: every lifecycle event succeeded so far"
    since = f" since {current.started_at}" if current.started_at else ""
    return f"{where} at {one_line(current.name, 100)} ({current.status or 'unknown'}{since})"


def target_name(target: Target, *, in_place: bool = False) -> str:
    """A target as its platform names it: ``instance i-...``, ``Lambda function NAME alias
    ALIAS version A -> B``, ``ECS service CLUSTER:SERVICE, replacement task set ID``."""
    name = f"{_kind(target)} {one_line(target.target_id, 200)}"
    shift = target.lambda_shift
    if target.target_type == "LambdaTarget" and shift is not None:
        name = f"Lambda function {one_line(shift.function or target.target_id, 200)}"
        if shift.alias:
            name += f" alias {one_line(shift.alias, 100)}"
        if shift.current_version or shift.target_version:
            current = one_line(shift.current_version, 40) or "?"
            name += f" version {current} -> {one_line(shift.target_version, 40) or '?'}"
    elif target.target_type == "ECSTarget" and target.replacement_task_set:
        name += f", replacement task set {one_line(target.replacement_task_set, 200)}"
    # An in-place deployment's instances are all labelled Blue (InstanceTarget.instanceLabel
    # tells an original from a replacement): the label says something only in blue/green.
    if target.label and not in_place:
        name += f", {one_line(target.label, 40)}"
    return name


def _headline(snapshot: DeploymentSnapshot) -> str:
    line = f"CodeDeploy deployment {one_line(snapshot.deployment_id, 100)} {snapshot.status}"
    where = [
        one_line(name, 100)
        for name in (snapshot.application_name, snapshot.deployment_group_name)
        if name
    ]
    where = ["/".join(where)] if where else []
    if snapshot.compute_platform:
        where.append(f"{one_line(snapshot.compute_platform, 20)} platform")
    return f"{line} ({', '.join(where)})" if where else line


@dataclass(frozen=True)
class _LogTails:
    """How log tails are shown in this attempt at fitting: within ``max_bytes`` (0: not at
    all), or replaced by a note saying why they are ``left_out``."""

    max_bytes: int
    left_out: str | None = None


def _diagnostics_sections(
    diagnostics: Diagnostics,
    tails: _LogTails,
    text_bytes: int,
    summary: list[str],
    *,
    in_place: bool = False,
) -> list[str]:
    # The failing hook first: CodeDeploy's summary only says that something failed.
    sections = [
        _target_section(t, tails, text_bytes, in_place) for t in diagnostics.failing_targets
    ]
    sections.extend(summary)
    more = diagnostics.failing_target_count - len(diagnostics.failing_targets)
    if more > 0:
        sections.append(f"and {more} more failing target{'s' if more > 1 else ''}")
    sections.extend(_ecs_section(s, text_bytes) for s in diagnostics.ecs_services)
    if diagnostics.alarms:
        names = ", ".join(one_line(a, 100) for a in diagnostics.alarms[:10])
        sections.append(f"alarms watched by the deployment: {names}")
    if diagnostics.unavailable:
        sections.append(f"diagnostics unavailable: {clean(diagnostics.unavailable, 300)}")
    return sections


def _target_section(target: Target, tails: _LogTails, text_bytes: int, in_place: bool) -> str:
    text = target_name(target, in_place=in_place)
    event = target.first_failed_event
    if event is None:
        return f"{text}: {target.status or 'status unknown'}, no failed lifecycle event reported"
    return f"{text}: {_event_text(event, _hook_kind(target), tails, text_bytes)}"


def _hook_kind(target: Target) -> str:
    """What runs a lifecycle hook: a script of the AppSpec on an instance (EC2/on-premises),
    a Lambda function on the ECS and Lambda platforms (CodeDeploy user guide, AppSpec
    "hooks" section)."""
    return "script" if target.target_type in ("InstanceTarget", "Instance") else "hook function"


def _event_text(event: LifecycleEvent, hook: str, tails: _LogTails, text_bytes: int) -> str:
    text = f"{one_line(event.name, 100)} {event.status}"
    found = event.diagnostics
    if found is None:
        return text
    if found.script_name:
        text += f", {hook} {one_line(found.script_name, 200)}"
    said = ": ".join(clean(part, text_bytes) for part in (found.error_code, found.message) if part)
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
    lines = [one_line(line, 10_000) for line in mask_secrets(log).splitlines()]
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
    name = f"ECS {one_line(service.cluster, 200)}/{one_line(service.service, 200)}"
    if service.unavailable:
        return f"{name}: details unavailable: {clean(service.unavailable, 300)}"
    parts: list[str] = []
    for task in service.stopped_tasks:
        reason = clean(task.stopped_reason, text_bytes)
        text = f"stopped task {one_line(task.task_id, 100)}: {reason}"
        if task.container:
            exit_code = f" exit code {task.exit_code}" if task.exit_code is not None else ""
            said = clean(task.container_reason, text_bytes)
            said = f": {said}" if said else ""
            text += f" (container {one_line(task.container, 100)}{exit_code}{said})"
        parts.append(text)
    if service.events:
        events = LOG_LINE_SEPARATOR.join(clean(e, text_bytes) for e in service.events)
        parts.append(f"latest service events: {events}")
    return f"{name}: {'; '.join(parts) if parts else 'no stopped tasks or events reported'}"


def rollback_sentence(snapshot: DeploymentSnapshot, report: RollbackReport) -> str:
    """How the rollback went, as the failure text says it."""
    return " ".join(_rollback_sections(snapshot, report))


def _serving_before(diagnostics: Diagnostics | None) -> str | None:
    """What served before a Lambda deployment, which a rollback puts back: the alias's
    original version (the one its traffic was shifting away from)."""
    if diagnostics is None:
        return None
    for target in diagnostics.failing_targets:
        shift = target.lambda_shift
        if target.target_type == "LambdaTarget" and shift is not None and shift.current_version:
            function = one_line(shift.function or target.target_id, 200)
            alias = f" alias {one_line(shift.alias, 100)}" if shift.alias else ""
            version = one_line(shift.current_version, 40)
            return f"Lambda function {function}{alias} version {version}"
    return None


def _rollback_sections(
    snapshot: DeploymentSnapshot, report: RollbackReport | None, serving_before: str | None = None
) -> list[str]:
    info = snapshot.rollback_info or {}
    rollback_id = (report.deployment_id if report else None) or info.get("rollbackDeploymentId")
    if not rollback_id:
        message = info.get("rollbackMessage")
        return [f"Rollback: {clean(str(message), 300).rstrip('.')}"] if message else []
    text = f"Rolled back by deployment {one_line(str(rollback_id), 100)}"
    if report is None:
        return [text]
    if report.status == "Succeeded":
        if serving_before:
            return [f"{text}: Succeeded, {serving_before} is serving again"]
        return [f"{text}: Succeeded, the previous version is serving again"]
    if report.status in ("Failed", "Stopped"):
        return [f"{text}: {report.status}, the previous version may NOT be serving"]
    note = f" ({clean(report.note, 300)})" if report.note else ""
    if report.status is None:
        return [f"{text}: its outcome could not be read{note}"]
    status = one_line(report.status, 40)
    return [f"{text}: still {status} when the function had to answer{note}"]


def _kind(target: Target) -> str:
    return _TARGET_KINDS.get(target.target_type, "target")
