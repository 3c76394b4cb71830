"""The trigger's input, typed: one frozen request type per kind of invocation.

Terraform hands the payload over verbatim, so a typo in a key would otherwise vanish
silently; every key is checked (:mod:`shared.contract.validation`, against
:mod:`shared.contract.schema`) and every message names the field. :func:`parse_request`
returns one of :data:`Request`: create a deployment, attach to one, read the group's history,
continue or stop a deployment this function created, or skip a Terraform destroy; the
trigger's steps dispatch on that type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from shared.contract.rules import preview
from shared.contract.schema import (
    CONTINUE_KEY,
    CONTINUE_WAIT_KEYS,
    CREATE_DEPLOYMENT_PROPERTIES,
    HISTORY_DEFAULT_LIMIT,
    HISTORY_KEY,
    STOP_KEY,
    STOP_WAIT_KEYS,
    allowed_keys,
)
from shared.contract.validation import check, json_type, validate_create_request, with_key_hints
from shared.errors import InvalidInput
from shared.revision import content_sha256

OnActiveDeployment = Literal["fail", "wait", "supersede"]
ContinueWaitType = Literal["READY_WAIT", "TERMINATION_WAIT"]
WaitUntil = Literal["Succeeded", "Ready", "TrafficShifted"]
OnDeadline = Literal["fail", "return"]
TerraformAction = Literal["create", "update", "delete"]


class WaitOptions(NamedTuple):
    """How to wait, for a create and an attach request alike (the control keys)."""

    wait: bool = True
    wait_until: WaitUntil = "Succeeded"
    on_deadline: OnDeadline = "fail"
    stop_on_timeout: bool = False
    wait_for_rollback: bool = True
    include_log_tails: bool = True
    """``includeLogTails``: false leaves hook log tails out of a failure's explanation."""

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> WaitOptions:
        return cls(
            wait=payload.get("wait", True),
            wait_until=payload.get("waitUntil", "Succeeded"),
            on_deadline=payload.get("onDeadline", "fail"),
            stop_on_timeout=payload.get("stopOnTimeout", False),
            wait_for_rollback=payload.get("waitForRollback", True),
            include_log_tails=payload.get("includeLogTails", True),
        )


class CreateRequest(NamedTuple):
    """Create a deployment (or return the one an identical request created)."""

    application_name: str
    deployment_group_name: str
    create_params: dict[str, Any]
    """The CreateDeployment keyword arguments, exactly as the caller sent them."""
    idempotency_payload: dict[str, Any]
    """The request as the caller sent it, less the Terraform key: control keys included, no
    default filled in. Powertools hashes this very dict into the idempotency key, so records
    in flight keep matching: never rebuild it from the typed fields."""
    wait_options: WaitOptions
    on_active_deployment: OnActiveDeployment = "fail"
    terraform_action: TerraformAction | None = None

    @property
    def group(self) -> str:
        """``application/group``, as messages name it."""
        return f"{self.application_name}/{self.deployment_group_name}"

    def for_log(self) -> dict[str, Any]:
        return describe_for_log(self.create_params)


class AttachRequest(NamedTuple):
    """Wait for an existing deployment; creates nothing."""

    deployment_id: str
    wait_options: WaitOptions
    terraform_action: TerraformAction | None = None


class ContinueRequest(NamedTuple):
    """ContinueDeployment on a deployment this function created, then wait as asked."""

    deployment_id: str
    wait_type: ContinueWaitType
    """CodeDeploy's ``deploymentWaitType``: ``READY_WAIT`` reroutes traffic from Ready,
    ``TERMINATION_WAIT`` ends the wait before the original environment is terminated."""
    wait_options: WaitOptions
    terraform_action: TerraformAction | None = None


class StopRequest(NamedTuple):
    """StopDeployment on a deployment this function created, then wait for Stopped (and,
    with ``rollback`` and ``waitForRollback``, for the rollback deployment)."""

    deployment_id: str
    rollback: bool
    """StopDeployment's ``autoRollbackEnabled``."""
    wait_options: WaitOptions
    terraform_action: TerraformAction | None = None


ControlRequest = ContinueRequest | StopRequest
"""The requests that act on a deployment this function created."""


class HistoryRequest(NamedTuple):
    """Read a deployment group's latest deployments from the status table."""

    application_name: str
    deployment_group_name: str
    limit: int = HISTORY_DEFAULT_LIMIT


@dataclass(frozen=True)
class TerraformDelete:
    """A Terraform destroy: nothing to deploy (the old input is not even validated)."""


Request = (
    CreateRequest | AttachRequest | ContinueRequest | StopRequest | HistoryRequest | TerraformDelete
)
DeploymentRequest = CreateRequest | AttachRequest | ContinueRequest | StopRequest
"""The requests that end in a deployment being waited for."""


