"""The trigger's input contract: CodeDeploy's own CreateDeployment schema plus our keys.

Terraform hands the payload over verbatim, so a typo in a key would otherwise vanish
silently; every key is checked and every message names the field. The CreateDeployment part is
generated from botocore's service model (:mod:`shared.contract.model_schema`), tightened by the
hand-written rules of :mod:`shared.contract.rules`; our own keys are written here. Validation
runs before any AWS call: invalid input never creates anything, and nothing botocore would
refuse reaches it.

The schemas are compiled once per container (fastjsonschema turns a schema into Python code:
about 20 ms that a warm invocation must not pay again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import botocore
import fastjsonschema

from shared.adapters.codedeploy import DEPLOYMENT_ID_SHAPE
from shared.contract.model_schema import VERSION_KEY, checked_in_schema, running_botocore_gap
from shared.contract.rules import CROSS_FIELD_RULES, preview, tightened
from shared.errors import InvalidInput
from shared.revision import content_sha256
from shared.text import cut, names_list

OnActiveDeployment = Literal["fail", "wait"]
WaitUntil = Literal["Succeeded", "Ready"]
OnDeadline = Literal["fail", "return"]
TerraformAction = Literal["create", "update", "delete"]

_BOOL = {"type": "boolean"}


def _object_schema(properties: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": dict(properties)} | extra


# Keys forwarded to CodeDeploy CreateDeployment, exactly as the model (and boto3) names them.
CREATE_DEPLOYMENT_SCHEMA: dict[str, Any] = tightened(checked_in_schema())
CREATE_DEPLOYMENT_PROPERTIES: dict[str, Any] = CREATE_DEPLOYMENT_SCHEMA["properties"]

# Our own keys: how to wait, never forwarded. A new one is one line here (and its field in
# TriggerRequest); they are valid with a create and with an attach request.
CONTROL_PROPERTIES: dict[str, Any] = {
    "wait": _BOOL,
    "onActiveDeployment": {"enum": ["fail", "wait"]},
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
    HISTORY_KEY: _object_schema(
        {
            "applicationName": CREATE_DEPLOYMENT_PROPERTIES["applicationName"],
            "deploymentGroupName": CREATE_DEPLOYMENT_PROPERTIES["deploymentGroupName"],
            "limit": {"type": "integer", "minimum": 1, "maximum": HISTORY_MAX_LIMIT},
        },
        required=["applicationName", "deploymentGroupName"],
    )
}

# The provider may add keys to its own object one day; only `action` matters.
TERRAFORM_PROPERTIES: dict[str, Any] = {
    "action": {"enum": ["create", "update", "delete"]},
    "prev_input": {},
}


@dataclass(frozen=True)
class HistoryQuery:
    """A validated ``history`` input: which group, how many deployments."""

    application_name: str
    deployment_group_name: str
    limit: int = HISTORY_DEFAULT_LIMIT


@dataclass(frozen=True)
class TriggerRequest:
    """A validated invocation: either create a deployment or attach to one."""

    create_params: dict[str, Any] = field(default_factory=dict)
    deployment_id: str | None = None
    wait: bool = True
    on_active_deployment: OnActiveDeployment = "fail"
    stop_on_timeout: bool = False
    wait_until: WaitUntil = "Succeeded"
    on_deadline: OnDeadline = "fail"
    terraform_action: TerraformAction | None = None
    include_log_tails: bool = True
    """``includeLogTails``: false leaves hook log tails out of a failure's explanation."""
    history: HistoryQuery | None = None
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
        [
            *CREATE_DEPLOYMENT_PROPERTIES,
            *CONTROL_PROPERTIES,
            *ATTACH_PROPERTIES,
            *HISTORY_PROPERTIES,
            terraform_key,
        ]
    )


