"""Each compute platform as CodeDeploy runs it, for the e2e emulator (tests/e2e/emulator.py).

The simulated CodeDeploy (tests/support/simulator.py) moves deployments through their states;
this module decides, per compute platform, how a deployment that carries no ``simulate:``
marker ends and what its targets say, from what the deployment really names:

- **Lambda** (AppSpec ``Resources[].<name>.Properties`` ``Name``, ``Alias``,
  ``CurrentVersion``, ``TargetVersion`` and ``Hooks``; CodeDeploy user guide, "AppSpec
  'resources' section" and "AppSpec 'hooks' section"): the ``BeforeAllowTraffic`` and
  ``AfterAllowTraffic`` hook functions really run (the emulator's Lambda runner) with the event
  CodeDeploy sends them (``DeploymentId``, ``LifecycleEventHookExecutionId``), and must report
  through ``PutLifecycleEventHookExecutionStatus`` (patched in here: moto has none). A hook
  that reports ``Failed``, raises, or does not report fails the deployment at its event.
  Between the two hooks, the group's (or the deployment's override) CloudWatch alarms are read
  from moto's CloudWatch: one in ``ALARM`` stops the deployment, status ``Stopped`` with
  ``ALARM_ACTIVE`` ("If any of the specified alarms are activated, the deployment stops, and
  the status is updated to Stopped": user guide, "Monitoring deployments with CloudWatch
  alarms"). On success the alias is moved to ``TargetVersion``; a rollback moves it back.
- **EC2/on-premises** (compute platform ``Server``): the instances are those of the group's
  Auto Scaling groups or EC2 tag filters, read from moto's Auto Scaling and EC2; the revision's
  bundle is read from moto's S3 and its ``appspec.yml`` names the script (``location``,
  ``runas``) of each lifecycle event. There is no agent here to run the scripts: a test says
  which event's script fails, with which exit code and output (:func:`script_failure`); the
  failing event's diagnostics then carry the bundle's script name, the agent's documented
  message ("Script at specified location: ... run as user ... failed with exit code N") and
  the output as ``logTail``. The deployment configuration decides how many instances run at
  once (``AllAtOnce``, ``HalfAtATime``, ``OneAtATime``); after a failing batch the remaining
  instances are ``Skipped``. ``deploymentMode: RESTART`` deploys the group's last successful
  revision (CreateDeploymentInput.deploymentMode in the botocore model); ``deploymentMode``
  and ``ec2DeploymentOptions`` are kept and returned by GetDeployment (moto drops both).
- Anything else (ECS, a Lambda deployment without a Lambda AppSpec, a Server group without
  instances) keeps the simulator's default plan and targets (tests/support/deployment_targets.py).

Lifecycle event names are the AppSpec hooks section's for each platform (tests/support/
deployment_targets.py); every field written here is a member of the botocore output shapes,
which tests/test_platform_shapes.py checks. What CodeDeploy writes in a failed Lambda hook's
``diagnostics`` is not documented: here ``scriptName`` is the hook function, ``message`` says
what it reported and ``logTail`` is the end of its log, and the deployment's error code is
``HOOK_EXECUTION_FAILURE`` (a value of the model's ErrorCode enum); the texts are ours.
"""

from __future__ import annotations

import io
import logging
import math
import re
import tarfile
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml
from moto.codedeploy import responses as codedeploy_responses
from moto.codedeploy.exceptions import CodeDeployException
from moto.core.responses import ActionResult

from tests.support.deployment_targets import (
    LAMBDA_EVENTS,
    SERVER_EVENTS,
    SUCCESS_DIAGNOSTICS,
    HookFailure,
    instance_target,
    lambda_target,
    lifecycle_events,
    targets_for,
)
from tests.support.simulator import (
    HEALTH_FAILURE,
    Plan,
    Step,
    last_good_revision,
    plan_from_description,
)

LOG = logging.getLogger("e2e.platforms")

