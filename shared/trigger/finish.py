"""The last step: the answer. A result for a deployment that succeeded or reached its
milestone (with its lifecycle timeline); ``DeploymentFailed`` with the failure explained and
the rollback followed; ``DeploymentWaitTimeout`` at the deadline, after StopDeployment when
asked (``stopOnTimeout``). For a ``stop`` request, Stopped is the answer asked for: a result,
after its rollback is followed (``DeploymentFailed`` when that rollback did not succeed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from shared.adapters.codedeploy import DeploymentSnapshot
from shared.contract.request import CreateRequest, StopRequest
from shared.errors import DeploymentFailed, DeploymentWaitTimeout
from shared.observability import logger, metrics
from shared.report.messages import (
    failure_next_step,
    stop_message,
    stopped_rollback_message,
    timeout_message,
)
from shared.report.result import TriggerResult, build_result
from shared.trigger.invocation import Invocation
from shared.trigger.margin import CallFailure, best_effort
from shared.trigger.wait import build_waiter
from shared.trigger.waiter import WaitDeadlineReached, WaitOutcome

if TYPE_CHECKING:
    from shared.adapters.diagnostics import RollbackReport

STOP_NO_ANSWER = "no answer before the function's deadline"


def answer_without_waiting(inv: Invocation, deployment_id: str) -> TriggerResult:
    """``wait: false``: the deployment as it stands now."""
    snapshot = inv.codedeploy.get(deployment_id)
    url = inv.codedeploy.console_url(deployment_id)
    return build_result(
        snapshot,
        url,
        None,
        wait_until=inv.options.wait_until,
        replay_reason=inv.progress.replay_reason,
    )


def answer_after(inv: Invocation, wait: Callable[[], WaitOutcome]) -> TriggerResult:
    """The answer to how ``wait`` ended: a result, or the timeout raised."""
    try:
        outcome = wait()
    except WaitDeadlineReached as reached:
        raise timeout(inv, reached) from None
    return answer(inv, outcome)


def answer(inv: Invocation, outcome: WaitOutcome) -> TriggerResult:
    inv.progress.outcome = outcome
    inv.enter_final_phase()
    try:
        return _finish(inv, outcome)
    except DeploymentFailed:
        # A retry of this request must deploy again, not replay a failure.
        if isinstance(inv.request, CreateRequest):
            inv.health.forget(inv.request.idempotency_payload)
        raise


def timeout(inv: Invocation, reached: WaitDeadlineReached) -> DeploymentWaitTimeout:
    deployment_id = reached.deployment_id
    stop_said = None
    if inv.options.stop_on_timeout:
        # What the watchdog's answer says if StopDeployment never answers.
        inv.progress.stop_said = stop_message(None, TimeoutError(STOP_NO_ANSWER))
        stop_said = inv.progress.stop_said = _stop(inv, deployment_id)
    logger.error("deadline reached", extra={"lastStatus": reached.last_status})
    # As far as it is known: where the deployment stands, read within the margin.
    from shared.report.failure import progress_note

    progress = progress_note(inv.clients.diagnostics.timeline(deployment_id))
    return DeploymentWaitTimeout(
        timeout_message(
            deployment_id,
            reached.last_status,
            reached.remaining_seconds,
            inv.codedeploy.console_url(deployment_id),
            stop_said=stop_said,
            progress=progress,
            terraform_action=inv.request.terraform_action,
            function_timeout=inv.deadline.function_timeout_seconds,
            retry_attaches=inv.retry_attaches,
        )
    )


def _stop(inv: Invocation, deployment_id: str) -> str:
    said = best_effort(
        lambda: inv.clients.codedeploy_final.stop_deployment(deployment_id, auto_rollback=True)
    )
    if isinstance(said, CallFailure):
        logger.error("StopDeployment failed", exc_info=said)
        return stop_message(None, said)
    logger.warning("deployment stopped on timeout", extra={"stopStatus": said})
    return stop_message(said, None)


def _finish(inv: Invocation, outcome: WaitOutcome) -> TriggerResult:
    snapshot = outcome.snapshot
    url = inv.codedeploy.console_url(snapshot.deployment_id)
    result = build_result(
        snapshot,
        url,
        outcome.detected_by,
        wait_until=inv.options.wait_until,
        replay_reason=inv.progress.replay_reason,
    )
    extra = {
        "status": snapshot.status,
        "detectedBy": outcome.detected_by,
        "waitedSeconds": round(outcome.waited_seconds, 3),
    }
    if not result["complete"]:
        logger.info("deadline reached; handing over to the next invocation", extra=extra)
        return result
    _emit_end_metrics(snapshot, outcome)
    ended = snapshot.is_terminal
    logger.info("deployment ended" if ended else "milestone reached", extra=extra)
    stopped_as_asked = isinstance(inv.request, StopRequest) and snapshot.status == "Stopped"
    if stopped_as_asked:
        _follow_stop(inv, snapshot, url)
    elif snapshot.is_unsuccessful:
        raise DeploymentFailed(_explain(inv, snapshot, url))
    timeline = inv.clients.diagnostics.timeline(snapshot.deployment_id)
    return build_result(
        snapshot,
        url,
        outcome.detected_by,
        timeline,
        wait_until=inv.options.wait_until,
        replay_reason=inv.progress.replay_reason,
    )


def _explain(inv: Invocation, snapshot: DeploymentSnapshot, url: str) -> str:
    """The failure, its failing targets and hooks, and (``waitForRollback``) the rollback."""
    # Only a failure needs the failure text: its modules stay out of the cold start.
    from shared.report.failure import failure_message

    error = snapshot.error_information or {}
    collector = inv.clients.diagnostics
    diagnostics = collector.explain(
        snapshot.deployment_id,
        error_code=error.get("code"),
        application_name=snapshot.application_name,
        deployment_group_name=snapshot.deployment_group_name,
    )
    inv.progress.diagnostics = diagnostics
    # Counts and reasons only: hook messages and log tails may hold secrets. The error
    # carries them masked (shared/report/result.py), and the Lambda runtime logs the error too.
    logger.info(
        "failure diagnostics collected",
        extra={
            "failingTargets": diagnostics.failing_target_count,
            "diagnosticsCalls": collector.calls,
            "diagnosticsUnavailable": diagnostics.unavailable,
        },
    )
    rollback = None
    if inv.options.wait_for_rollback:
        rollback = _follow_rollback(inv, snapshot)
    return failure_message(
        snapshot,
        url,
        diagnostics,
        rollback,
        log_tails_left_out=_log_tails_left_out(inv),
        next_step=failure_next_step(inv.request.terraform_action),
        replay_reason=inv.progress.replay_reason,
    )


def _follow_stop(inv: Invocation, snapshot: DeploymentSnapshot, url: str) -> None:
    """A ``stop`` request's deployment is Stopped; with rollback and ``waitForRollback``, its
    rollback must succeed too, or the apply fails saying how it ended."""
    request = inv.request
    if not isinstance(request, StopRequest) or not request.rollback:
        return
    if not inv.options.wait_for_rollback:
        return
    rollback = _follow_rollback(inv, snapshot)
    if rollback is None or rollback.status == "Succeeded":
        return
    from shared.report.failure import rollback_sentence

    raise DeploymentFailed(
        stopped_rollback_message(snapshot.deployment_id, rollback_sentence(snapshot, rollback), url)
    )


def _log_tails_left_out(inv: Invocation) -> str | None:
    """Why log tails stay out of the error, or None. The operator's INCLUDE_LOG_TAILS is a
    ceiling: an input cannot bring back what the function's configuration leaves out."""
    if not inv.settings.include_log_tails:
        return "INCLUDE_LOG_TAILS is false"
    if not inv.options.include_log_tails:
        return "includeLogTails is false"
    return None


