"""The emulator's CodeDeploy answers against the botocore model: no invented field, no invented
enum value, no lifecycle event a platform does not have.

Every canned response the simulated CodeDeploy builds (tests/support/deployment_targets.py,
tests/e2e/platforms.py, tests/support/moto_codedeploy.py, tests/e2e/emulator.py) is checked
twice: by botocore's Stubber, whose ``add_response`` validates a response against the
operation's output shape (unknown keys, types), and by :func:`enum_problems`, a walk over the
same shape for what the Stubber leaves out (enum values). Over HTTP moto serializes with the
model and silently drops unknown keys, so an invented field would never show there: it is
caught here, where it is made.

Lifecycle event names per compute platform: CodeDeploy user guide, "AppSpec 'hooks' section"
(https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html):
ECS BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic
with the unscriptable Install, AllowTestTraffic, AllowTraffic between them ("What happens
during an Amazon ECS deployment"); Lambda BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic;
EC2/on-premises in-place without a load balancer ApplicationStop, DownloadBundle, BeforeInstall,
Install, AfterInstall, ApplicationStart, ValidateService.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.stub import Stubber

from tests.e2e import platforms
from tests.support import moto_codedeploy
from tests.support.deployment_targets import (
    ECS_EVENTS,
    LAMBDA_EVENTS,
    SERVER_EVENTS,
    targets_for,
)
from tests.support.harness import REGION
from tests.support.provision import SERVICE_ROLE_ARN

DOCUMENTED_EVENTS = {
    "ECS": (
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "AllowTestTraffic",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ),
    "Lambda": ("BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"),
    "Server": (
        "ApplicationStop",
        "DownloadBundle",
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "ApplicationStart",
        "ValidateService",
    ),
}
OUTCOMES = ("InProgress", "Succeeded", "Failed", "Stopped")
START = datetime(2026, 5, 9, 10, 0, tzinfo=UTC)
END = START + timedelta(seconds=90)


def _strip_none(value: Any) -> Any:
    """What goes over the wire: moto's serializer leaves out members whose value is None."""
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def enum_problems(value: Any, shape: Shape, path: str = "") -> list[str]:
    """Enum values and members outside ``shape``, walking the whole value."""
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} where a structure is expected"]
        found: list[str] = []
        for key, item in value.items():
            if key not in shape.members:
                found.append(f"{path}.{key}: not a member of {shape.name}")
                continue
            found.extend(enum_problems(item, shape.members[key], f"{path}.{key}"))
        return found
    if isinstance(shape, ListShape):
        return [
            p for i, v in enumerate(value) for p in enum_problems(v, shape.member, f"{path}[{i}]")
        ]
    if isinstance(shape, MapShape):
        return [p for k, v in value.items() for p in enum_problems(v, shape.value, f"{path}.{k}")]
    allowed = getattr(shape, "enum", None)  # StringShape only
    if allowed and value not in allowed:
        return [f"{path}: {value!r} is not one of {shape.name} {allowed}"]
    return []


