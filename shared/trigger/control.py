"""Continue or stop a deployment this function created: the first step of a ``continue`` or
``stop`` request, before the usual wait and finish.

Refused unless this function created the deployment (shared/trigger/ownership.py), and
checked before any call: ContinueDeployment(READY_WAIT) needs Ready, (TERMINATION_WAIT)
needs InProgress with ``instanceTerminationWaitTimeStarted``; StopDeployment a deployment
that has not ended.

A Terraform re-run repeats a request whose earlier invocation may have acted already and then
failed or run out of time, so the deployment has moved on because of it. The status table
notes each action before it is sent (``StatusStore.claim_control``), and the note decides:

- ``continue``, the deployment no longer where the wait type acts: if this function sent
  that continue before, or the deployment is visibly past that point (READY_WAIT: Succeeded,
  or InProgress once the table has seen it Ready; TERMINATION_WAIT: Succeeded), nothing is
  sent again, the log says so, and the wait goes on as asked. A deployment still in Ready is
  continued again whatever the note says: Ready means the earlier call did not take.
- ``stop``: StopDeployment is sent by one invocation only (the note is a conditional write).
  A repeated request waits for that stop; once the deployment is Stopped it reports it.
"""

from __future__ import annotations

from shared.adapters.codedeploy import DeploymentSnapshot
from shared.adapters.status_store import ControlAction, StatusRecord, StatusStore, StoreUnavailable
from shared.contract.request import ContinueRequest, ControlRequest, StopRequest
from shared.errors import CodeDeployError, InvalidInput, StatusTableUnavailable
from shared.observability import logger
from shared.report.messages import (
    continue_state_message,
    control_note_kept_message,
    control_unrecorded_message,
    stop_state_message,
)
from shared.status import DeploymentStatus, is_known, rank
from shared.trigger.invocation import Invocation
from shared.trigger.ownership import CONTINUE, STOP, Purpose, require_created_here


def take_control(inv: Invocation, request: ControlRequest) -> str:
    """Continue or stop ``request.deployment_id`` (or find it done already); its id."""
    deployment_id = request.deployment_id
    logger.append_keys(deploymentId=deployment_id)
    inv.progress.deployment_id = deployment_id
    if isinstance(request, ContinueRequest):
        record, snapshot = require_created_here(inv, deployment_id, CONTINUE)
        continue_deployment(inv, request, record, snapshot)
    else:
        record, snapshot = require_created_here(inv, deployment_id, STOP)
        stop_deployment(inv, request, record, snapshot)
    return deployment_id


def continue_deployment(
    inv: Invocation, request: ContinueRequest, record: StatusRecord, snapshot: DeploymentSnapshot
) -> None:
    wait_type = request.wait_type
    sent_before = record.control_sent_at.get(wait_type)
    status = snapshot.status
    if status == DeploymentStatus.READY and wait_type == "READY_WAIT":
        send_control(inv, CONTINUE, wait_type, request.deployment_id, claim_only_once=False)
        return
    if (
        wait_type == "TERMINATION_WAIT"
        and sent_before is None
        and status == DeploymentStatus.IN_PROGRESS
        and snapshot.instance_termination_wait_started
    ):
        send_control(inv, CONTINUE, wait_type, request.deployment_id, claim_only_once=False)
        return
    if sent_before is not None:
        logger.info(
            f"ContinueDeployment {wait_type} was sent by an earlier invocation; the deployment "
            "has moved on since, so it is not sent again: waiting as asked",
            extra={"continuedAt": sent_before, "status": status},
        )
        return
    if _past(wait_type, snapshot, record):
        logger.info(
            f"the deployment is already past the point {wait_type} acts on (continued before, "
            "by hand or by the group's own wait time): nothing to send, waiting as asked",
            extra={"status": status, "recordedStatus": record.status},
        )
        return
    raise InvalidInput(
        continue_state_message(
            request.deployment_id, wait_type, status, snapshot.instance_termination_wait_started
        ),
        field="continue",
    )


