"""The proof that this function created a deployment, asked before it acts on one.

StopDeployment and ContinueDeployment have no resource type to scope them to (Service
Authorization Reference), so the role could stop or continue any deployment in the account:
the function itself must tell its own before ``stopOnTimeout`` on an attached deployment,
a ``continue`` or ``stop`` request, or ``onActiveDeployment: "supersede"``.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.adapters.codedeploy import DeploymentSnapshot
from shared.adapters.status_store import StatusRecord, StoreUnavailable
from shared.errors import InvalidInput, StatusTableUnavailable
from shared.observability import logger
from shared.trigger.invocation import Invocation

# A deployment id repeated in an error: real ids are 11 characters, emulators' 36.
SHOWN_ID_CHARACTERS = 64


@dataclass(frozen=True)
class Purpose:
    """What the proof is for, as the refusals word it."""

    field: str
    """The input field asking for the action; every refusal starts with it."""
    verb: str
    """``stop``: "it may stop it"."""
    done: str
    """``stopped``: "so it will not be stopped", "Nothing was stopped"."""
    instead: str
    """What the person can do instead, ``{id}`` standing for the deployment id."""

    def alternative(self, shown_id: str) -> str:
        return self.instead.format(id=shown_id)


STOP_ON_TIMEOUT = Purpose(
    "stopOnTimeout",
    "stop",
    "stopped",
    "attach without stopOnTimeout to wait for it, or stop it yourself "
    "(aws deploy stop-deployment --deployment-id {id})",
)
CONTINUE = Purpose(
    "continue",
    "continue",
    "continued",
    "continue it yourself (aws deploy continue-deployment --deployment-id {id} "
    "--deployment-wait-type <READY_WAIT|TERMINATION_WAIT>), then attach with "
    '{{"deploymentId": "{id}"}} to wait for it',
)
STOP = Purpose(
    "stop",
    "stop",
    "stopped",
    "stop it yourself (aws deploy stop-deployment --deployment-id {id} "
    "--auto-rollback-enabled), then attach to wait for it",
)
SUPERSEDE = Purpose(
    "onActiveDeployment",
    "supersede",
    "superseded",
    'wait for it with onActiveDeployment "wait", or stop it yourself '
    "(aws deploy stop-deployment --deployment-id {id})",
)


def require_created_here(
    inv: Invocation, deployment_id: str, purpose: Purpose = STOP_ON_TIMEOUT
) -> tuple[StatusRecord, DeploymentSnapshot]:
    """Refuse unless this function created ``deployment_id``; its table record and
    CodeDeploy's view of it otherwise.

    The proof is the status table's ``createdBy: trigger``, written only right after this
    function's CreateDeployment returned the id. CodeDeploy's own fields cannot prove it
    (DeploymentInfo names no caller: ``creator`` is ``user`` for every CreateDeployment,
    whoever sent it), but they can refute it: another ``creator`` (a rollback, Auto
    Scaling) or another group than the one recorded. Without a table nothing proves it, so
    it is refused.
    """
    shown = deployment_id[:SHOWN_ID_CHARACTERS]
    field, done = purpose.field, purpose.done
    instead = purpose.alternative(shown)
    store = inv.health.store
    if store is None:
        raise InvalidInput(
            f"{field}: cannot tell whether this function created deployment {shown}: "
            "that is known from the status table, and STATUS_TABLE_NAME is not set. Only "
            f"deployments this function created are {done}; {instead}",
            field=field,
        )
    try:
        record = store.get(deployment_id)
    except StoreUnavailable as error:
        raise StatusTableUnavailable(
            f"{field}: cannot tell whether this function created deployment {shown}: "
            f"the status table did not answer ({error}). Nothing was {done}; retry, or "
            f"{instead}"
        ) from error
    if record is None or not record.created_by_trigger:
        raise InvalidInput(
            f"{field}: deployment {shown} was not created by this function (its "
            "status table holds no record of creating it), so it will not be "
            f"{done}; {instead}",
            field=field,
        )
    snapshot = inv.codedeploy.get(deployment_id)
    recorded = (record.application_name, record.deployment_group_name)
    reported = (snapshot.application_name, snapshot.deployment_group_name)
    if snapshot.creator != "user" or recorded != reported:
        raise InvalidInput(
            f"{field}: CodeDeploy does not confirm that this function created "
            f"deployment {shown} (creator {snapshot.creator!r}, group "
            f"{'/'.join(map(str, reported))}; recorded at creation: "
            f"{'/'.join(map(str, recorded))}), so it will not be {done}; {instead}",
            field=field,
        )
    logger.info(f"{field}: this function created the deployment; it may {purpose.verb} it")
    return record, snapshot