@pytest.fixture
def codedeploy() -> Any:
    return boto3.client(
        "codedeploy",
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _method(client: Any, operation: str) -> str:
    return str(next(m for m, op in client.meta.method_to_api_mapping.items() if op == operation))


def validate(client: Any, operation: str, response: dict[str, Any]) -> None:
    wire = _strip_none(response)
    model = client.meta.service_model.operation_model(operation)
    problems = enum_problems(wire, model.output_shape, operation)
    assert problems == [], problems
    with Stubber(client) as stubber:
        stubber.add_response(_method(client, operation), wire)


# --- the deployments the targets are built for ----------------------------------------------


class _App:
    def __init__(self, platform: str) -> None:
        self.compute_platform = platform


class _Group:
    def __init__(self) -> None:
        self.ecs_services = [{"clusterName": "web", "serviceName": "svc"}]


class _Deployment:
    """The moto DeploymentInfo attributes targets_for reads."""

    def __init__(self, platform: str, description: str = "") -> None:
        self.application = _App(platform)
        self.deployment_group = _Group()
        self.deployment_id = f"d-{platform.upper()[:3]}000001"
        self.application_name = "web"
        self.description = description


def _documented(platform: str, targets: list[dict[str, Any]]) -> None:
    for target in targets:
        body = next(v for k, v in target.items() if k.endswith("Target") and k[0].islower())
        names = [e["lifecycleEventName"] for e in body["lifecycleEvents"]]
        assert names, target
        assert set(names) <= set(DOCUMENTED_EVENTS[platform]), (platform, names)


def test_each_platforms_event_names_are_the_documented_ones() -> None:
    assert DOCUMENTED_EVENTS["ECS"] == ECS_EVENTS
    assert DOCUMENTED_EVENTS["Lambda"] == LAMBDA_EVENTS
    assert DOCUMENTED_EVENTS["Server"] == SERVER_EVENTS


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("platform", ["ECS", "Lambda", "Server"])
def test_simulated_targets_fit_the_model(codedeploy: Any, platform: str, outcome: str) -> None:
    targets = targets_for(
        _Deployment(platform, "simulate:instances=3"), outcome, start=START, end=END
    )
    _documented(platform, targets)
    validate(codedeploy, "BatchGetDeploymentTargets", {"deploymentTargets": targets})


def _lambda_run(hook_status: str) -> platforms.PlatformRun:
    shift = platforms.LambdaShift(
        "fn", "live", "3", "4", {"BeforeAllowTraffic": "CodeDeployHook_x"}
    )
    run = platforms.PlatformRun("Lambda", shift=shift, traffic_weight_at_stop=0.1)
    run.hooks.append(
        platforms.HookRun("BeforeAllowTraffic", "CodeDeployHook_x", hook_status, "fn:4 failed\n")
    )
    return run


def _server_run(fault: bool) -> platforms.PlatformRun:
    return platforms.PlatformRun(
        "Server",
        instances=[f"i-0{n:016x}" for n in range(4)],
        scripts={"ApplicationStart": platforms.Script("scripts/start.sh", "root")},
        fault=platforms.ScriptFault("web", "ApplicationStart", 1, "boom") if fault else None,
        batch_size=2,
    )


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("platform", ["Lambda", "Server"])
def test_platform_targets_fit_the_model(codedeploy: Any, platform: str, outcome: str) -> None:
    failing = outcome == "Failed"
    if platform == "Lambda":
        run = _lambda_run("Failed" if failing else "Succeeded")
    else:
        run = _server_run(fault=failing)
    targets = platforms._platform_targets(
        _Deployment(platform), run, outcome, START, END, REGION, moto_codedeploy.ACCOUNT_ID
    )
    _documented(platform, targets)
    validate(codedeploy, "BatchGetDeploymentTargets", {"deploymentTargets": targets})
    if failing:
        bodies = [t.get("lambdaTarget") or t["instanceTarget"] for t in targets]
        failed = [e for b in bodies for e in b["lifecycleEvents"] if e["status"] == "Failed"]
        assert failed and all(e["diagnostics"]["scriptName"] for e in failed), failed


@pytest.fixture
def backend(moto: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    platforms.install(
        lambda owner, name, value: monkeypatch.setattr(owner, name, value, raising=False)
    )
    yield moto_codedeploy.backend(REGION)
    platforms.reset()


def _moto_deployment(platform: str, **extra: Any) -> Any:
    client = boto3.client("codedeploy", region_name=REGION)
    client.create_application(applicationName="web", computePlatform=platform)
    client.create_deployment_group(
        applicationName="web", deploymentGroupName="g", serviceRoleArn=SERVICE_ROLE_ARN
    )
    revision = {
        "revisionType": "S3",
        "s3Location": {"bucket": "bundles", "key": "b.zip", "bundleType": "zip"},
    }
    deployment_id = client.create_deployment(
        applicationName="web", deploymentGroupName="g", revision=revision, **extra
    )["deploymentId"]
    return client, deployment_id


def test_get_deployment_fits_the_model_with_mode_options_error_and_rollback(
    backend: Any,
) -> None:
    from moto.codedeploy import responses

    client, deployment_id = _moto_deployment(
        "Server",
        deploymentMode="STANDARD",
        ec2DeploymentOptions={"autoScalingGroupProcessesToSuspend": ["AZRebalance"]},
    )
    moto_codedeploy.set_status(
        deployment_id,
        "Failed",
        error={"code": "HEALTH_CONSTRAINTS", "message": "m"},
        rollback={"rollbackDeploymentId": "d-ROLLBACK1", "rollbackMessage": "r"},
        region=REGION,
    )
    info = responses._deployment_info(backend.deployments[deployment_id])
    assert info["deploymentMode"] == "STANDARD"
    assert info["ec2DeploymentOptions"] == {"autoScalingGroupProcessesToSuspend": ["AZRebalance"]}
    validate(client, "GetDeployment", {"deploymentInfo": info})
    # Over the wire too (moto serializes with the model).
    got = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert got["deploymentMode"] == "STANDARD" and got["computePlatform"] == "Server"


def test_patched_operations_answer_in_their_output_shapes(backend: Any) -> None:
    client, deployment_id = _moto_deployment("Server")
    moto_codedeploy.set_status(deployment_id, "InProgress", region=REGION)
    targets = targets_for(backend.deployments[deployment_id], "InProgress", start=START, end=END)
    moto_codedeploy.set_targets(deployment_id, targets, region=REGION)
    listed = client.list_deployment_targets(deploymentId=deployment_id)
    validate(
        client,
        "ListDeploymentTargets",
        {k: v for k, v in listed.items() if k != "ResponseMetadata"},
    )
    reported = client.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId="e-1", status="Failed"
    )
    assert reported["lifecycleEventHookExecutionId"] == "e-1"
    validate(
        client, "PutLifecycleEventHookExecutionStatus", {"lifecycleEventHookExecutionId": "e-1"}
    )
    # The emulator's own canned answers (tests/e2e/emulator.py).
    validate(
        client, "StopDeployment", {"status": "Succeeded", "statusMessage": "Deployment stopped"}
    )
    validate(client, "DeleteDeploymentGroup", {"hooksNotCleanedUp": []})


def test_an_invented_field_is_caught(codedeploy: Any) -> None:
    """The checks can fail: a member the model does not have, an enum value it does not list."""
    targets = targets_for(_Deployment("Lambda"), "Failed", start=START, end=END)
    targets[0]["lambdaTarget"]["lambdaFunctionInfo"]["trafficShare"] = 0.5
    with pytest.raises(Exception, match="trafficShare"):
        validate(codedeploy, "BatchGetDeploymentTargets", {"deploymentTargets": targets})
    targets = targets_for(_Deployment("Lambda"), "Failed", start=START, end=END)
    targets[0]["lambdaTarget"]["lifecycleEvents"][0]["status"] = "Stopped"
    with pytest.raises(AssertionError, match="LifecycleEventStatus"):
        validate(codedeploy, "BatchGetDeploymentTargets", {"deploymentTargets": targets})