def parse_request(event: object, terraform_key: str) -> TriggerRequest:
    """Validate ``event`` and turn it into a :class:`TriggerRequest`.

    Raises :class:`InvalidInput` naming the offending field.
    """
    if not isinstance(event, Mapping):
        raise InvalidInput(
            f"input must be a JSON object with CreateDeployment keys, got {_json_type(event)}",
            field="input",
        )
    terraform_action = _terraform_action(event, terraform_key)
    payload = {key: value for key, value in event.items() if key != terraform_key}
    if terraform_action == "delete":
        # A destroy must never fail because an old input no longer validates.
        return TriggerRequest(terraform_action="delete", payload=payload)
    known = allowed_keys(terraform_key)
    unknown = sorted(str(key) for key in event if key not in known)
    if unknown:
        raise InvalidInput(
            f"unknown input key(s): {_with_key_hints(unknown, known)}; allowed keys: "
            f"{', '.join(known)}",
            field="input",
        )

    if HISTORY_KEY in payload:
        return _history_request(payload, terraform_action)
    if "deploymentId" in payload:
        _reject_create_keys_in_attach(payload)
        _run("attach", payload)
    else:
        validate_create_request(payload)
    if payload.get("stopOnTimeout") and payload.get("onDeadline") == "return":
        raise InvalidInput(
            'stopOnTimeout cannot be combined with onDeadline "return": that invocation never '
            "times out, so nothing would be stopped; set stopOnTimeout on the last invocation "
            'only (onDeadline "fail")',
            field="stopOnTimeout",
        )

    return TriggerRequest(
        create_params={k: v for k, v in payload.items() if k in CREATE_DEPLOYMENT_PROPERTIES},
        deployment_id=payload.get("deploymentId"),
        wait=payload.get("wait", True),
        on_active_deployment=payload.get("onActiveDeployment", "fail"),
        stop_on_timeout=payload.get("stopOnTimeout", False),
        wait_until=payload.get("waitUntil", "Succeeded"),
        on_deadline=payload.get("onDeadline", "fail"),
        terraform_action=terraform_action,
        include_log_tails=payload.get("includeLogTails", True),
        payload=payload,
    )


def validate_create_request(payload: Mapping[str, Any]) -> None:
    """Check a create request (without the Terraform key): the schema, then the hand-written
    rules, then what the running botocore knows."""
    _run("create", payload)
    for rule in CROSS_FIELD_RULES:
        rule(payload)
    _require_known_to_running_botocore(payload)


Validator = Callable[[Any], Any]
SchemaKind = Literal["create", "attach", "terraform", "history"]


def _schema(kind: SchemaKind) -> dict[str, Any]:
    if kind == "create":
        properties = CREATE_DEPLOYMENT_PROPERTIES | CONTROL_PROPERTIES
        return CREATE_DEPLOYMENT_SCHEMA | {"properties": properties}
    if kind == "attach":
        return _object_schema(ATTACH_PROPERTIES | CONTROL_PROPERTIES, required=["deploymentId"])
    if kind == "history":
        return _object_schema(HISTORY_PROPERTIES, required=[HISTORY_KEY])
    return _object_schema(TERRAFORM_PROPERTIES, required=["action"], additionalProperties=True)


@cache
def _validator(kind: SchemaKind, *, detailed: bool) -> Validator:
    """Compiled once per container. The plain validator says only "valid or not" and compiles
    in a third of the time; the detailed one, whose exceptions carry the rule and the value a
    message is made of, is compiled when the first invalid input arrives."""
    return fastjsonschema.compile(_schema(kind), detailed_exceptions=detailed)


def _run(kind: SchemaKind, data: object, root: str = "") -> None:
    try:
        _validator(kind, detailed=False)(data)
    except fastjsonschema.JsonSchemaValueException:
        try:
            _validator(kind, detailed=True)(data)
        except fastjsonschema.JsonSchemaValueException as error:
            message, field_name = _describe(error, root)
            raise InvalidInput(message, field=field_name) from None
        raise  # the two validators disagree: a fastjsonschema bug, not the caller's


def _terraform_action(event: Mapping[str, Any], terraform_key: str) -> TerraformAction | None:
    if terraform_key not in event:
        return None
    _run("terraform", event[terraform_key], root=terraform_key)
    action: TerraformAction = event[terraform_key]["action"]
    return action


