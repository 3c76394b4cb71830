"""The CodeDeploy adapter: the only module that speaks CodeDeploy's API.

It turns boto3's responses into :class:`DeploymentSnapshot` plain data and its
errors into :mod:`shared.errors` exceptions that keep CodeDeploy's own words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import ActiveDeploymentConflict, CodeDeployError
from shared.status import UNSUCCESSFUL_STATUSES, is_terminal
from shared.timestamps import to_iso

CONSOLE_URL = "https://console.aws.amazon.com/codesuite/codedeploy/deployments/{id}?region={region}"
# Real ids are d- plus nine upper-case letters or digits; emulators use UUIDs.
_DEPLOYMENT_ID = re.compile(
    r"\b(d-[A-Z0-9]{9}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"
)


@dataclass(frozen=True)
class DeploymentSnapshot:
    """What one GetDeployment said about a deployment, JSON-safe."""

    deployment_id: str
    status: str
    application_name: str | None = None
    deployment_group_name: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    error_information: dict[str, Any] | None = None
    rollback_info: dict[str, Any] | None = None

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.status)

    @property
    def is_unsuccessful(self) -> bool:
        return self.status in UNSUCCESSFUL_STATUSES

    @classmethod
    def from_deployment_info(cls, info: Mapping[str, Any]) -> DeploymentSnapshot:
        return cls(
            deployment_id=info["deploymentId"],
            status=info["status"],
            application_name=info.get("applicationName"),
            deployment_group_name=info.get("deploymentGroupName"),
            created_at=to_iso(info.get("createTime")),
            completed_at=to_iso(info.get("completeTime")),
            error_information=_non_empty(info.get("errorInformation")),
            rollback_info=_non_empty(info.get("rollbackInfo")),
        )


class CodeDeployGateway:
    """CreateDeployment, GetDeployment and StopDeployment with readable errors."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def region(self) -> str:
        return str(self._client.meta.region_name)

    def console_url(self, deployment_id: str) -> str:
        return CONSOLE_URL.format(id=deployment_id, region=self.region)

    def create(self, params: Mapping[str, Any]) -> str:
        try:
            response = self._client.create_deployment(**params)
        except ClientError as error:
            if _code(error) == "DeploymentLimitExceededException":
                raise _active_conflict(error, params) from error
            raise _translate("CreateDeployment", error, params) from error
        except BotoCoreError as error:
            raise CodeDeployError(f"CodeDeploy CreateDeployment failed: {error}") from error
        return str(response["deploymentId"])

    def get(self, deployment_id: str) -> DeploymentSnapshot:
        try:
            response = self._client.get_deployment(deploymentId=deployment_id)
        except ClientError as error:
            raise _translate("GetDeployment", error, {"deploymentId": deployment_id}) from error
        except BotoCoreError as error:
            raise CodeDeployError(f"CodeDeploy GetDeployment failed: {error}") from error
        return DeploymentSnapshot.from_deployment_info(response["deploymentInfo"])

    def stop(self, deployment_id: str, *, auto_rollback: bool = True) -> str:
        """Stop a deployment; returns CodeDeploy's status message."""
        try:
            response = self._client.stop_deployment(
                deploymentId=deployment_id, autoRollbackEnabled=auto_rollback
            )
        except ClientError as error:
            raise _translate("StopDeployment", error, {"deploymentId": deployment_id}) from error
        except BotoCoreError as error:
            raise CodeDeployError(f"CodeDeploy StopDeployment failed: {error}") from error
        return str(response.get("statusMessage") or response.get("status") or "stop requested")


def _non_empty(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) and value else None


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")).strip() or str(error)


_HINTS = {
    "ApplicationDoesNotExistException": "check applicationName",
    "DeploymentGroupDoesNotExistException": "check deploymentGroupName",
    "DeploymentConfigDoesNotExistException": "check deploymentConfigName",
    "DeploymentDoesNotExistException": "check deploymentId",
    "InvalidDeploymentIdException": "check deploymentId",
    "AccessDeniedException": "the function's role lacks this CodeDeploy permission",
    "InvalidRoleException": "the deployment group's service role cannot be assumed",
}


def _translate(operation: str, error: ClientError, params: Mapping[str, Any]) -> CodeDeployError:
    code = _code(error)
    context = ", ".join(
        f"{key}={params[key]!r}"
        for key in ("applicationName", "deploymentGroupName", "deploymentId")
        if key in params
    )
    hint = _HINTS.get(code)
    if hint is None and code.startswith("Invalid"):
        hint = "CodeDeploy rejected the request's content"
    text = f"CodeDeploy {operation} failed ({code}): {_message(error)}"
    if context:
        text += f" [{context}]"
    if hint:
        text += f"; {hint}"
    return CodeDeployError(text, code=code)


def _active_conflict(error: ClientError, params: Mapping[str, Any]) -> ActiveDeploymentConflict:
    # The id is only in the prose, whose wording has changed before: best effort.
    found = _DEPLOYMENT_ID.search(_message(error))
    active = found.group(1) if found else None
    group = f"{params.get('applicationName')}/{params.get('deploymentGroupName')}"
    who = f"deployment {active}" if active else "another deployment"
    return ActiveDeploymentConflict(
        f"deployment group {group} already has an active deployment ({who}); CodeDeploy runs "
        f'one at a time. Wait for it to end, or set onActiveDeployment to "wait". '
        f"CodeDeploy said: {_message(error)}",
        active_deployment_id=active,
    )
