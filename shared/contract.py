"""The trigger's input contract: a JSON Schema plus the checks a schema cannot express.

Terraform hands the payload over verbatim, so a typo in a key would otherwise
vanish silently; every key is checked and every message names the field.
Validation runs before any AWS call: invalid input never creates anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate

from shared.errors import InvalidInput

OnActiveDeployment = Literal["fail", "wait"]
TerraformAction = Literal["create", "update", "delete"]

_NAME = {"type": "string", "minLength": 1, "maxLength": 100}
_NON_EMPTY = {"type": "string", "minLength": 1}
_BOOL = {"type": "boolean"}

_REVISION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["revisionType"],
    "properties": {
        "revisionType": {"enum": ["S3", "GitHub", "String", "AppSpecContent"]},
        "s3Location": {
            "type": "object",
            "additionalProperties": False,
            "required": ["bucket", "key", "bundleType"],
            "properties": {
                "bucket": _NON_EMPTY,
                "key": _NON_EMPTY,
                "bundleType": {"enum": ["tar", "tgz", "zip", "YAML", "JSON"]},
                "version": _NON_EMPTY,
                "eTag": _NON_EMPTY,
            },
        },
        "gitHubLocation": {
            "type": "object",
            "additionalProperties": False,
            "required": ["repository", "commitId"],
            "properties": {"repository": _NON_EMPTY, "commitId": _NON_EMPTY},
        },
        "string": {
            "type": "object",
            "additionalProperties": False,
            "required": ["content"],
            "properties": {"content": _NON_EMPTY, "sha256": _NON_EMPTY},
        },
        "appSpecContent": {
            "type": "object",
            "additionalProperties": False,
            "required": ["content"],
            "properties": {"content": _NON_EMPTY, "sha256": _NON_EMPTY},
        },
    },
    # Each revision type needs its own location object.
    "allOf": [
        {
            "if": {"required": ["revisionType"], "properties": {"revisionType": {"const": kind}}},
            "then": {"required": [location]},
        }
        for kind, location in (
            ("S3", "s3Location"),
            ("GitHub", "gitHubLocation"),
            ("String", "string"),
            ("AppSpecContent", "appSpecContent"),
        )
    ],
}

# Keys forwarded to CodeDeploy CreateDeployment, exactly as boto3 names them.
CREATE_DEPLOYMENT_PROPERTIES: dict[str, Any] = {
    "applicationName": _NAME,
    "deploymentGroupName": _NAME,
    "revision": _REVISION_SCHEMA,
    "deploymentConfigName": _NAME,
    "description": {"type": "string", "maxLength": 512},
    "ignoreApplicationStopFailures": _BOOL,
    "targetInstances": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "tagFilters": {"type": "array", "items": {"type": "object"}},
            "autoScalingGroups": {"type": "array", "items": _NON_EMPTY},
            "ec2TagSet": {"type": "object"},
        },
    },
    "autoRollbackConfiguration": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "enabled": _BOOL,
            "events": {
                "type": "array",
                "items": {
                    "enum": [
                        "DEPLOYMENT_FAILURE",
                        "DEPLOYMENT_STOP_ON_ALARM",
                        "DEPLOYMENT_STOP_ON_REQUEST",
                    ]
                },
            },
        },
    },
    "updateOutdatedInstancesOnly": _BOOL,
    "fileExistsBehavior": {"enum": ["DISALLOW", "OVERWRITE", "RETAIN"]},
    "overrideAlarmConfiguration": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "enabled": _BOOL,
            "ignorePollAlarmFailure": _BOOL,
            "alarms": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {"name": _NON_EMPTY},
                },
            },
        },
    },
}
CREATE_REQUIRED = ("applicationName", "deploymentGroupName", "revision")

# Our own keys: how to wait, never forwarded.
CONTROL_PROPERTIES: dict[str, Any] = {
    "wait": _BOOL,
    "onActiveDeployment": {"enum": ["fail", "wait"]},
    "stopOnTimeout": _BOOL,
}
ATTACH_PROPERTIES: dict[str, Any] = {"deploymentId": {"type": "string", "minLength": 1}}

# The provider may add keys to its own object one day; only `action` matters.
TERRAFORM_PROPERTIES: dict[str, Any] = {
    "action": {"enum": ["create", "update", "delete"]},
    "prev_input": {},
}


@dataclass(frozen=True)
class TriggerRequest:
    """A validated invocation: either create a deployment or attach to one."""

    create_params: dict[str, Any] = field(default_factory=dict)
    deployment_id: str | None = None
    wait: bool = True
    on_active_deployment: OnActiveDeployment = "fail"
    stop_on_timeout: bool = False
    terraform_action: TerraformAction | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    """The request as the caller sent it, less the Terraform key (the idempotency key)."""

    @property
    def is_attach(self) -> bool:
        return self.deployment_id is not None

    @property
    def is_terraform_delete(self) -> bool:
        return self.terraform_action == "delete"


def allowed_keys(terraform_key: str) -> list[str]:
    return sorted(
        [*CREATE_DEPLOYMENT_PROPERTIES, *CONTROL_PROPERTIES, *ATTACH_PROPERTIES, terraform_key]
    )


def parse_request(event: object, terraform_key: str) -> TriggerRequest:
    """Validate ``event`` and turn it into a :class:`TriggerRequest`.

    Raises :class:`InvalidInput` naming the offending field.
    """
    if not isinstance(event, Mapping):
        raise InvalidInput(
            f"input must be a JSON object with CreateDeployment keys, got {_json_type(event)}"
        )
    terraform_action = _terraform_action(event, terraform_key)
    payload = {key: value for key, value in event.items() if key != terraform_key}
    if terraform_action == "delete":
        # A destroy must never fail because an old input no longer validates.
        return TriggerRequest(terraform_action="delete", payload=payload)
    unknown = sorted(str(key) for key in event if key not in allowed_keys(terraform_key))
    if unknown:
        raise InvalidInput(
            f"unknown input key(s): {', '.join(unknown)}; allowed keys: "
            f"{', '.join(allowed_keys(terraform_key))}"
        )

    if "deploymentId" in payload:
        _reject_create_keys_in_attach(payload)
        _validate(payload, ATTACH_PROPERTIES | CONTROL_PROPERTIES, required=("deploymentId",))
    else:
        _validate(
            payload, CREATE_DEPLOYMENT_PROPERTIES | CONTROL_PROPERTIES, required=CREATE_REQUIRED
        )
        _check_sha256(payload["revision"])

    return TriggerRequest(
        create_params={k: v for k, v in payload.items() if k in CREATE_DEPLOYMENT_PROPERTIES},
        deployment_id=payload.get("deploymentId"),
        wait=payload.get("wait", True),
        on_active_deployment=payload.get("onActiveDeployment", "fail"),
        stop_on_timeout=payload.get("stopOnTimeout", False),
        terraform_action=terraform_action,
        payload=payload,
    )


def _terraform_action(event: Mapping[str, Any], terraform_key: str) -> TerraformAction | None:
    if terraform_key not in event:
        return None
    _validate(
        event[terraform_key],
        TERRAFORM_PROPERTIES,
        required=("action",),
        root=terraform_key,
        additional=True,
    )
    action: TerraformAction = event[terraform_key]["action"]
    return action


def _reject_create_keys_in_attach(payload: Mapping[str, Any]) -> None:
    clashing = sorted(key for key in payload if key in CREATE_DEPLOYMENT_PROPERTIES)
    if clashing:
        raise InvalidInput(
            f"deploymentId cannot be combined with {', '.join(clashing)}: with deploymentId the "
            "trigger attaches to an existing deployment and creates nothing; remove "
            f"{', '.join(clashing)} or remove deploymentId"
        )


def _check_sha256(revision: Mapping[str, Any]) -> None:
    for location in ("appSpecContent", "string"):
        spec = revision.get(location)
        if not isinstance(spec, Mapping) or "sha256" not in spec:
            continue
        actual = hashlib.sha256(spec["content"].encode("utf-8")).hexdigest()
        if spec["sha256"].lower() != actual:
            raise InvalidInput(
                f"revision.{location}.sha256 does not match the sha256 of "
                f"revision.{location}.content: given {_preview(spec['sha256'])}, "
                f"content hashes to {actual}"
            )


def _validate(
    data: object,
    properties: Mapping[str, Any],
    *,
    required: tuple[str, ...],
    root: str = "",
    additional: bool = False,
) -> None:
    schema = {
        "type": "object",
        "additionalProperties": additional,
        "required": list(required),
        "properties": dict(properties),
    }
    try:
        validate(event=data, schema=schema)
    except SchemaValidationError as error:
        raise InvalidInput(_describe(error, root)) from None


def _describe(error: SchemaValidationError, root: str) -> str:
    """Turn fastjsonschema's report into one sentence that names the field."""
    path = (error.path or ["data"])[1:]
    field_name = _field_name([root, *path] if root else path)
    rule, value = error.rule, error.value
    expected: Any = error.rule_definition
    if rule == "required":
        present = value if isinstance(value, Mapping) else {}
        missing = [name for name in expected if name not in present]
        prefix = f"{field_name}." if path or root else ""
        return "; ".join(f"{prefix}{name} is required" for name in missing)
    if rule == "additionalProperties":
        known = sorted((error.definition or {}).get("properties", {}))
        extra = sorted(set(value) - set(known)) if isinstance(value, Mapping) else []
        return (
            f"unknown key(s) in {field_name}: {', '.join(extra)}; allowed keys: {', '.join(known)}"
        )
    if rule == "type":
        return f"{field_name} must be {_article(expected)}, got {_json_type(value)}"
    if rule in ("enum", "const"):
        options = expected if isinstance(expected, list) else [expected]
        return f"{field_name} must be one of {', '.join(map(str, options))}, got {_preview(value)}"
    if rule == "minLength":
        return (
            f"{field_name} must not be empty"
            if expected == 1
            else (f"{field_name} must be at least {expected} characters long")
        )
    if rule == "maxLength":
        size = len(str(value))
        return f"{field_name} must be at most {expected} characters long, got {size} characters"
    return f"{field_name} is invalid: {error.validation_message}"


def _field_name(path: list[object]) -> str:
    """``['revision', 's3Location', 'key']`` -> ``revision.s3Location.key``; indexes as ``[0]``."""
    name = ""
    for part in path:
        if isinstance(part, int) or str(part).isdigit():
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "input"


def _article(json_type: object) -> str:
    names = {"object": "an object", "array": "an array", "integer": "an integer"}
    kind = str(json_type)
    return names.get(kind, f"a {kind}")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _preview(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def describe_for_log(params: Mapping[str, Any]) -> dict[str, Any]:
    """What is safe to log about a request: never the appspec itself (it may hold secrets)."""
    revision = params.get("revision", {})
    described: dict[str, Any] = {
        "applicationName": params.get("applicationName"),
        "deploymentGroupName": params.get("deploymentGroupName"),
        "revisionType": revision.get("revisionType"),
    }
    for location in ("appSpecContent", "string"):
        content = revision.get(location, {}).get("content")
        if content is not None:
            described["contentSha256"] = hashlib.sha256(content.encode()).hexdigest()
            described["contentLength"] = len(content)
    return described
