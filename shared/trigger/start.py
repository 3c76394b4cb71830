"""The first step: the deployment to wait for. Attach to the one named, continue or stop
it (shared/trigger/control.py), or create one, or return the one an identical request
created (replay), waiting first for the group's active deployment when asked to
(``onActiveDeployment: "wait"``), or stopping it first when this function created it
(``"supersede"``)."""

from __future__ import annotations

from datetime import timedelta

from shared.adapters.codedeploy import DeploymentSnapshot
from shared.adapters.idempotency import DuplicateInProgress, IdempotencyUnavailable
from shared.contract.request import AttachRequest, ContinueRequest, CreateRequest, StopRequest
from shared.errors import (
    ActiveDeploymentConflict,
    DeploymentWaitTimeout,
    InvalidInput,
    StatusTableUnavailable,
)
from shared.observability import logger
from shared.report.messages import (
    SUPERSEDE_UNNAMED,
    active_ready_message,
    active_timeout_message,
    duplicate_in_progress_message,
    not_superseded_message,
    supersede_timeout_message,
)
from shared.status import DeploymentStatus
from shared.timestamps import from_iso, utc_now
from shared.trigger.create import announce_created, create_noted
from shared.trigger.invocation import Invocation
from shared.trigger.wait import build_waiter
from shared.trigger.waiter import WaitDeadlineReached

DUPLICATE_RETRY_SECONDS = 1.0

# The proof of ownership (shared/trigger/ownership.py) and continue/stop
# (shared/trigger/control.py) are imported where they are used: only stopOnTimeout,
# continue, stop and supersede need them, and a create or an attach does not pay their import.


def start(inv: Invocation) -> tuple[str, bool]:
    """The deployment id, and whether this invocation's CreateDeployment made it."""
    match inv.request:
        case AttachRequest(deployment_id=deployment_id):
            just_created = False
            logger.append_keys(deploymentId=deployment_id)
            logger.info("attaching to an existing deployment")
            if inv.options.stop_on_timeout:
                from shared.trigger.ownership import require_created_here

                # Before any wait, so a refusal arrives at once and nothing is stopped.
                require_created_here(inv, deployment_id)
        case ContinueRequest() | StopRequest() as control:
            from shared.trigger.control import take_control

            deployment_id, just_created = take_control(inv, control), False
        case CreateRequest() as request:
            deployment_id, just_created = create(inv, request)
    inv.progress.deployment_id = deployment_id
    inv.progress.just_created = just_created
    return deployment_id, just_created


def create(inv: Invocation, request: CreateRequest) -> tuple[str, bool]:
    """Create the deployment, or find the one an identical request is running."""
    logger.info("creating deployment", extra=request.for_log())
    while True:
        try:
            deployment_id, fresh = _create_once(inv, request)
        except ActiveDeploymentConflict as conflict:
            if request.on_active_deployment != "wait":
                raise
            wait_for_active(inv, conflict)
            continue
        except DuplicateInProgress as busy:
            # An identical request is inside CreateDeployment right now; its
            # record completes in a moment, then this one attaches to it.
            inv.pause(DUPLICATE_RETRY_SECONDS, _gave_up_on_duplicate(inv, request, busy))
            continue
        except IdempotencyUnavailable as error:
            # Raised only before CreateDeployment was sent (a failure after it keeps
            # the deployment or CreateDeployment's own error; shared/adapters/idempotency.py).
            # Same table as the status store: stop using it for this invocation.
            # CodeDeploy's one-active-deployment-per-group rule still stops most
            # duplicates.
            inv.health.lose(error)
            continue
        if fresh:
            announce_created(inv, request, deployment_id)
            return deployment_id, True
        if replays(inv, request, deployment_id):
            return deployment_id, False


def _gave_up_on_duplicate(
    inv: Invocation, request: CreateRequest, busy: DuplicateInProgress
) -> DeploymentWaitTimeout:
    """Raised if the deadline allows no further look at the identical request's record."""
    logger.warning("identical request still in progress; giving up", extra={"reason": str(busy)})
    return DeploymentWaitTimeout(
        duplicate_in_progress_message(request.application_name, request.deployment_group_name)
    )