def _past(wait_type: str, snapshot: DeploymentSnapshot, record: StatusRecord) -> bool:
    """Whether the deployment has visibly moved on from the point ``wait_type`` acts on."""
    if snapshot.status == DeploymentStatus.SUCCEEDED:
        return True
    if wait_type != "READY_WAIT" or snapshot.status not in (
        DeploymentStatus.IN_PROGRESS,
        DeploymentStatus.BAKING,
    ):
        return False
    # The table never records the step back from Ready to InProgress (shared/status.py): a
    # record at Ready or beyond means the deployment was Ready and has been continued.
    seen = record.status
    return is_known(seen) and rank(seen) >= rank(DeploymentStatus.READY)


def stop_deployment(
    inv: Invocation, request: StopRequest, record: StatusRecord, snapshot: DeploymentSnapshot
) -> None:
    stopped_before = record.control_sent_at.get("STOP")
    if not snapshot.is_terminal:
        send_control(inv, STOP, "STOP", request.deployment_id, rollback=request.rollback)
        return
    if stopped_before is not None:
        logger.info(
            "StopDeployment was sent by an earlier invocation and the deployment has ended: "
            "reporting it",
            extra={"stopRequestedAt": stopped_before, "status": snapshot.status},
        )
        return
    raise InvalidInput(stop_state_message(request.deployment_id, snapshot.status), field="stop")


def send_control(
    inv: Invocation,
    purpose: Purpose,
    action: ControlAction,
    deployment_id: str,
    *,
    rollback: bool = True,
    claim_only_once: bool = True,
) -> bool:
    """Note the action in the status table, then send it; a refused call takes the note back.
    Whether this invocation sent it.

    With ``claim_only_once`` (StopDeployment) an earlier invocation's note means that one
    sent it: nothing is sent again, the wait that follows waits for that stop.
    """
    store = inv.health.store
    operation = "StopDeployment" if action == "STOP" else f"ContinueDeployment {action}"
    if store is None:  # the ownership proof has just read the table
        raise StatusTableUnavailable(
            control_unrecorded_message(purpose.field, operation, deployment_id, "no table")
        )
    claimed = _claim(store, purpose, operation, action, deployment_id)
    if not claimed and claim_only_once:
        logger.info(
            f"{operation} was sent by an earlier invocation; waiting for it, not sending it again"
        )
        return False
    try:
        said = None
        if action == "STOP":
            said = inv.codedeploy.stop_deployment(deployment_id, auto_rollback=rollback)
        else:
            inv.codedeploy.continue_deployment(deployment_id, action)
    except CodeDeployError as refused:
        if claimed:
            _release(store, purpose, action, deployment_id, refused)
        raise
    if action == "STOP":
        logger.info(f"{operation} sent", extra={"autoRollbackEnabled": rollback, "stopSaid": said})
    else:
        logger.info(f"{operation} sent")
    return True


def _claim(
    store: StatusStore, purpose: Purpose, operation: str, action: ControlAction, deployment_id: str
) -> bool:
    try:
        return store.claim_control(deployment_id, action)
    except StoreUnavailable as error:
        raise StatusTableUnavailable(
            control_unrecorded_message(purpose.field, operation, deployment_id, str(error))
        ) from error


def _release(
    store: StatusStore,
    purpose: Purpose,
    action: ControlAction,
    deployment_id: str,
    refused: CodeDeployError,
) -> None:
    """Take back the note of a refused call; when the table will not, the refusal says so (a
    repeated request trusts the note: a continue waits instead of resending, a stop waits for
    a stop never sent)."""
    try:
        store.release_control(deployment_id, action)
    except StoreUnavailable as error:
        logger.warning(
            "could not take back the status table's note of a refused call",
            extra={"reason": str(error), "action": action},
        )
        kept = control_note_kept_message(purpose.field, action, deployment_id, str(error))
        raise CodeDeployError(f"{refused} {kept}", code=refused.code) from refused
