"""The JSON-schema side of the input contract: which keys exist and what each may hold.

CodeDeploy's CreateDeployment part is generated from botocore's service model
(:mod:`shared.contract.model_schema`) and tightened by :mod:`shared.contract.rules`; our own
keys are written here. Imported by both :mod:`shared.contract.validation` and
:mod:`shared.contract.request`, and importing neither, so that they stay out of a circle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from shared.adapters.codedeploy import DEPLOYMENT_ID_SHAPE
from shared.contract.model_schema import checked_in_schema
from shared.contract.rules import tightened

_BOOL = {"type": "boolean"}


def object_schema(properties: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": dict(properties)} | extra


# Keys forwarded to CodeDeploy CreateDeployment, exactly as the model (and boto3) names them.
CREATE_DEPLOYMENT_SCHEMA: dict[str, Any] = tightened(checked_in_schema())
CREATE_DEPLOYMENT_PROPERTIES: dict[str, Any] = CREATE_DEPLOYMENT_SCHEMA["properties"]

# Our own keys: how to wait, never forwarded. A new one is one line here (and its field in
# shared.contract.request.WaitOptions); they are valid with a create and with an attach request.
CONTROL_PROPERTIES: dict[str, Any] = {
    "wait": _BOOL,
    "onActiveDeployment": {"enum": ["fail", "wait", "supersede"]},
    "stopOnTimeout": _BOOL,
    "waitForRollback": _BOOL,
    "waitUntil": {"enum": ["Succeeded", "Ready"]},
    "onDeadline": {"enum": ["fail", "return"]},
    "includeLogTails": _BOOL,
}
# CodeDeploy's model gives DeploymentId no length and no pattern (botocore's codedeploy
# service-2.json: {"type": "string"}). Real ids are "d-" and 9 upper-case letters or digits
# (the AWS CLI reference's get-deployment examples: d-USUAELQEX, d-A1B2C3123); moto's are
# UUIDs (moto/codedeploy/models.py: str(uuid.uuid4())). Only those two shapes pass, so a long
# id, a newline or a NUL never reaches GetItem or GetDeployment, and no id can name an
# idempotency record of the table ("codedeploy-trigger:create#...", shared/adapters/idempotency.py).
# fastjsonschema anchors "$" at the very end (no newline before it).
DEPLOYMENT_ID_PATTERN = f"^(?:{DEPLOYMENT_ID_SHAPE})$"
ATTACH_PROPERTIES: dict[str, Any] = {
    "deploymentId": {
        "type": "string",
        "minLength": 1,
        "maxLength": 36,
        "pattern": DEPLOYMENT_ID_PATTERN,
        # Said instead of the pattern: this rule is ours, not the model's.
        "description": "a CodeDeploy deployment id: d- and 9 upper-case letters or digits, "
        "such as d-A1B2C3D4E",
    }
}

# A query of the status table instead of a deployment: {"history": {...}}, alone. The names
# are CodeDeploy's (model pattern: no "/", which joins them in the table's group index key).
HISTORY_KEY = "history"
HISTORY_DEFAULT_LIMIT = 10
HISTORY_MAX_LIMIT = 50
HISTORY_PROPERTIES: dict[str, Any] = {
    HISTORY_KEY: object_schema(
        {
            "applicationName": CREATE_DEPLOYMENT_PROPERTIES["applicationName"],
            "deploymentGroupName": CREATE_DEPLOYMENT_PROPERTIES["deploymentGroupName"],
            "limit": {"type": "integer", "minimum": 1, "maximum": HISTORY_MAX_LIMIT},
        },
        required=["applicationName", "deploymentGroupName"],
    )
}

# Control of a deployment this function created: {"deploymentId": ..., "continue": ...} or
# {"deploymentId": ..., "stop": {"rollback": ...}}, with the wait options that make sense for
# each. The values are CodeDeploy's: ContinueDeployment's DeploymentWaitType enum (botocore's
# codedeploy service-2.json), and StopDeployment's autoRollbackEnabled boolean.
CONTINUE_KEY = "continue"
STOP_KEY = "stop"
CONTINUE_PROPERTIES: dict[str, Any] = {
    CONTINUE_KEY: {"enum": ["READY_WAIT", "TERMINATION_WAIT"]},
}
STOP_PROPERTIES: dict[str, Any] = {
    STOP_KEY: object_schema({"rollback": _BOOL}, required=["rollback"]),
}
# onActiveDeployment is about creating; a stop waits for Stopped, not for a waitUntil
# milestone, and it is the stop itself, so stopOnTimeout has nothing to add.
CONTINUE_WAIT_KEYS = (
    "wait",
    "stopOnTimeout",
    "waitForRollback",
    "waitUntil",
    "onDeadline",
    "includeLogTails",
)
STOP_WAIT_KEYS = ("wait", "waitForRollback", "onDeadline", "includeLogTails")

# The provider may add keys to its own object one day; only `action` matters.
TERRAFORM_PROPERTIES: dict[str, Any] = {
    "action": {"enum": ["create", "update", "delete"]},
    "prev_input": {},
}

SchemaKind = Literal["create", "attach", "continue", "stop", "terraform", "history"]


def allowed_keys(terraform_key: str) -> list[str]:
    return sorted(
        [
            *CREATE_DEPLOYMENT_PROPERTIES,
            *CONTROL_PROPERTIES,
            *ATTACH_PROPERTIES,
            *HISTORY_PROPERTIES,
            *CONTINUE_PROPERTIES,
            *STOP_PROPERTIES,
            terraform_key,
        ]
    )


def schema(kind: SchemaKind) -> dict[str, Any]:
    """The whole schema one kind of input is checked against."""
    if kind == "create":
        properties = CREATE_DEPLOYMENT_PROPERTIES | CONTROL_PROPERTIES
        return CREATE_DEPLOYMENT_SCHEMA | {"properties": properties}
    if kind == "attach":
        return object_schema(ATTACH_PROPERTIES | CONTROL_PROPERTIES, required=["deploymentId"])
    if kind == "continue":
        waits = {key: CONTROL_PROPERTIES[key] for key in CONTINUE_WAIT_KEYS}
        return object_schema(
            ATTACH_PROPERTIES | CONTINUE_PROPERTIES | waits,
            required=["deploymentId", CONTINUE_KEY],
        )
    if kind == "stop":
        waits = {key: CONTROL_PROPERTIES[key] for key in STOP_WAIT_KEYS}
        return object_schema(
            ATTACH_PROPERTIES | STOP_PROPERTIES | waits, required=["deploymentId", STOP_KEY]
        )
    if kind == "history":
        return object_schema(HISTORY_PROPERTIES, required=[HISTORY_KEY])
    return object_schema(TERRAFORM_PROPERTIES, required=["action"], additionalProperties=True)