SIMULATE_MARKER = "simulate:"
"""A description with a ``simulate:`` marker keeps the simulator's scripted plan."""
HOOK_LOG_TAIL_BYTES = 4096
"""Diagnostics.logTail: "up to the last 4 KB of the diagnostic log" (botocore model)."""
ROLLBACK = {"rollbackMessage": "rolled back"}
"""Any rollback info on a Failed or Stopped step makes the simulator create the rollback
deployment (``create_rollbacks``); it then writes the real rollbackInfo."""

HOOK_EXECUTION_FAILURE = "HOOK_EXECUTION_FAILURE"
ALARM_ACTIVE = "ALARM_ACTIVE"
NO_INSTANCES = {
    "code": "NO_INSTANCES",
    "message": "The deployment failed because no instances were found for your deployment "
    "group. Check your deployment group settings to make sure the tags for your Amazon EC2 "
    "instances or Auto Scaling groups correctly identify the instances you want to deploy to, "
    "and then try again.",
}
REVISION_MISSING = {
    "code": "REVISION_MISSING",
    "message": "deploymentMode RESTART: the deployment group has no successful deployment "
    "whose revision could be restarted.",
}


class InvalidLifecycleEventHookExecutionIdException(CodeDeployException):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidLifecycleEventHookExecutionIdException", message)


# --------------------------------------------------------------------------------------------
# What a deployment ran, per platform (kept until the emulator stops)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LambdaShift:
    """The AppSpec of a Lambda deployment: which alias moves from which version to which."""

    function: str
    alias: str
    current_version: str
    target_version: str
    hooks: dict[str, str]
    """Lifecycle event -> hook function (name or ARN), as the AppSpec lists them."""


@dataclass(frozen=True)
class HookRun:
    event: str
    function: str
    status: str
    """What the hook reported (Succeeded, Failed) or why it counts as Failed."""
    log_tail: str


@dataclass(frozen=True)
class Script:
    location: str
    runas: str


@dataclass(frozen=True)
class ScriptFault:
    """A lifecycle event whose script fails on the instances of an application (a test says)."""

    application: str
    event: str
    exit_code: int
    output: str


@dataclass
class PlatformRun:
    platform: str
    shift: LambdaShift | None = None
    hooks: list[HookRun] = field(default_factory=list)
    alarm: str | None = None
    traffic_weight_at_stop: float = 0.0
    instances: list[str] = field(default_factory=list)
    scripts: dict[str, Script] = field(default_factory=dict)
    fault: ScriptFault | None = None
    batch_size: int = 1


_runs: dict[str, PlatformRun] = {}
_hook_reports: dict[str, str] = {}
_faults: dict[str, ScriptFault] = {}
_modes: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()
_invoke: Callable[[Any, Any], Any] | None = None
"""The emulator's Lambda runner (``LambdaRunner.invoke``): runs a hook function."""


@contextmanager
def script_failure(
    application: str, event: str, *, exit_code: int = 1, output: str
) -> Iterator[ScriptFault]:
    """While inside: every instance's ``event`` script of ``application``'s deployments exits
    ``exit_code`` after printing ``output``. CodeDeploy's rollbacks are not affected: they
    redeploy the last good revision."""
    if event not in SERVER_EVENTS:
        raise ValueError(f"{event} is not an EC2/on-premises lifecycle event: {SERVER_EVENTS}")
    fault = ScriptFault(application, event, exit_code, output)
    with _lock:
        _faults[application] = fault
    try:
        yield fault
    finally:
        with _lock:
            _faults.pop(application, None)


def run_of(deployment_id: str) -> PlatformRun | None:
    """What the emulator decided for a deployment (tests read it to explain failures)."""
    return _runs.get(deployment_id)


# --------------------------------------------------------------------------------------------
# Planner: how a deployment ends
# --------------------------------------------------------------------------------------------


def planner(step_seconds: float) -> Callable[[Any], Plan]:
    """The emulator's planner: the platform's own outcome, else the description's markers."""

    def plan(deployment: Any) -> Plan:
        scripted = plan_from_description(deployment, 2 * step_seconds, start=step_seconds)
        if SIMULATE_MARKER in (deployment.description or ""):
            return scripted
        try:
            found = _plan_for_platform(deployment, step_seconds)
        except Exception:  # the scripted plan still ends the deployment; the log says why
            LOG.exception("platform planning failed for %s", deployment.deployment_id)
            return scripted
        return found if found is not None else scripted

    return plan


