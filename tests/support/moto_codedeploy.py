"""Reach into moto's CodeDeploy backend: move deployments, add error, rollback and target info.

moto keeps a deployment ``Created`` forever and always answers
``errorInformation: {}``; tests that need a failed deployment set the fields on
the backend object, and :func:`_deployment_info` (patched once, on import)
reports them.

moto has none of the target APIs either. Patched in on import, following the
botocore model (``codedeploy/2014-10-06/service-2.json``):

- ``ListDeploymentTargets``: ``targetFilters`` ``TargetStatus`` and
  ``ServerInstanceLabel``, ``nextToken`` pages of :data:`TARGET_PAGE_SIZE`;
  ``DeploymentNotStartedException`` while Created.
- ``BatchGetDeploymentTargets``: at most 25 ids
  (``DeploymentTargetListSizeExceededException``), an unknown id is
  ``DeploymentTargetDoesNotExistException``.
- ``GetDeploymentGroup`` answers the group's ``alarmConfiguration`` (moto: ``{}``).

Targets are whatever :func:`set_targets` stored: ``DeploymentTarget`` dicts
(tests/support/deployment_targets.py builds them).
"""

from __future__ import annotations

from typing import Any

from moto.codedeploy import models as codedeploy_models
from moto.codedeploy import responses as codedeploy_responses
from moto.codedeploy.exceptions import CodeDeployException
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult

from shared.timestamps import utc_now

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
# moto's private renderers and request parsing (``_deployment_info``, ``_deployment_group_info``,
# ``BaseResponse._get_param``) are patched and used on purpose: they are moto's, not ours, and
# moto offers no public hook to add the fields and operations it lacks. A moto upgrade that
# renames them fails loudly (AttributeError), not silently.
_original_deployment_info = codedeploy_responses._deployment_info


def error_information(deployment: Any) -> dict[str, str]:
    """The errorInformation set by :func:`set_status` ({} while it has none)."""
    info: dict[str, str] = getattr(deployment, "error_information", None) or {}
    return info


def _deployment_info_with_details(deployment: Any) -> dict[str, Any]:
    info = _original_deployment_info(deployment)
    info["errorInformation"] = error_information(deployment)
    info["rollbackInfo"] = getattr(deployment, "rollback_info", None) or {}
    return info


codedeploy_responses._deployment_info = _deployment_info_with_details

TARGET_PAGE_SIZE = 50
"""Ids per ListDeploymentTargets page here (AWS does not document its page size)."""
BATCH_LIMIT = 25
_TARGET_BODY_KEYS = ("instanceTarget", "lambdaTarget", "ecsTarget", "cloudFormationTarget")
_original_deployment_group_info = codedeploy_responses._deployment_group_info


class _Error(CodeDeployException):
    code = 400

    def __init__(self, error: str, message: str) -> None:
        super().__init__(error, message)


def _deployment_group_info_with_alarms(group: Any) -> dict[str, Any]:
    info = _original_deployment_group_info(group)
    alarms = getattr(group, "alarm_configuration", None)
    if alarms is not None and not isinstance(alarms, dict):
        alarms = {
            "enabled": alarms.enabled,
            "ignorePollAlarmFailure": alarms.ignore_poll_alarm_failure,
            "alarms": alarms.alarms,
        }
    info["alarmConfiguration"] = alarms or {}
    return info


codedeploy_responses._deployment_group_info = _deployment_group_info_with_alarms  # type: ignore[assignment]


def targets_of(deployment: Any) -> list[dict[str, Any]]:
    """The ``DeploymentTarget`` dicts set by :func:`set_targets` ([] while none)."""
    found: list[dict[str, Any]] = getattr(deployment, "deployment_targets", None) or []
    return found


def _body(target: dict[str, Any]) -> dict[str, Any]:
    return next(target[key] for key in _TARGET_BODY_KEYS if key in target)


def _started(response: Any) -> Any:
    deployment_id = response._get_param("deploymentId")
    deployment = response.codedeploy_backend.get_deployment(deployment_id)
    if deployment.status == "Created":
        raise _Error("DeploymentNotStartedException", "The specified deployment has not started.")
    return deployment


def _page(response: Any, ids: list[str], key: str) -> ActionResult:
    start = int(response._get_param("nextToken") or 0)
    page: dict[str, Any] = {key: ids[start : start + TARGET_PAGE_SIZE]}
    if start + TARGET_PAGE_SIZE < len(ids):
        page["nextToken"] = str(start + TARGET_PAGE_SIZE)
    return ActionResult(page)


def _list_deployment_targets(self: Any) -> ActionResult:
    deployment = _started(self)
    filters = self._get_param("targetFilters") or {}
    statuses = filters.get("TargetStatus")
    labels = filters.get("ServerInstanceLabel")
    ids = [
        _body(t)["targetId"]
        for t in targets_of(deployment)
        if (not statuses or _body(t).get("status") in statuses)
        and (not labels or _body(t).get("instanceLabel") in labels)
    ]
    return _page(self, ids, "targetIds")


def _batch_get_deployment_targets(self: Any) -> ActionResult:
    deployment = _started(self)
    wanted = self._get_param("targetIds") or []
    if len(wanted) > BATCH_LIMIT:
        raise _Error(
            "DeploymentTargetListSizeExceededException",
            "The maximum number of targets that can be returned is 25.",
        )
    by_id = {_body(t)["targetId"]: t for t in targets_of(deployment)}
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise _Error(
            "DeploymentTargetDoesNotExistException", f"The target {missing[0]} does not exist."
        )
    return ActionResult({"deploymentTargets": [by_id[i] for i in wanted]})


_response = codedeploy_responses.CodeDeployResponse
_response.list_deployment_targets = _list_deployment_targets  # type: ignore[attr-defined]
_response.batch_get_deployment_targets = _batch_get_deployment_targets  # type: ignore[attr-defined]


def backend(region: str = "us-east-1", account: str = ACCOUNT_ID) -> Any:
    return codedeploy_models.codedeploy_backends[account][region]


def deployments(region: str = "us-east-1", account: str = ACCOUNT_ID) -> dict[str, Any]:
    return backend(region, account).deployments  # type: ignore[no-any-return]


def set_status(
    deployment_id: str,
    status: str,
    *,
    error: dict[str, str] | None = None,
    rollback: dict[str, str] | None = None,
    region: str = "us-east-1",
    account: str = ACCOUNT_ID,
) -> None:
    """Move a deployment as CodeDeploy would, stamping start and completion times."""
    deployment = deployments(region, account)[deployment_id]
    deployment.status = status
    if status == "InProgress" and deployment.start_time is None:
        deployment.start_time = utc_now()
    if status in ("Succeeded", "Failed", "Stopped"):
        deployment.complete_time = utc_now()
    if error is not None:
        deployment.error_information = error
    if rollback is not None:
        deployment.rollback_info = rollback


def set_targets(
    deployment_id: str,
    targets: list[dict[str, Any]],
    *,
    region: str = "us-east-1",
    account: str = ACCOUNT_ID,
) -> None:
    """Store the deployment's targets (``DeploymentTarget`` dicts)."""
    deployment = deployments(region, account)[deployment_id]
    deployment.deployment_targets = targets
