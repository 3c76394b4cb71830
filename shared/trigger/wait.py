"""The wait step: watch our deployment until it ends or reaches the ``waitUntil`` milestone,
and read the group's clock (shared/trigger/group_clock.py) from the wait's first
GetDeployment answer; at the deadline, fail or (``onDeadline: "return"``) take one last look
inside the margin and hand over to the next invocation. The strategy itself is
:class:`~shared.trigger.waiter.DeploymentWaiter`."""

from __future__ import annotations

from shared.adapters.codedeploy import DeploymentSnapshot
from shared.observability import logger
from shared.report.messages import status_log_fields
from shared.status import MILESTONES, TRAFFIC_SHIFTED, is_known
from shared.trigger.group_clock import clock_from_answer
from shared.trigger.invocation import Invocation
from shared.trigger.margin import CallFailure, best_effort
from shared.trigger.waiter import DeploymentWaiter, WaitDeadlineReached, WaitOutcome, WaitPolicy


def build_waiter(inv: Invocation) -> DeploymentWaiter:
    return DeploymentWaiter(
        inv.codedeploy,
        inv.health,
        WaitPolicy.from_settings(inv.settings),
        clock=inv.clock,
        explain_status=status_log_fields,
    )


def wait_for(inv: Invocation, deployment_id: str, *, just_created: bool) -> WaitOutcome:
    """The end or the ``waitUntil`` milestone; at the deadline, the hand-over's last look.

    Raises :class:`WaitDeadlineReached` when the caller must be told it timed out.
    """
    started = inv.clock.monotonic()
    waiter = build_waiter(inv)
    inv.progress.waiter, inv.progress.wait_started = waiter, started
    try:
        outcome = waiter.wait(
            deployment_id,
            inv.deadline,
            just_created=just_created,
            milestones=MILESTONES[inv.options.wait_until],
            traffic_shifted=inv.options.wait_until == TRAFFIC_SHIFTED,
            on_first_answer=lambda answer: clock_from_answer(inv, answer, waiting=True),
        )
    except WaitDeadlineReached as reached:
        return at_deadline(inv, reached, started)
    # A wait that ended on its first GetDeployment answer gives the clock that answer (else
    # it is known already). The outcome is kept first: a clock call the watchdog
    # interrupts must not lose the end.
    inv.progress.outcome = outcome
    clock_from_answer(inv, outcome.snapshot, waiting=False)
    return outcome


def at_deadline(inv: Invocation, reached: WaitDeadlineReached, started: float) -> WaitOutcome:
    """The deadline guard stopped the wait (or the watchdog interrupted it): re-raise to
    fail, or hand over. Its calls are made inside the margin."""
    inv.enter_final_phase()
    deployment_id = reached.deployment_id
    if inv.options.on_deadline == "fail":
        raise reached
    # onDeadline "return": one last look, inside the margin, and answer with what it
    # shows (finish: complete or not); the next invocation attaches and carries on.
    snapshot = best_effort(lambda: inv.clients.codedeploy_final.get(deployment_id))
    if isinstance(snapshot, CallFailure):
        error = snapshot
        if not is_known(reached.last_status):
            raise reached from None
        # The status seen a moment ago keeps the chain going; a failure it missed
        # is reported by the next invocation.
        logger.warning(
            "last look at the deadline failed; answering with the last status seen",
            extra={"reason": str(error), "lastStatus": reached.last_status},
        )
        snapshot = DeploymentSnapshot(deployment_id, reached.last_status)
    else:
        # No GetDeployment reached the wait before its deadline: the last look serves.
        clock_from_answer(inv, snapshot, waiting=False)
    return WaitOutcome(snapshot, "poll", inv.clock.monotonic() - started)