def _where(deployment: Any) -> tuple[str, str]:
    """(account, region) of a moto deployment: the CodeDeploy backend that holds it."""
    from moto.codedeploy.models import codedeploy_backends

    for account, regions in list(codedeploy_backends.items()):
        for region, backend in list(regions.items()):
            if deployment.deployment_id in backend.deployments:
                return account, region
    raise LookupError(f"deployment {deployment.deployment_id} is in no CodeDeploy backend")


def _platform(deployment: Any) -> str:
    return str(getattr(deployment.application, "compute_platform", None) or "Server")


def _plan_for_platform(deployment: Any, step: float) -> Plan | None:
    platform = _platform(deployment)
    if platform == "Lambda":
        return _plan_lambda(deployment, step)
    if platform == "Server":
        return _plan_server(deployment, step)
    return None


def _steps(step: float, status: str, error: dict[str, str] | None = None) -> Plan:
    rollback = ROLLBACK if status in ("Failed", "Stopped") else None
    return [Step(step, "InProgress"), Step(2 * step, status, error=error, rollback=rollback)]


# --- Lambda ----------------------------------------------------------------------------------


def parse_lambda_appspec(revision: dict[str, Any] | None) -> LambdaShift | None:
    """The AWS::Lambda::Function resource of an AppSpecContent or String revision (JSON or
    YAML), or None when the revision is no Lambda AppSpec."""
    revision = revision or {}
    body = (revision.get("appSpecContent") or revision.get("string") or {}).get("content")
    if not body:
        return None
    try:
        spec = yaml.safe_load(body)  # YAML 1.2 reads JSON too
    except yaml.YAMLError:
        return None
    if not isinstance(spec, dict):
        return None
    for resource in spec.get("Resources") or []:
        for value in (resource or {}).values():
            if not isinstance(value, dict) or value.get("Type") != "AWS::Lambda::Function":
                continue
            props = value.get("Properties") or {}
            hooks: dict[str, str] = {}
            for entry in spec.get("Hooks") or []:
                hooks.update({str(k): str(v) for k, v in (entry or {}).items()})
            return LambdaShift(
                function=str(props.get("Name", "")),
                alias=str(props.get("Alias", "")),
                current_version=str(props.get("CurrentVersion", "")),
                target_version=str(props.get("TargetVersion", "")),
                hooks=hooks,
            )
    return None


def _plan_lambda(deployment: Any, step: float) -> Plan | None:
    shift = parse_lambda_appspec(deployment.revision)
    if shift is None or not shift.function:
        return None
    run = PlatformRun("Lambda", shift=shift)
    _runs[deployment.deployment_id] = run
    if deployment.creator == "codeDeployRollback":
        # The rollback moves the alias back: from the failed deployment's target to its current.
        triggering = (deployment.rollback_info or {}).get("rollbackTriggeringDeploymentId")
        failed = _runs.get(str(triggering))
        source = failed.shift if failed is not None and failed.shift is not None else shift
        run.shift = LambdaShift(
            source.function, source.alias, source.target_version, source.current_version, {}
        )
        return _steps(step, "Succeeded")
    before = shift.hooks.get("BeforeAllowTraffic")
    if before and _run_hook(deployment, run, "BeforeAllowTraffic", before) != "Succeeded":
        return _steps(step, "Failed", _hook_error("BeforeAllowTraffic", before))
    alarm = _alarm_in_alarm_state(deployment)
    if alarm is not None:
        run.alarm = alarm
        run.traffic_weight_at_stop = _first_increment(deployment.deployment_config_name)
        return _steps(step, "Stopped", _alarm_error(alarm))
    after = shift.hooks.get("AfterAllowTraffic")
    if after and _run_hook(deployment, run, "AfterAllowTraffic", after) != "Succeeded":
        return _steps(step, "Failed", _hook_error("AfterAllowTraffic", after))
    return _steps(step, "Succeeded")