def _history_request(
    payload: dict[str, Any], terraform_action: TerraformAction | None
) -> TriggerRequest:
    others = sorted(str(key) for key in payload if key != HISTORY_KEY)
    if others:
        raise InvalidInput(
            f"history cannot be combined with {', '.join(others)}: a history query only reads "
            f"the status table and deploys nothing; remove {', '.join(others)} or remove history",
            field=HISTORY_KEY,
        )
    _run("history", payload)
    query = payload[HISTORY_KEY]
    limit = query.get("limit", HISTORY_DEFAULT_LIMIT)
    if not isinstance(limit, int):
        # JSON Schema counts 10.0 (and 1e1, which JSON parsers read as 10.0) as an integer;
        # DynamoDB's Query Limit is an Integer in the model, which botocore refuses as a float.
        raise InvalidInput(
            f"{HISTORY_KEY}.limit must be a whole number written without a decimal point or an "
            f"exponent (10, not 10.0 or 1e1), got {preview(limit)}",
            field=f"{HISTORY_KEY}.limit",
        )
    return TriggerRequest(
        terraform_action=terraform_action,
        history=HistoryQuery(
            application_name=query["applicationName"],
            deployment_group_name=query["deploymentGroupName"],
            limit=limit,
        ),
        payload=payload,
    )


def _reject_create_keys_in_attach(payload: Mapping[str, Any]) -> None:
    clashing = sorted(key for key in payload if key in CREATE_DEPLOYMENT_PROPERTIES)
    if clashing:
        raise InvalidInput(
            f"deploymentId cannot be combined with {', '.join(clashing)}: with deploymentId the "
            "trigger attaches to an existing deployment and creates nothing; remove "
            f"{', '.join(clashing)} or remove deploymentId",
            field="deploymentId",
        )


def _require_known_to_running_botocore(payload: Mapping[str, Any]) -> None:
    """A member the running botocore's model lacks would be refused by botocore itself
    ("Unknown parameter in input") after the request was accepted: refuse it here instead,
    saying why, before anything is created."""
    for path in running_botocore_gap():
        if any(True for _ in _values_at(payload, path)):
            raise InvalidInput(
                f"{path.replace('[]', '[*]')} is not known to the botocore of this Lambda "
                f"runtime ({botocore.__version__}); the contract follows CodeDeploy's model as "
                f"of botocore {checked_in_schema()[VERSION_KEY]}. botocore would refuse it "
                "before calling CodeDeploy: remove it, or run the function with a newer boto3 "
                "(a newer Lambda runtime, or boto3 in a layer)",
                field=path,
            )


def _values_at(data: object, path: str) -> Iterator[object]:
    """Every value at a member path such as ``targetInstances.tagFilters[].Key``."""
    head, _, rest = path.partition(".")
    name, brackets = head.partition("[]")[0], head.count("[]")
    if not isinstance(data, Mapping) or name not in data:
        return
    values = [data[name]]
    for _ in range(brackets):
        values = [item for value in values if isinstance(value, list) for item in value]
    for value in values:
        if rest:
            yield from _values_at(value, rest)
        else:
            yield value


