"""The status table's layout: attribute names, the group index and its key, in one place.

Two functions and three writers (the recorder, the trigger's Created record,
its GetDeployment write-backs) share one DynamoDB table with the trigger's
idempotency records, and examples/terraform/dynamodb.tf declares the keys and
the index. A misspelt attribute name would not fail anywhere: it would write
an attribute nobody reads. So every module names attributes through these
constants, and the Terraform module must match them.
"""

from __future__ import annotations

# --- deployment items (one per deployment) ------------------------------------------------
DEPLOYMENT_ID = "deploymentId"
"""Partition key of the table: the deployment id, or an idempotency record's key."""
STATUS = "status"
SOURCE = "source"
EVENT_STATE = "eventState"
APPLICATION_NAME = "applicationName"
DEPLOYMENT_GROUP_NAME = "deploymentGroupName"
DEPLOYMENT_GROUP_KEY = "deploymentGroupKey"
"""``<applicationName>/<deploymentGroupName>``: partition key of :data:`BY_GROUP_INDEX`."""
CREATED_AT = "createdAt"
"""ISO-8601 UTC with milliseconds and ``Z``: sorts as text in time order (index sort key)."""
UPDATED_AT = "updatedAt"
COMPLETED_AT = "completedAt"
EXPIRES_AT = "expiresAt"
"""Epoch seconds; the table's TTL attribute, shared with idempotency records."""
CREATED_BY = "createdBy"
"""``trigger`` on a deployment this table's trigger created (its CreateDeployment call).
Written by the trigger only, never overwritten: what lets ``stopOnTimeout`` stop only
deployments the function started itself."""
CREATED_BY_TRIGGER = "trigger"
CONTROL_SENT_AT = {
    "READY_WAIT": "readyWaitContinuedAt",
    "TERMINATION_WAIT": "terminationWaitContinuedAt",
    "STOP": "stopRequestedAt",
}
"""Control action -> the attribute that says when this table's trigger sent it for the
deployment (ContinueDeployment with that wait type, StopDeployment). Written before the call
and kept, so a repeated request (a Terraform re-run after a failed or timed-out invocation)
knows the deployment moved on because of it, and never stops a deployment twice."""

# --- idempotency records (Powertools DynamoDBPersistenceLayer, keys KEY_PREFIX#hash) -------
IDEMPOTENCY_STATUS = "idempotencyStatus"
IDEMPOTENCY_RESULT = "idempotencyResult"
IDEMPOTENCY_VALIDATION = "idempotencyValidation"
IN_PROGRESS_EXPIRES_AT = "inProgressExpiresAt"

# --- the group index ---------------------------------------------------------------------
BY_GROUP_INDEX = "byGroup"
"""GSI: partition :data:`DEPLOYMENT_GROUP_KEY`, sort :data:`CREATED_AT`.

Sparse by construction: only deployment items carry ``deploymentGroupKey``, so
idempotency records (which never do) stay out of it.
"""
BY_GROUP_PROJECTED = (STATUS, SOURCE, COMPLETED_AT)
"""Non-key attributes the index carries (projection INCLUDE): what a history entry shows.
Keys (deploymentId, deploymentGroupKey, createdAt) are always projected."""

GROUP_KEY_SEPARATOR = "/"


def deployment_group_key(application_name: str, deployment_group_name: str) -> str:
    """The index partition of one deployment group.

    ``/`` cannot occur in either name (CodeDeploy allows ``[A-Za-z0-9+=,.@_-]``,
    botocore model ``ApplicationName`` / ``DeploymentGroupName``), so two groups
    never share a key.
    """
    return f"{application_name}{GROUP_KEY_SEPARATOR}{deployment_group_name}"