def _hook_error(event: str, function: str) -> dict[str, str]:
    return {
        "code": HOOK_EXECUTION_FAILURE,
        "message": f"The {event} lifecycle event hook function {_function_name(function)} "
        "did not report Succeeded; the deployment failed.",
    }


def _alarm_error(alarm: str) -> dict[str, str]:
    return {
        "code": ALARM_ACTIVE,
        "message": "One or more alarms have been activated according to the Amazon CloudWatch "
        "metrics you selected, and the affected deployments have been stopped. Activated "
        f"alarms: <{alarm}>",
    }


def _function_name(name_or_arn: str) -> str:
    # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    parts = name_or_arn.split(":")
    return parts[6] if name_or_arn.startswith("arn:") and len(parts) > 6 else name_or_arn


def _run_hook(deployment: Any, run: PlatformRun, event: str, function: str) -> str:
    """Invoke the hook as CodeDeploy does and return what it reported."""
    from moto.awslambda.models import lambda_backends

    execution_id = str(uuid.uuid4())
    account, region = _where(deployment)
    status, log = "Failed", ""
    try:
        fn = lambda_backends[account][region].get_function(function)
        if _invoke is None:
            raise RuntimeError("no Lambda runner: platforms.install() was not called")
        invocation = _invoke(
            fn,
            {
                "DeploymentId": deployment.deployment_id,
                "LifecycleEventHookExecutionId": execution_id,
            },
        )
        log = invocation.log
        with _lock:
            reported = _hook_reports.pop(execution_id, None)
        if invocation.error:
            status = f"Failed: the function raised ({invocation.payload.decode()[:300]})"
        elif reported is None:
            status = "Failed: no PutLifecycleEventHookExecutionStatus before the function returned"
        else:
            status = reported
    except Exception as exc:  # a missing function is a failed hook, as in CodeDeploy
        status = f"Failed: could not invoke {function}: {exc}"
    tail = log.encode()[-HOOK_LOG_TAIL_BYTES:].decode(errors="replace")
    run.hooks.append(HookRun(event, _function_name(function), status, tail))
    return status


def _alarm_in_alarm_state(deployment: Any) -> str | None:
    from moto.cloudwatch.models import cloudwatch_backends

    override = deployment.override_alarm_configuration or {}
    config = override if override.get("enabled") else _alarm_configuration(deployment)
    if not config.get("enabled"):
        return None
    account, region = _where(deployment)
    backend = cloudwatch_backends[account][region]
    for alarm in config.get("alarms") or []:
        found = backend.alarms.get(alarm.get("name"))
        if found is not None and found.state_value == "ALARM":
            return str(alarm["name"])
    return None


def _alarm_configuration(deployment: Any) -> dict[str, Any]:
    alarms = getattr(deployment.deployment_group, "alarm_configuration", None)
    if alarms is None:
        return {}
    if isinstance(alarms, dict):
        return alarms
    return {"enabled": alarms.enabled, "alarms": alarms.alarms}


def _first_increment(config_name: str | None) -> float:
    """The share of traffic a canary or linear configuration moves first (its name says:
    CodeDeployDefault.LambdaCanary10Percent5Minutes), 0 for all-at-once."""
    found = re.search(r"(?:Canary|Linear)(\d+)Percent", config_name or "")
    return int(found.group(1)) / 100 if found else 0.0


def _put_lifecycle_event_hook_execution_status(self: Any) -> ActionResult:
    """CodeDeployResponse.put_lifecycle_event_hook_execution_status (missing in moto)."""
    deployment_id = self._get_param("deploymentId")
    execution_id = self._get_param("lifecycleEventHookExecutionId")
    status = self._get_param("status")
    self.codedeploy_backend.get_deployment(deployment_id)  # DeploymentDoesNotExistException
    if not execution_id:
        raise InvalidLifecycleEventHookExecutionIdException(
            "A lifecycle event hook execution ID is required."
        )
    with _lock:
        _hook_reports[execution_id] = status
    return ActionResult({"lifecycleEventHookExecutionId": execution_id})


# --- EC2/on-premises -------------------------------------------------------------------------


