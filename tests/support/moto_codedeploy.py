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
  moto already stores and answers ``blueGreenDeploymentConfiguration`` and ``deploymentStyle``.
- ``GetDeployment`` answers the deployment's own ``deploymentStyle`` and
  ``blueGreenDeploymentConfiguration`` (DeploymentInfo: "blue/green deployment options for this
  deployment"), copied from its group when it is created, as CodeDeploy does; moto renders the
  group's current ones, and no style at all for a group created without one. A deployment
  with no configuration anywhere answers ``CodeDeployDefault.OneAtATime``, the model's default
  (moto: ``"None"``).
- ``UpdateDeploymentGroup`` (moto has none): ``deploymentConfigName``, ``deploymentStyle`` and
  ``blueGreenDeploymentConfiguration``, enough to change a group under a running deployment.
- ``CreateDeploymentConfig``, ``GetDeploymentConfig``, ``ListDeploymentConfigs`` and
  ``DeleteDeploymentConfig`` (Terraform's ``aws_codedeploy_deployment_config``), with the
  predefined ``CodeDeployDefault.*`` configurations and their ``trafficRoutingConfig``.
- ``ContinueDeployment`` and ``StopDeployment``: handed to the simulated CodeDeploy of the
  deployment's account and region (tests/support/simulator.py registers itself with
  :func:`register_controller`); without one, the deployment simply moves on or stops.

Targets are whatever :func:`set_targets` stored: ``DeploymentTarget`` dicts
(tests/support/deployment_targets.py builds them).
"""

from __future__ import annotations

import copy
import re
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any, Protocol

from moto.codedeploy import models as codedeploy_models
from moto.codedeploy import responses as codedeploy_responses
from moto.codedeploy.exceptions import CodeDeployException
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult, EmptyResult

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
    info["deploymentStyle"] = own_deployment_style(deployment)
    if deployment.deployment_config_name is None:
        # moto renders str(None). CreateDeploymentInput.deploymentConfigName (botocore model):
        # without one on the group either, "CodeDeployDefault.OneAtATime is used by default".
        info["deploymentConfigName"] = "CodeDeployDefault.OneAtATime"
    blue_green = own_blue_green_configuration(deployment)
    if blue_green:
        info["blueGreenDeploymentConfiguration"] = blue_green
    else:
        # Not required in DeploymentInfo (botocore model): left out when there is none.
        info.pop("blueGreenDeploymentConfiguration", None)
    return info


def _deployment_style(deployment: Any) -> dict[str, str]:
    """The group's deploymentStyle, or what AWS gives a group created without one
    (terraform-provider-aws defaults ``deployment_style`` to IN_PLACE /
    WITHOUT_TRAFFIC_CONTROL; a Lambda group is always blue/green with traffic control,
    CodeDeploy user guide "Deployments on an AWS Lambda compute platform")."""
    group = getattr(deployment, "deployment_group", None)
    style: dict[str, str] = dict(getattr(group, "deployment_style", None) or {})
    if style:
        return style
    if getattr(deployment.application, "compute_platform", None) == "Lambda":
        return {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
    return {"deploymentType": "IN_PLACE", "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"}


_original_deployment_init = codedeploy_models.DeploymentInfo.__init__


def _deployment_init_with_own_settings(self: Any, *args: Any, **kwargs: Any) -> None:
    """A new deployment keeps its group's style and blue/green waits as they are now: a later
    UpdateDeploymentGroup changes the group's next deployments, not this one."""
    _original_deployment_init(self, *args, **kwargs)
    group = self.deployment_group
    self.own_deployment_style = copy.deepcopy(_deployment_style(self))
    self.own_blue_green_configuration = copy.deepcopy(
        dict(getattr(group, "blue_green_deployment_configuration", None) or {})
    )


codedeploy_models.DeploymentInfo.__init__ = _deployment_init_with_own_settings  # type: ignore[method-assign]


def own_deployment_style(deployment: Any) -> dict[str, str]:
    """DeploymentInfo.deploymentStyle: the deployment's, set when it was created."""
    style: dict[str, str] = getattr(deployment, "own_deployment_style", None) or _deployment_style(
        deployment
    )
    return style


def own_blue_green_configuration(deployment: Any) -> dict[str, Any]:
    """DeploymentInfo.blueGreenDeploymentConfiguration: the deployment's ({}: none)."""
    found: dict[str, Any] | None = getattr(deployment, "own_blue_green_configuration", None)
    if found is None:
        group = deployment.deployment_group
        found = dict(getattr(group, "blue_green_deployment_configuration", None) or {})
    return found


codedeploy_responses._deployment_info = _deployment_info_with_details

TARGET_PAGE_SIZE = 50
"""Ids per ListDeploymentTargets page here (AWS does not document its page size)."""
BATCH_LIMIT = 25
_TARGET_BODY_KEYS = ("instanceTarget", "lambdaTarget", "ecsTarget", "cloudFormationTarget")
_original_deployment_group_info = codedeploy_responses._deployment_group_info


class CodeDeployError(CodeDeployException):
    """An AWS error response (``__type`` is ``error``), as boto3 raises it to the caller."""

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
        raise CodeDeployError(
            "DeploymentNotStartedException", "The specified deployment has not started."
        )
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
        raise CodeDeployError(
            "DeploymentTargetListSizeExceededException",
            "The maximum number of targets that can be returned is 25.",
        )
    by_id = {_body(t)["targetId"]: t for t in targets_of(deployment)}
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise CodeDeployError(
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


# --------------------------------------------------------------------------------------------
# Deployment configurations (moto has none of these operations)
# --------------------------------------------------------------------------------------------

_PREDEFINED_PATTERN = re.compile(
    r"CodeDeployDefault\.(?P<platform>ECS|Lambda)"
    r"(?:(?P<all>AllAtOnce)"
    r"|Canary(?P<canary_pct>\d+)Percent(?P<canary_min>\d+)Minutes"
    r"|Linear(?P<linear_pct>\d+)PercentEvery(?P<linear_min>\d+)Minutes?)"
)
PREDEFINED_CONFIGS = (
    # EC2/on-premises (minimumHealthyHosts as GetDeploymentConfig answers them: the
    # MinimumHealthyHosts shape's documentation for OneAtATime).
    "CodeDeployDefault.AllAtOnce",
    "CodeDeployDefault.HalfAtATime",
    "CodeDeployDefault.OneAtATime",
    # ECS and Lambda: user guide, "Working with deployment configurations".
    "CodeDeployDefault.ECSAllAtOnce",
    "CodeDeployDefault.ECSCanary10Percent5Minutes",
    "CodeDeployDefault.ECSCanary10Percent15Minutes",
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
    "CodeDeployDefault.LambdaAllAtOnce",
    "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    "CodeDeployDefault.LambdaCanary10Percent10Minutes",
    "CodeDeployDefault.LambdaCanary10Percent15Minutes",
    "CodeDeployDefault.LambdaCanary10Percent30Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
    "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
)
_SERVER_HEALTHY_HOSTS = {
    "CodeDeployDefault.AllAtOnce": {"type": "FLEET_PERCENT", "value": 0},
    "CodeDeployDefault.HalfAtATime": {"type": "FLEET_PERCENT", "value": 50},
    "CodeDeployDefault.OneAtATime": {"type": "MOST_CONCURRENCY", "value": 1},
}
_EPOCH = datetime(2014, 10, 6, tzinfo=UTC)
"""createTime of the predefined configurations (they predate every account)."""


def predefined_config(name: str) -> dict[str, Any] | None:
    """The DeploymentConfigInfo of a predefined ``CodeDeployDefault.*`` configuration."""
    if name not in PREDEFINED_CONFIGS:
        return None
    info: dict[str, Any] = {
        "deploymentConfigId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "deploymentConfigName": name,
        "createTime": _EPOCH,
    }
    if name in _SERVER_HEALTHY_HOSTS:
        info.update(computePlatform="Server", minimumHealthyHosts=_SERVER_HEALTHY_HOSTS[name])
        return info
    match = _PREDEFINED_PATTERN.fullmatch(name)
    if match is None:  # pragma: no cover - every name above matches
        raise ValueError(name)
    routing: dict[str, Any]
    if match["all"]:
        routing = {"type": "AllAtOnce"}
    elif match["canary_pct"]:
        routing = {
            "type": "TimeBasedCanary",
            "timeBasedCanary": {
                "canaryPercentage": int(match["canary_pct"]),
                "canaryInterval": int(match["canary_min"]),
            },
        }
    else:
        routing = {
            "type": "TimeBasedLinear",
            "timeBasedLinear": {
                "linearPercentage": int(match["linear_pct"]),
                "linearInterval": int(match["linear_min"]),
            },
        }
    info.update(
        computePlatform=match["platform"],
        minimumHealthyHosts={"type": "FLEET_PERCENT", "value": 0},
        trafficRoutingConfig=routing,
    )
    return info


def custom_configs(region: str = "us-east-1", account: str = ACCOUNT_ID) -> dict[str, Any]:
    """The custom configurations of a backend, by name (CreateDeploymentConfig stores them)."""
    return _custom_configs(backend(region, account))


def _custom_configs(found: Any) -> dict[str, Any]:
    # Kept on the backend object, so moto's reset between tests drops them with it.
    configs: dict[str, Any] | None = getattr(found, "deployment_configs_added", None)
    if configs is None:
        configs = {}
        found.deployment_configs_added = configs
    return configs


def deployment_config(found: Any, name: str) -> dict[str, Any] | None:
    """The DeploymentConfigInfo named ``name`` in backend ``found`` (None: no such config)."""
    predefined = predefined_config(name)
    if predefined is not None:
        return predefined
    return _custom_configs(found).get(name)


def _create_deployment_config(self: Any) -> ActionResult:
    name = self._get_param("deploymentConfigName")
    configs = _custom_configs(self.codedeploy_backend)
    if name.startswith("CodeDeployDefault.") or name in configs:
        raise CodeDeployError(
            "DeploymentConfigAlreadyExistsException",
            f"A deployment configuration with the name {name} already exists.",
        )
    info: dict[str, Any] = {
        "deploymentConfigId": str(uuid.uuid4()),
        "deploymentConfigName": name,
        "createTime": utc_now(),
        "computePlatform": self._get_param("computePlatform") or "Server",
    }
    for key in ("minimumHealthyHosts", "trafficRoutingConfig", "zonalConfig"):
        value = self._get_param(key)
        if value:
            info[key] = value
    configs[name] = info
    return ActionResult({"deploymentConfigId": info["deploymentConfigId"]})


def _get_deployment_config(self: Any) -> ActionResult:
    name = self._get_param("deploymentConfigName")
    info = deployment_config(self.codedeploy_backend, name)
    if info is None:
        raise CodeDeployError(
            "DeploymentConfigDoesNotExistException", f"Deployment config {name} does not exist."
        )
    return ActionResult({"deploymentConfigInfo": info})


def _list_deployment_configs(self: Any) -> ActionResult:
    names = [*PREDEFINED_CONFIGS, *_custom_configs(self.codedeploy_backend)]
    return ActionResult({"deploymentConfigsList": names})


def _delete_deployment_config(self: Any) -> Any:
    name = self._get_param("deploymentConfigName")
    if name.startswith("CodeDeployDefault."):
        raise CodeDeployError(
            "InvalidOperationException", "A predefined deployment configuration cannot be deleted."
        )
    _custom_configs(self.codedeploy_backend).pop(name, None)
    return EmptyResult()


_response.create_deployment_config = _create_deployment_config  # type: ignore[attr-defined]
_response.get_deployment_config = _get_deployment_config  # type: ignore[attr-defined]
_response.list_deployment_configs = _list_deployment_configs  # type: ignore[attr-defined]
_response.delete_deployment_config = _delete_deployment_config  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# ContinueDeployment and StopDeployment: the simulated CodeDeploy decides
# --------------------------------------------------------------------------------------------


class DeploymentController(Protocol):
    """What moves a deployment on ContinueDeployment and StopDeployment (the simulator)."""

    def continue_deployment(self, deployment_id: str, wait_type: str) -> None: ...

    def stop(self, deployment_id: str, rollback: bool | None = None) -> None: ...


_controllers: weakref.WeakValueDictionary[tuple[str, str], Any] = weakref.WeakValueDictionary()


def register_controller(
    controller: DeploymentController, region: str = "us-east-1", account: str = ACCOUNT_ID
) -> None:
    """Route ContinueDeployment and StopDeployment of (account, region) to ``controller``
    (held weakly: a simulator that is gone no longer answers)."""
    _controllers[account, region] = controller


def _existing(self: Any) -> Any:
    deployment_id = self._get_param("deploymentId")
    if not deployment_id:
        raise CodeDeployError("DeploymentIdRequiredException", "A deployment ID must be specified.")
    found = self.codedeploy_backend.deployments.get(deployment_id)
    if found is None:
        raise CodeDeployError(
            "DeploymentDoesNotExistException", f"The deployment {deployment_id} does not exist."
        )
    if found.status in ("Succeeded", "Failed", "Stopped"):
        raise CodeDeployError(
            "DeploymentAlreadyCompletedException",
            f"The deployment {deployment_id} has already completed.",
        )
    return found


def _controller(self: Any) -> DeploymentController | None:
    found: DeploymentController | None = _controllers.get((self.current_account, self.region))
    return found


def _continue_deployment(self: Any) -> Any:
    deployment = _existing(self)
    wait_type = self._get_param("deploymentWaitType") or "READY_WAIT"
    if wait_type not in ("READY_WAIT", "TERMINATION_WAIT"):
        raise CodeDeployError(
            "InvalidDeploymentWaitTypeException", f"The wait type {wait_type} is invalid."
        )
    controller = _controller(self)
    if controller is not None:
        controller.continue_deployment(deployment.deployment_id, wait_type)
    elif wait_type == "READY_WAIT" and deployment.status == "Ready":
        deployment.status = "InProgress"
    elif wait_type == "TERMINATION_WAIT" and deployment.instance_termination_wait_time_started:
        set_status(
            deployment.deployment_id, "Succeeded", region=self.region, account=self.current_account
        )
    else:
        raise CodeDeployError(
            "DeploymentIsNotInReadyStateException",
            "The deployment does not have a status of Ready and can't continue yet.",
        )
    return EmptyResult()


def _stop_deployment(self: Any) -> Any:
    deployment = _existing(self)
    rollback = self._get_param("autoRollbackEnabled")
    controller = _controller(self)
    if controller is not None:
        controller.stop(deployment.deployment_id, rollback)
    else:
        set_status(
            deployment.deployment_id,
            "Stopped",
            error={"code": "MANUAL_STOP", "message": "The deployment was stopped by a user."},
            region=self.region,
            account=self.current_account,
        )
    # StopDeploymentOutput: "Pending" while the stop is under way, "Succeeded" once done.
    return ActionResult({"status": "Pending", "statusMessage": "Deployment stop is pending"})


_GROUP_UPDATES = {
    "deploymentConfigName": "deployment_config_name",
    "deploymentStyle": "deployment_style",
    "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
}
"""The UpdateDeploymentGroupInput members served here, and moto's group attributes."""


def _group(found: Any, application: str, name: str) -> Any:
    group = found.deployment_groups.get(application, {}).get(name)
    if group is None:
        raise CodeDeployError(
            "DeploymentGroupDoesNotExistException", f"The deployment group {name} does not exist."
        )
    return group


def update_deployment_group(
    application: str,
    name: str,
    changes: dict[str, Any],
    region: str = "us-east-1",
    account: str = ACCOUNT_ID,
) -> None:
    """What UpdateDeploymentGroup does, without a call: for a test that changes a group from
    inside a botocore hook of the code under test (a call there would count as the code's)."""
    group = _group(backend(region, account), application, name)
    for key, value in changes.items():
        setattr(group, _GROUP_UPDATES[key], value)


def _update_deployment_group(self: Any) -> ActionResult:
    """UpdateDeploymentGroup, the fields the tests change (botocore model,
    UpdateDeploymentGroupInput); its answer lists no hooks left behind."""
    group = _group(
        self.codedeploy_backend,
        self._get_param("applicationName"),
        self._get_param("currentDeploymentGroupName"),
    )
    for key, attribute in _GROUP_UPDATES.items():
        value = self._get_param(key)
        if value is not None:
            setattr(group, attribute, value)
    return ActionResult({"hooksNotCleanedUp": []})


_response.update_deployment_group = _update_deployment_group  # type: ignore[attr-defined]
_response.continue_deployment = _continue_deployment  # type: ignore[attr-defined]
_response.stop_deployment = _stop_deployment  # type: ignore[attr-defined]