def parse_request(event: object, terraform_key: str) -> Request:
    """Validate ``event`` and turn it into a typed request.

    Raises :class:`InvalidInput` naming the offending field.
    """
    if not isinstance(event, Mapping):
        raise InvalidInput(
            f"input must be a JSON object with CreateDeployment keys, got {json_type(event)}",
            field="input",
        )
    terraform_action = _terraform_action(event, terraform_key)
    payload = {key: value for key, value in event.items() if key != terraform_key}
    if terraform_action == "delete":
        # A destroy must never fail because an old input no longer validates.
        return TerraformDelete()
    known = allowed_keys(terraform_key)
    unknown = sorted(str(key) for key in event if key not in known)
    if unknown:
        raise InvalidInput(
            f"unknown input key(s): {with_key_hints(unknown, known)}; allowed keys: "
            f"{', '.join(known)}",
            field="input",
        )

    if HISTORY_KEY in payload:
        return _history_request(payload)
    if CONTINUE_KEY in payload or STOP_KEY in payload:
        return _control_request(payload, terraform_action)
    attach = "deploymentId" in payload
    if attach:
        _reject_create_keys_in_attach(payload)
        check("attach", payload)
    else:
        validate_create_request(payload)
    _stop_on_timeout_needs_a_deadline(payload)

    options = WaitOptions.from_payload(payload)
    if attach:
        return AttachRequest(
            deployment_id=payload["deploymentId"],
            wait_options=options,
            terraform_action=terraform_action,
        )
    return CreateRequest(
        application_name=payload["applicationName"],
        deployment_group_name=payload["deploymentGroupName"],
        create_params={k: v for k, v in payload.items() if k in CREATE_DEPLOYMENT_PROPERTIES},
        idempotency_payload=payload,
        wait_options=options,
        on_active_deployment=payload.get("onActiveDeployment", "fail"),
        terraform_action=terraform_action,
    )


def _stop_on_timeout_needs_a_deadline(payload: Mapping[str, Any]) -> None:
    if payload.get("stopOnTimeout") and payload.get("onDeadline") == "return":
        raise InvalidInput(
            'stopOnTimeout cannot be combined with onDeadline "return": that invocation never '
            "times out, so nothing would be stopped; set stopOnTimeout on the last invocation "
            'only (onDeadline "fail")',
            field="stopOnTimeout",
        )


_NOT_WITH_CONTROL = {
    "onActiveDeployment": "it says what to do when creating a deployment, and this "
    "invocation creates none",
    "stopOnTimeout": "the invocation stops the deployment already",
    "waitUntil": "a stop waits until the deployment is Stopped",
}


def _control_request(
    payload: dict[str, Any], terraform_action: TerraformAction | None
) -> ContinueRequest | StopRequest:
    """``continue`` or ``stop``: one of them, on a deployment named by ``deploymentId``."""
    if CONTINUE_KEY in payload and STOP_KEY in payload:
        raise InvalidInput(
            "continue and stop cannot be combined: one invocation either continues a "
            "deployment or stops it; remove one of them",
            field=STOP_KEY,
        )
    action: Literal["continue", "stop"] = "continue" if CONTINUE_KEY in payload else "stop"
    clashing = sorted(key for key in payload if key in CREATE_DEPLOYMENT_PROPERTIES)
    if clashing:
        raise InvalidInput(
            f"{action} cannot be combined with {', '.join(clashing)}: {action} acts on the "
            "existing deployment named by deploymentId and creates nothing; remove "
            f"{', '.join(clashing)}",
            field=action,
        )
    allowed = CONTINUE_WAIT_KEYS if action == CONTINUE_KEY else STOP_WAIT_KEYS
    for key, reason in _NOT_WITH_CONTROL.items():
        if key in payload and key not in allowed:
            raise InvalidInput(
                f"{key} cannot be combined with {action}: {reason}; remove {key}", field=key
            )
    check(action, payload)
    _stop_on_timeout_needs_a_deadline(payload)
    options = WaitOptions.from_payload(payload)
    if action == CONTINUE_KEY:
        _milestone_after_continue(payload[CONTINUE_KEY], options.wait_until)
        return ContinueRequest(
            deployment_id=payload["deploymentId"],
            wait_type=payload[CONTINUE_KEY],
            wait_options=options,
            terraform_action=terraform_action,
        )
    return StopRequest(
        deployment_id=payload["deploymentId"],
        rollback=payload[STOP_KEY]["rollback"],
        wait_options=options,
        terraform_action=terraform_action,
    )


def _milestone_after_continue(wait_type: str, wait_until: str) -> None:
    """A milestone the deployment has passed already would be met at once: a mistake."""
    passed = {"READY_WAIT": ("Ready",), "TERMINATION_WAIT": ("Ready", "TrafficShifted")}
    if wait_until in passed[wait_type]:
        raise InvalidInput(
            f'waitUntil "{wait_until}" cannot be combined with continue "{wait_type}": the '
            f"deployment is past {wait_until} once {wait_type} can be continued, so the wait "
            'would end at once; use waitUntil "Succeeded"'
            + (' or "TrafficShifted"' if wait_type == "READY_WAIT" else ""),
            field="waitUntil",
        )


def _terraform_action(event: Mapping[str, Any], terraform_key: str) -> TerraformAction | None:
    if terraform_key not in event:
        return None
    check("terraform", event[terraform_key], root=terraform_key)
    action: TerraformAction = event[terraform_key]["action"]
    return action


def _history_request(payload: dict[str, Any]) -> HistoryRequest:
    others = sorted(str(key) for key in payload if key != HISTORY_KEY)
    if others:
        raise InvalidInput(
            f"history cannot be combined with {', '.join(others)}: a history query only reads "
            f"the status table and deploys nothing; remove {', '.join(others)} or remove history",
            field=HISTORY_KEY,
        )
    check("history", payload)
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
    return HistoryRequest(
        application_name=query["applicationName"],
        deployment_group_name=query["deploymentGroupName"],
        limit=limit,
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
