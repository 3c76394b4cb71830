"""The answer when the watchdog interrupts a call (shared/trigger/watchdog.py): built from
what the invocation has seen (:class:`~shared.trigger.invocation.RunProgress`)."""

from __future__ import annotations

from shared.adapters.codedeploy import DeploymentSnapshot
from shared.contract.request import CreateRequest, StopRequest
from shared.errors import DeploymentFailed, DeploymentWaitTimeout
from shared.observability import logger
from shared.report.messages import (
    active_timeout_message,
    create_interrupted_message,
    failure_next_step,
    out_of_time_before_create_message,
    timeout_message,
)
from shared.report.result import TriggerResult, build_result
from shared.status import DeploymentStatus, is_known
from shared.timestamps import to_iso
from shared.trigger.finish import answer_after
from shared.trigger.invocation import Invocation
from shared.trigger.wait import at_deadline
from shared.trigger.waiter import WaitDeadlineReached, WaitOutcome

DIAGNOSTICS_OUT_OF_TIME = "deadline: no time was left to read them"


def answer_at_deadline(inv: Invocation) -> TriggerResult:
    """A call of the wait phase outlived its budget: answer as at the deadline.

    Only a deployment being waited for gets calls (the last look with ``onDeadline:
    "return"``, StopDeployment, progress), made inside the margin; the watchdog's
    last point bounds them. Everything else is answered from what is known.
    """
    progress = inv.progress
    deployment_id = progress.deployment_id
    # An outcome already known (the wait had ended) needs no last look.
    ended = progress.outcome is not None
    if progress.final_phase or ended or deployment_id is None or not inv.options.wait:
        return answer_with_what_is_known(inv)
    started = progress.wait_started if progress.wait_started is not None else inv.clock.monotonic()
    reached = _reached_now(inv, deployment_id)
    return answer_after(inv, lambda: at_deadline(inv, reached, started))


def answer_with_what_is_known(inv: Invocation) -> TriggerResult:
    """No time for another call: the answer comes from what this invocation has seen."""
    progress = inv.progress
    if progress.outcome is not None:
        return _ended_without_details(inv, progress.outcome)
    if progress.deployment_id is not None:
        return _still_running(inv, progress.deployment_id)
    if progress.active_deployment_id is not None:
        raise DeploymentWaitTimeout(active_timeout_message(progress.active_deployment_id))
    if progress.create_since is not None and isinstance(inv.request, CreateRequest):
        group = inv.request.group
        logger.error("interrupted while a CreateDeployment had no answer yet")
        message = create_interrupted_message(group, to_iso(progress.create_since) or "")
        raise DeploymentWaitTimeout(message)
    logger.error("interrupted before CreateDeployment was sent; nothing was created")
    raise DeploymentWaitTimeout(
        out_of_time_before_create_message(inv.deadline.function_timeout_seconds)
    )


def _reached_now(inv: Invocation, deployment_id: str) -> WaitDeadlineReached:
    waiter = inv.progress.waiter
    last = waiter.last_status if waiter is not None else None
    if last is None:
        last = DeploymentStatus.CREATED if inv.progress.just_created else "not seen yet"
    return WaitDeadlineReached(deployment_id, last, inv.deadline.remaining_seconds())


def _still_running(inv: Invocation, deployment_id: str) -> TriggerResult:
    """The deployment, as last seen: handed over when the caller allows it, else a
    ``DeploymentWaitTimeout`` naming it."""
    reached = _reached_now(inv, deployment_id)
    url = inv.codedeploy.console_url(deployment_id)
    hand_over = not inv.options.wait or inv.options.on_deadline == "return"
    if hand_over and is_known(reached.last_status):
        logger.info(
            "deadline reached; handing over with the last status seen",
            extra={"lastStatus": reached.last_status},
        )
        snapshot = DeploymentSnapshot(deployment_id, reached.last_status)
        detected_by = "poll" if inv.options.wait else None
        return build_result(
            snapshot,
            url,
            detected_by,
            wait_until=inv.options.wait_until,
            group_clock=inv.progress.group_clock,
        )
    logger.error("deadline reached", extra={"lastStatus": reached.last_status})
    raise DeploymentWaitTimeout(
        timeout_message(
            deployment_id,
            reached.last_status,
            reached.remaining_seconds,
            url,
            stop_said=inv.progress.stop_said,
            terraform_action=inv.request.terraform_action,
            function_timeout=inv.deadline.function_timeout_seconds,
            retry_attaches=inv.retry_attaches,
            group_clock_note=inv.progress.group_clock_note,
        )
    )


def _ended_without_details(inv: Invocation, outcome: WaitOutcome) -> TriggerResult:
    """The wait had ended; the details read after it (lifecycle, rollback) are left out."""
    snapshot = outcome.snapshot
    url = inv.codedeploy.console_url(snapshot.deployment_id)
    stopped_as_asked = isinstance(inv.request, StopRequest) and snapshot.status == "Stopped"
    if snapshot.is_unsuccessful and not stopped_as_asked:
        from shared.adapters.diagnostics import Diagnostics
        from shared.report.failure import failure_message

        diagnostics = inv.progress.diagnostics or Diagnostics(unavailable=DIAGNOSTICS_OUT_OF_TIME)
        next_step = failure_next_step(inv.request.terraform_action)
        raise DeploymentFailed(failure_message(snapshot, url, diagnostics, next_step=next_step))
    return build_result(
        snapshot,
        url,
        outcome.detected_by,
        wait_until=inv.options.wait_until,
        group_clock=inv.progress.group_clock,
    )