def _plan_server(deployment: Any, step: float) -> Plan | None:
    instances = _group_instances(deployment)
    if not instances:
        return None  # a group with no real instances keeps the simulated fleet
    run = PlatformRun("Server", instances=instances)
    _runs[deployment.deployment_id] = run
    restart = _modes.get(deployment.deployment_id, {}).get("deploymentMode") == "RESTART"
    if restart and not deployment.revision:
        return _steps(step, "Failed", REVISION_MISSING)
    run.scripts = _bundle_scripts(deployment)
    run.batch_size = _batch_size(deployment.deployment_config_name, len(instances))
    if deployment.creator != "codeDeployRollback":
        with _lock:
            run.fault = _faults.get(deployment.application_name)
    if run.fault is not None:
        return _steps(step, "Failed", HEALTH_FAILURE)
    return _steps(step, "Succeeded")


def _group_instances(deployment: Any) -> list[str]:
    from moto.autoscaling.models import autoscaling_backends
    from moto.ec2.models import ec2_backends

    group = deployment.deployment_group
    account, region = _where(deployment)
    found: list[str] = []
    for name in getattr(group, "auto_scaling_groups", None) or []:
        asg = autoscaling_backends[account][region].autoscaling_groups.get(name)
        if asg is not None:
            found.extend(state.instance.id for state in asg.instance_states)
    filters = getattr(group, "ec2_tag_filters", None) or []
    if filters:
        for instance in ec2_backends[account][region].all_instances():
            if instance.instance_state.name == "running" and _tags_match(instance, filters):
                found.append(instance.id)
    return sorted(dict.fromkeys(found))


def _tags_match(instance: Any, filters: list[dict[str, str]]) -> bool:
    """EC2TagFilter: KEY_ONLY, VALUE_ONLY, KEY_AND_VALUE; an instance matching any filter is in
    the group (a single tag group)."""
    tags = {
        str(t.get("key", t.get("Key"))): str(t.get("value", t.get("Value")))
        for t in instance.get_tags()
    }
    for wanted in filters:
        kind = wanted.get("Type", "KEY_AND_VALUE")
        key, value = wanted.get("Key"), wanted.get("Value")
        if kind == "KEY_ONLY" and key in tags:
            return True
        if kind == "VALUE_ONLY" and value in tags.values():
            return True
        if kind == "KEY_AND_VALUE" and key in tags and tags[key] == value:
            return True
    return False


def _batch_size(config_name: str | None, count: int) -> int:
    """Instances deployed to at once by the predefined Server configurations (user guide,
    "Predefined deployment configurations for an EC2/on-premises compute platform")."""
    if config_name == "CodeDeployDefault.AllAtOnce":
        return count
    if config_name == "CodeDeployDefault.HalfAtATime":
        return max(1, math.ceil(count / 2))
    return 1


def _bundle_scripts(deployment: Any) -> dict[str, Script]:
    """Lifecycle event -> its first script, from the bundle's appspec.yml in moto's S3."""
    from moto.s3.models import s3_backends

    location = (deployment.revision or {}).get("s3Location") or {}
    if not location.get("bucket") or not location.get("key"):
        return {}
    account = _where(deployment)[0]
    key = s3_backends[account]["aws"].get_object(
        location["bucket"], location["key"], location.get("version")
    )
    if key is None:
        return {}
    spec = _appspec_from_bundle(bytes(key.value), str(location.get("bundleType") or "zip"))
    scripts: dict[str, Script] = {}
    for event, entries in ((spec or {}).get("hooks") or {}).items():
        if entries:
            first = entries[0]
            scripts[str(event)] = Script(str(first["location"]), str(first.get("runas", "root")))
    return scripts


def _appspec_from_bundle(data: bytes, bundle_type: str) -> dict[str, Any] | None:
    text: bytes | None = None
    if bundle_type == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "appspec.yml"]
            text = archive.read(min(names, key=len)) if names else None
    elif bundle_type in ("tar", "tgz"):
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            members = [m for m in archive.getmembers() if m.name.endswith("appspec.yml")]
            stream = archive.extractfile(members[0]) if members else None
            text = stream.read() if stream else None
    if text is None:
        return None
    loaded = yaml.safe_load(text)
    return loaded if isinstance(loaded, dict) else None


