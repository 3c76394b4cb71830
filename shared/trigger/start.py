"""The first step: the deployment to wait for. Attach to the one named, or create one,
or return the one an identical request created (replay), waiting first for the group's
active deployment when asked to (``onActiveDeployment: "wait"``)."""

from __future__ import annotations

from datetime import timedelta

from shared.adapters.codedeploy import DeploymentSnapshot
from shared.adapters.idempotency import DuplicateInProgress, IdempotencyUnavailable
from shared.adapters.status_store import StoreUnavailable
from shared.contract.request import AttachRequest, CreateRequest
from shared.errors import (
    ActiveDeploymentConflict,
    DeploymentWaitTimeout,
    InvalidInput,
    StatusTableUnavailable,
)
from shared.observability import logger
from shared.report.messages import (
    active_ready_message,
    active_timeout_message,
    duplicate_in_progress_message,
)
from shared.status import DeploymentStatus
from shared.timestamps import from_iso, utc_now
from shared.trigger.create import announce_created, create_noted
from shared.trigger.invocation import Invocation
from shared.trigger.wait import build_waiter
from shared.trigger.waiter import WaitDeadlineReached

DUPLICATE_RETRY_SECONDS = 1.0
# A deployment id repeated in an error: real ids are 11 characters, emulators' 36.
SHOWN_ID_CHARACTERS = 64


def start(inv: Invocation) -> tuple[str, bool]:
    """The deployment id, and whether this invocation's CreateDeployment made it."""
    match inv.request:
        case AttachRequest(deployment_id=deployment_id):
            just_created = False
            logger.append_keys(deploymentId=deployment_id)
            logger.info("attaching to an existing deployment")
            if inv.options.stop_on_timeout:
                # Before any wait, so a refusal arrives at once and nothing is stopped.
                require_created_here(inv, deployment_id)
        case CreateRequest() as request:
            deployment_id, just_created = create(inv, request)
    inv.progress.deployment_id = deployment_id
    inv.progress.just_created = just_created
    return deployment_id, just_created


def require_created_here(inv: Invocation, deployment_id: str) -> None:
    """``stopOnTimeout`` on an attached deployment: only if this function created it.

    StopDeployment has no resource type to scope it to (Service Authorization
    Reference), so the role could stop any deployment in the account: the function
    itself must tell its own. The proof is the status table's ``createdBy: trigger``,
    written only right after this function's CreateDeployment returned the id.
    CodeDeploy's own fields cannot prove it (DeploymentInfo names no caller:
    ``creator`` is ``user`` for every CreateDeployment, whoever sent it), but they
    can refute it: another ``creator`` (a rollback, Auto Scaling) or another group
    than the one recorded. Without a table nothing proves it, so it is refused.
    """
    shown = deployment_id[:SHOWN_ID_CHARACTERS]
    keep_waiting = (
        "attach without stopOnTimeout to wait for it, or stop it yourself "
        f"(aws deploy stop-deployment --deployment-id {shown})"
    )
    store = inv.health.store
    if store is None:
        raise InvalidInput(
            f"stopOnTimeout: cannot tell whether this function created deployment {shown}: "
            "that is known from the status table, and STATUS_TABLE_NAME is not set. Only "
            f"deployments this function created are stopped; {keep_waiting}",
            field="stopOnTimeout",
        )
    try:
        record = store.get(deployment_id)
    except StoreUnavailable as error:
        raise StatusTableUnavailable(
            f"stopOnTimeout: cannot tell whether this function created deployment {shown}: "
            f"the status table did not answer ({error}). Nothing was stopped; retry, or "
            f"{keep_waiting}"
        ) from error
    if record is None or not record.created_by_trigger:
        raise InvalidInput(
            f"stopOnTimeout: deployment {shown} was not created by this function (its "
            "status table holds no record of creating it), so it will not be stopped; "
            f"{keep_waiting}",
            field="stopOnTimeout",
        )
    snapshot = inv.codedeploy.get(deployment_id)
    recorded = (record.application_name, record.deployment_group_name)
    reported = (snapshot.application_name, snapshot.deployment_group_name)
    if snapshot.creator != "user" or recorded != reported:
        raise InvalidInput(
            f"stopOnTimeout: CodeDeploy does not confirm that this function created "
            f"deployment {shown} (creator {snapshot.creator!r}, group "
            f"{'/'.join(map(str, reported))}; recorded at creation: "
            f"{'/'.join(map(str, recorded))}), so it will not be stopped; {keep_waiting}",
            field="stopOnTimeout",
        )
    logger.info("stopOnTimeout: this function created the deployment; it may stop it")


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
    if deduplicator is None:
        return create_noted(inv, request), True
    return deduplicator.create_once(request.idempotency_payload, lambda: create_noted(inv, request))


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