def _create_once(inv: Invocation, request: CreateRequest) -> tuple[str, bool]:
    deduplicator = inv.health.deduplicator

    def create_it() -> str:
        if request.on_active_deployment == "supersede":
            return create_superseding(inv, request)
        return create_noted(inv, request)

    if deduplicator is None:
        return create_it(), True
    return deduplicator.create_once(request.idempotency_payload, create_it)


def create_superseding(inv: Invocation, request: CreateRequest) -> str:
    """``onActiveDeployment: "supersede"``: CreateDeployment; when the group is busy with a
    deployment this function created, stop it (with rollback), let it (and its rollback)
    end, and create then.

    Runs inside the idempotent create step, so its record stays in progress throughout: an
    identical request meanwhile waits and then attaches to the deployment created here,
    instead of stopping or creating anything itself.
    """
    while True:
        try:
            return create_noted(inv, request)
        except ActiveDeploymentConflict as conflict:
            supersede(inv, conflict)


def supersede(inv: Invocation, conflict: ActiveDeploymentConflict) -> None:
    """Stop the group's active deployment if this function created it, and wait for it and
    its rollback to end; a foreign one is the conflict, saying why it was not stopped."""
    from shared.trigger.control import send_control
    from shared.trigger.ownership import SUPERSEDE, require_created_here

    active = conflict.active_deployment_id
    if active is None:
        raise ActiveDeploymentConflict(
            not_superseded_message(str(conflict), SUPERSEDE_UNNAMED), active_deployment_id=None
        ) from conflict
    inv.progress.active_deployment_id = active
    seen = inv.codedeploy.get(active)
    triggering = (seen.rollback_info or {}).get("rollbackTriggeringDeploymentId")
    rolls_back = seen.creator == "codeDeployRollback" and bool(triggering)
    owner = str(triggering) if rolls_back else active
    try:
        # A rollback of a deployment this function created (an earlier supersede's, say) is
        # never stopped: it restores the previous version; the new deployment waits for it.
        _, owned = require_created_here(inv, owner, SUPERSEDE)
    except (InvalidInput, StatusTableUnavailable) as refusal:
        raise ActiveDeploymentConflict(
            not_superseded_message(str(conflict), str(refusal)), active_deployment_id=active
        ) from refusal
    if rolls_back:
        logger.info(
            "the group's active deployment is the rollback of one this function created; "
            "waiting for it to end, not stopping it",
            extra={"activeDeploymentId": active, "rolledBackDeploymentId": owner},
        )
        _wait_to_end(inv, active, f"rollback deployment {active} of deployment {owner}")
    else:
        sent = False
        if not owned.is_terminal:
            logger.info(
                "superseding the group's active deployment", extra={"activeDeploymentId": active}
            )
            sent = send_control(inv, SUPERSEDE, "STOP", active, rollback=True)
        how = "stopped by this invocation" if sent else "its stop requested by an earlier one"
        ended = _wait_to_end(inv, active, f"deployment {active} ({how})")
        rollback = (ended.rollback_info or {}).get("rollbackDeploymentId")
        if rollback:
            logger.info(
                "waiting for the superseded deployment's rollback",
                extra={"rollbackDeploymentId": rollback},
            )
            inv.progress.active_deployment_id = str(rollback)
            what = f"rollback deployment {rollback} of deployment {active}"
            rolled_back = _wait_to_end(inv, str(rollback), what)
            if rolled_back.status != DeploymentStatus.SUCCEEDED:
                logger.warning(
                    "the superseded deployment's rollback did not succeed; creating ours anyway",
                    extra={"rollbackDeploymentId": rollback, "rollbackStatus": rolled_back.status},
                )
    if seen.is_terminal:
        # CodeDeploy named a deployment that had ended already: give it a poll interval.
        inv.pause(inv.settings.poll_interval, conflict)
    inv.progress.active_deployment_id = None