def _describe(error: fastjsonschema.JsonSchemaValueException, root: str) -> tuple[str, str]:
    """Turn fastjsonschema's report into one sentence that names the field, and that field."""
    path = list(error.path or ["data"])[1:]
    field_name = _field_name([root, *path] if root else path)
    rule, value = error.rule, error.value
    expected: Any = error.rule_definition
    definition: Mapping[str, Any] = error.definition or {}
    if rule == "required":
        present = value if isinstance(value, Mapping) else {}
        missing = [name for name in expected if name not in present]
        prefix = f"{field_name}." if path or root else ""
        first = f"{prefix}{missing[0]}" if missing else field_name
        return "; ".join(f"{prefix}{name} is required" for name in missing), first
    if rule == "additionalProperties":
        known = list(definition.get("properties", {}))
        extra = sorted(set(value) - set(known)) if isinstance(value, Mapping) else []
        return (
            f"unknown key(s) in {field_name}: {_with_key_hints(extra, known)}; "
            f"allowed keys: {', '.join(sorted(known))}",
            field_name,
        )
    if rule == "type":
        message = f"{field_name} must be {_article(expected)}, got {_json_type(value)}"
        return message + _list_of_lists_hint(expected, value, path), field_name
    if rule in ("enum", "const"):
        options = expected if isinstance(expected, list) else [expected]
        return (
            f"{field_name} must be one of {', '.join(map(str, options))}, got "
            f"{preview(value)}{_case_hint(value, options)}",
            field_name,
        )
    if rule in ("pattern", "maxLength") and "description" in definition:
        got = preview(value) if rule == "pattern" else f"{len(str(value))} characters"
        return f"{field_name} must be {definition['description']}, got {got}", field_name
    if rule == "minLength":
        if expected == 1:
            return f"{field_name} must not be empty", field_name
        return f"{field_name} must be at least {expected} characters long", field_name
    if rule == "maxLength":
        size = len(str(value))
        return (
            f"{field_name} must be at most {expected} characters long, got {size} characters",
            field_name,
        )
    if rule == "pattern":
        pattern = _unanchored(str(expected))
        return (
            f"{field_name} must match the pattern {pattern} (CodeDeploy's model), got "
            f"{preview(value)}",
            field_name,
        )
    if rule in ("minimum", "maximum"):
        bound = "at least" if rule == "minimum" else "at most"
        return f"{field_name} must be {bound} {expected}, got {preview(value)}", field_name
    if rule in ("minItems", "maxItems"):
        bound = "at least" if rule == "minItems" else "at most"
        count = len(value) if isinstance(value, list) else 0
        return f"{field_name} must have {bound} {expected} item(s), got {count}", field_name
    return f"{field_name} is invalid: {error.message}", field_name


def _with_key_hints(keys: list[str], known: list[str]) -> str:
    """``key (did you mean `Key`?)``: HCL users write keys in lower case or snake case.

    The first ten keys, each cut, then how many more: a payload of a million unknown keys
    gets a message of a few hundred bytes."""
    by_form = {_key_form(name): name for name in known}
    hinted = [
        f"{_shown(key)} (did you mean `{by_form[_key_form(key)]}`?)"
        if _key_form(key) in by_form
        else _shown(key)
        for key in keys[:10]
    ]
    return names_list([*hinted, *keys[10:]], first=10, max_name_bytes=200)


def _shown(key: str) -> str:
    """A key as an error names it: control characters made visible, cut to 100 bytes."""
    return cut(key if key.isprintable() else repr(key)[1:-1], 100)


def _key_form(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _case_hint(value: object, options: list[Any]) -> str:
    """`` (did you mean `YAML`?)`` for ``yaml``: enum values are case sensitive."""
    if not isinstance(value, str):
        return ""
    matches = [option for option in options if str(option).lower() == value.lower()]
    return f" (did you mean `{matches[0]}`?)" if matches else ""


def _list_of_lists_hint(expected: object, value: object, path: Sequence[object]) -> str:
    """ec2TagSetList is a list of tag groups, each itself a list: a flat list is the usual
    mistake."""
    if expected != "array" or not isinstance(value, Mapping) or not path:
        return ""
    if not (isinstance(path[-1], int) or str(path[-1]).isdigit()):
        return ""
    parent = _field_name(path[:-1])
    return f" ({parent} is a list of lists: write [[{{...}}]], not [{{...}}])"


def _unanchored(pattern: str) -> str:
    """``^(?:[a-z]*)$`` -> ``[a-z]*``: the pattern as the model writes it."""
    if pattern.startswith("^(?:") and pattern.endswith(")$"):
        return pattern[4:-2]
    return pattern


def _field_name(path: Sequence[object]) -> str:
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
            described["contentSha256"] = content_sha256(content)
            described["contentLength"] = len(content)
    return described