def _create_deployment_response(
    original: Callable[[Any], ActionResult],
) -> Callable[[Any], ActionResult]:
    """CreateDeployment keeping ``deploymentMode`` and ``ec2DeploymentOptions`` (moto drops
    both); with RESTART the revision is the group's last successful deployment's."""

    def create_deployment(self: Any) -> ActionResult:
        mode = self._get_param("deploymentMode")
        options = self._get_param("ec2DeploymentOptions")
        result = original(self)
        deployment_id = str(result.result["deploymentId"])  # type: ignore[index]
        kept = {k: v for k, v in (("deploymentMode", mode), ("ec2DeploymentOptions", options)) if v}
        if kept:
            with _lock:
                _modes[deployment_id] = kept
        if mode == "RESTART":
            deployment = self.codedeploy_backend.deployments[deployment_id]
            deployment.revision = last_good_revision(
                self.codedeploy_backend.deployments, deployment
            )
        return result

    return create_deployment


def _deployment_group_info(
    original: Callable[[Any], dict[str, Any]],
) -> Callable[[Any], dict[str, Any]]:
    """DeploymentGroupInfo as the model has it, where moto differs and Terraform would see a
    change on every plan (to be made with UpdateDeploymentGroup, which moto lacks): a group
    without a load balancer has no ``loadBalancerInfo`` (moto echoes the provider's empty
    object), and ``autoScalingGroups`` is a list of AutoScalingGroup structures ``{name}``
    (moto answers the names)."""

    def info(group: Any) -> dict[str, Any]:
        found = original(group)
        if not found.get("loadBalancerInfo"):
            found.pop("loadBalancerInfo", None)
        groups = found.get("autoScalingGroups") or []
        found["autoScalingGroups"] = [{"name": g} if isinstance(g, str) else g for g in groups]
        return found

    return info