def _wait_to_end(inv: Invocation, deployment_id: str, what: str) -> DeploymentSnapshot:
    try:
        outcome = build_waiter(inv).wait(deployment_id, inv.deadline, just_created=False)
    except WaitDeadlineReached as reached:
        raise DeploymentWaitTimeout(supersede_timeout_message(what)) from reached
    return outcome.snapshot


def wait_for_active(inv: Invocation, conflict: ActiveDeploymentConflict) -> None:
    """``onActiveDeployment: wait``: let the group's running deployment end first."""
    active = conflict.active_deployment_id
    logger.info(
        "deployment group busy; waiting for the active deployment",
        extra={"activeDeploymentId": active},
    )
    if active is None:
        # CodeDeploy did not name it: retry CreateDeployment after one poll interval.
        inv.pause(inv.settings.poll_interval, conflict)
        return
    inv.progress.active_deployment_id = active
    try:
        outcome = build_waiter(inv).wait(
            active,
            inv.deadline,
            just_created=False,
            milestones=frozenset({DeploymentStatus.READY}),
        )
    except WaitDeadlineReached:
        raise DeploymentWaitTimeout(active_timeout_message(active)) from conflict
    inv.progress.active_deployment_id = None
    if outcome.snapshot.status == DeploymentStatus.READY:
        # Ready does not end by itself (ContinueDeployment or the group's wait time).
        url = inv.codedeploy.console_url(active)
        raise ActiveDeploymentConflict(
            active_ready_message(active, url), active_deployment_id=active
        ) from conflict


def replays(inv: Invocation, request: CreateRequest, deployment_id: str) -> bool:
    """An identical request created ``deployment_id`` earlier: is this a replay of it?

    Only a true duplicate (an SDK resend of Invoke, an async retry) should attach:
    those arrive while the first deployment runs or seconds after it ended. A
    revert to an earlier input, or ``terraform apply -replace`` after the replay
    window, must deploy again.
    """
    snapshot = inv.codedeploy.get(deployment_id)
    logger.append_keys(deploymentId=deployment_id)
    replayed, reason = _replay_decision(inv, snapshot)
    if replayed:
        logger.info(
            "identical request already created this deployment; returning it",
            extra={"status": snapshot.status, "replayReason": reason},
        )
        inv.progress.replay_reason = reason
        return True
    logger.info(
        f"identical request's deployment {reason}; creating a new one",
        extra={"previousStatus": snapshot.status},
    )
    if not inv.health.forget(request.idempotency_payload):
        inv.health.without_duplicate_protection()
    logger.remove_keys(["deploymentId"])
    return False


def _replay_decision(inv: Invocation, snapshot: DeploymentSnapshot) -> tuple[bool, str]:
    """Whether to return ``snapshot``'s deployment, and why (or why to deploy again)."""
    if not snapshot.is_terminal:
        return True, (
            f"an identical request created this deployment and it has not ended "
            f"({snapshot.status}); returned it instead of deploying again"
        )
    if snapshot.is_unsuccessful:
        return False, "ended unsuccessfully"
    ended = from_iso(snapshot.completed_at)
    window = timedelta(seconds=inv.settings.replay_window)
    if ended is None or utc_now() - ended > window:
        return False, f"ended more than REPLAY_WINDOW_SECONDS ({window.total_seconds():g}s) ago"
    newer = _newer_deployments(inv, snapshot)
    if newer:
        return False, f"was followed by a newer deployment in the group ({', '.join(newer)})"
    age = max(0.0, (utc_now() - ended).total_seconds())
    return True, (
        f"an identical request's deployment succeeded {age:.0f}s ago, within "
        f"REPLAY_WINDOW_SECONDS ({window.total_seconds():g}s); returned it instead of "
        "deploying again"
    )


def _newer_deployments(inv: Invocation, snapshot: DeploymentSnapshot) -> list[str]:
    created = from_iso(snapshot.created_at)
    app, group = snapshot.application_name, snapshot.deployment_group_name
    if created is None or app is None or group is None:
        return []
    infos = inv.codedeploy.created_since(app, group, created)
    return sorted(
        str(info["deploymentId"])
        for info in infos
        if info.get("deploymentId") != snapshot.deployment_id
    )