def _follow_rollback(inv: Invocation, snapshot: DeploymentSnapshot) -> RollbackReport | None:
    """Wait for CodeDeploy's rollback deployment, within the deadline, and say how it ended."""
    from shared.adapters.diagnostics import RollbackReport

    rollback_id = (snapshot.rollback_info or {}).get("rollbackDeploymentId")
    if not rollback_id:
        return None
    logger.info("waiting for the rollback deployment", extra={"rollbackDeploymentId": rollback_id})
    try:
        ended = best_effort(
            lambda: build_waiter(inv).wait(str(rollback_id), inv.deadline, just_created=False)
        )
    except WaitDeadlineReached as reached:
        return RollbackReport(rollback_id, reached.last_status, note="deadline reached")
    if isinstance(ended, CallFailure):
        error = ended
        logger.warning("could not follow the rollback", extra={"reason": str(error)})
        return RollbackReport(rollback_id, None, note=str(error)[:300])
    logger.info(
        "rollback deployment ended",
        extra={"rollbackDeploymentId": rollback_id, "rollbackStatus": ended.snapshot.status},
    )
    return RollbackReport(rollback_id, ended.snapshot.status)


def _emit_end_metrics(snapshot: DeploymentSnapshot, outcome: WaitOutcome) -> None:
    # One metric name per status and per path (rather than dimensions) keeps them
    # all in the invocation's single EMF blob, and honours POWERTOOLS_METRICS_DISABLED.
    metrics.add_metric(name="WaitSeconds", unit=MetricUnit.Seconds, value=outcome.waited_seconds)
    metrics.add_metric(name=f"Deployments{snapshot.status}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name=f"DetectedBy{outcome.detected_by.capitalize()}", unit=MetricUnit.Count, value=1
    )