def _deployment_info(original: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def info(deployment: Any) -> dict[str, Any]:
        found = original(deployment)
        found.update(_modes.get(deployment.deployment_id, {}))
        return found

    return info


# --------------------------------------------------------------------------------------------
# Targets: what ListDeploymentTargets / BatchGetDeploymentTargets answer
# --------------------------------------------------------------------------------------------


def targets(
    deployment: Any,
    outcome: str,
    *,
    start: datetime,
    end: datetime,
    region: str,
    account: str,
) -> list[dict[str, Any]]:
    """The deployment's targets for ``outcome``; a Lambda deployment's alias moves with it."""
    run = _runs.get(deployment.deployment_id)
    if run is not None:
        try:
            found = _platform_targets(deployment, run, outcome, start, end, region, account)
            if run.shift is not None and outcome == "Succeeded":
                _point_alias(run.shift, account, region)
            return found
        except Exception:  # the simulated targets still let the deployment end
            LOG.exception("platform targets failed for %s", deployment.deployment_id)
    return targets_for(deployment, outcome, start=start, end=end, region=region, account=account)


def _platform_targets(
    deployment: Any,
    run: PlatformRun,
    outcome: str,
    start: datetime,
    end: datetime,
    region: str,
    account: str,
) -> list[dict[str, Any]]:
    common: dict[str, Any] = {"updated": end, "region": region, "account": account}
    if run.platform == "Lambda" and run.shift is not None:
        return [_lambda_target(deployment, run, outcome, start, end, common)]
    return _server_targets(deployment, run, outcome, start, end, common)


def _point_alias(shift: LambdaShift, account: str, region: str) -> None:
    """CodeDeploy's last step of a Lambda deployment: the alias serves the target version."""
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[account][region]
    try:
        alias = backend.get_alias(shift.alias, _function_name(shift.function))
    except Exception:
        LOG.warning("alias %s of %s not found", shift.alias, shift.function)
        return
    alias.function_version = shift.target_version
    alias.routing_config = None  # type: ignore[assignment]  # moto: "no routing" is None


def _lambda_target(
    deployment: Any,
    run: PlatformRun,
    outcome: str,
    start: datetime,
    end: datetime,
    common: dict[str, Any],
) -> dict[str, Any]:
    assert run.shift is not None
    failed = next((h for h in run.hooks if h.status != "Succeeded"), None)
    failure = (
        HookFailure(
            event=failed.event,
            script_name=failed.function,
            message=f"The {failed.event} hook function {failed.function} reported {failed.status}",
            log_tail=failed.log_tail,
            error_code="ScriptFailed",
        )
        if failed is not None and outcome == "Failed"
        else None
    )
    events = lifecycle_events(LAMBDA_EVENTS, start, end, outcome=outcome, failure=failure)
    weight = {"Succeeded": 1.0, "Stopped": run.traffic_weight_at_stop}.get(outcome, 0.0)
    status = {"Failed": "Failed", "Stopped": "Skipped"}.get(outcome, outcome)
    return lambda_target(
        deployment.deployment_id,
        _function_name(run.shift.function),
        events,
        status=status,
        alias=run.shift.alias,
        current_version=run.shift.current_version,
        target_version=run.shift.target_version,
        target_version_weight=weight,
        **common,
    )


def _server_targets(
    deployment: Any,
    run: PlatformRun,
    outcome: str,
    start: datetime,
    end: datetime,
    common: dict[str, Any],
) -> list[dict[str, Any]]:
    failure = None
    if run.fault is not None:
        script = run.scripts.get(run.fault.event) or Script(f"({run.fault.event} script)", "root")
        failure = HookFailure(
            event=run.fault.event,
            script_name=script.location,
            # The agent's wording (user guide, "Troubleshoot EC2/On-Premises deployment issues").
            message=f"Script at specified location: {script.location} run as user "
            f"{script.runas} failed with exit code {run.fault.exit_code}",
            log_tail=run.fault.output[-HOOK_LOG_TAIL_BYTES:],
        )
    found: list[dict[str, Any]] = []
    events: list[dict[str, Any]]
    for index, instance in enumerate(run.instances):
        in_first_batch = index < run.batch_size
        if outcome == "Failed" and failure is not None and not in_first_batch:
            events = [{"lifecycleEventName": name, "status": "Skipped"} for name in SERVER_EVENTS]
            status = "Skipped"
        else:
            events = lifecycle_events(SERVER_EVENTS, start, end, outcome=outcome, failure=failure)
            status = {"Failed": "Failed", "Stopped": "Skipped"}.get(outcome, outcome)
            for event in events:
                ran = run.scripts.get(event["lifecycleEventName"])
                if ran and event.get("diagnostics") == SUCCESS_DIAGNOSTICS:
                    event["diagnostics"] = {**SUCCESS_DIAGNOSTICS, "scriptName": ran.location}
        found.append(
            instance_target(deployment.deployment_id, instance, events, status=status, **common)
        )
    return found


# --------------------------------------------------------------------------------------------
# Installing the patches (the emulator's undoable setter)
# --------------------------------------------------------------------------------------------


def install(
    set_attr: Callable[[Any, str, Any], None], invoke: Callable[[Any, Any], Any] | None = None
) -> None:
    """Patch moto's CodeDeploy for the platforms through ``set_attr``, the emulator's undoable
    setattr, and forget what an earlier emulator ran. ``invoke(function, event)`` runs a
    Lambda function (hooks) and returns the emulator's Invocation."""
    global _invoke  # noqa: PLW0603 - one emulator at a time, like the patches
    _invoke = invoke
    response = codedeploy_responses.CodeDeployResponse
    set_attr(
        response,
        "put_lifecycle_event_hook_execution_status",
        _put_lifecycle_event_hook_execution_status,
    )
    set_attr(response, "create_deployment", _create_deployment_response(response.create_deployment))
    set_attr(
        codedeploy_responses,
        "_deployment_info",
        _deployment_info(codedeploy_responses._deployment_info),
    )
    set_attr(
        codedeploy_responses,
        "_deployment_group_info",
        _deployment_group_info(codedeploy_responses._deployment_group_info),
    )
    reset()


def reset() -> None:
    with _lock:
        _runs.clear()
        _hook_reports.clear()
        _faults.clear()
        _modes.clear()
