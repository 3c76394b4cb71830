"""What a caller reads, per compute platform, through the handler: the result's
``computePlatform``, the failure text naming targets and hooks as each platform does (a Lambda
alias shift and its hook function, an ECS replacement task set, an EC2 instance and its script),
and the next step in Terraform's terms (lifecycle scope from the input's terraform key)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from shared.errors import DeploymentFailed, DeploymentWaitTimeout
from shared.text import MAX_MESSAGE_BYTES, printed_size
from tests.support import moto_codedeploy
from tests.support.deployment_targets import (
    LAMBDA_HOOK_FAILURE,
    SERVER_HOOK_FAILURE,
)
from tests.support.harness import APP, GROUP, Harness, appspec_request
from tests.support.provision import SERVICE_ROLE_ARN
from tests.support.simulator import FAIL_MARKER, plan_from_description, succeed_after

LAMBDA_APP, LAMBDA_GROUP = "orders-fn", "orders-fn-group"
SERVER_APP, SERVER_GROUP = "orders-web", "orders-web-fleet"


def _in_place_group(codedeploy: Any, application: str, group: str, platform: str) -> None:
    codedeploy.create_application(applicationName=application, computePlatform=platform)
    codedeploy.create_deployment_group(
        applicationName=application,
        deploymentGroupName=group,
        serviceRoleArn=SERVICE_ROLE_ARN,
    )


def _lambda_request(**overrides: Any) -> dict[str, Any]:
    return appspec_request(
        applicationName=LAMBDA_APP, deploymentGroupName=LAMBDA_GROUP, **overrides
    )


def _server_request(**overrides: Any) -> dict[str, Any]:
    revision = {
        "revisionType": "S3",
        "s3Location": {"bucket": "bundles", "key": "web.zip", "bundleType": "zip"},
    }
    return appspec_request(
        applicationName=SERVER_APP, deploymentGroupName=SERVER_GROUP, revision=revision, **overrides
    )


@pytest.fixture
def harness(make_harness: Callable[..., Harness], codedeploy: Any) -> Harness:
    _in_place_group(codedeploy, LAMBDA_APP, LAMBDA_GROUP, "Lambda")
    _in_place_group(codedeploy, SERVER_APP, SERVER_GROUP, "Server")
    return make_harness(planner=lambda d: plan_from_description(d, 30))


def _failure(harness: Harness, request: dict[str, Any]) -> str:
    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(request)
    message = str(raised.value)
    assert printed_size(message) <= MAX_MESSAGE_BYTES
    return message


def test_a_lambda_failure_names_the_alias_shift_and_the_hook_function_first(
    harness: Harness,
) -> None:
    message = _failure(harness, _lambda_request(description=FAIL_MARKER))

    sections = message.split(" | ")
    assert sections[0].endswith(f"Failed ({LAMBDA_APP}/{LAMBDA_GROUP}, Lambda platform)")
    # The hook leads, before CodeDeploy's generic summary.
    assert sections[1] == (
        f"Lambda function {LAMBDA_APP}-function alias live version 1 -> 2: "
        f"BeforeAllowTraffic Failed, hook function {LAMBDA_HOOK_FAILURE.script_name}: "
        f"ScriptFailed: {LAMBDA_HOOK_FAILURE.message}; log tail: invoking the new version with "
        "a sample event // Runtime.ImportModuleError: Unable to import module 'app': No module "
        "named 'requests'"
    )
    assert re.match(r"[A-Z_]+: ", sections[2]), sections[2]


def test_an_ec2_failure_names_the_instance_and_its_script_first(harness: Harness) -> None:
    message = _failure(harness, _server_request(description=FAIL_MARKER))

    sections = message.split(" | ")
    assert sections[0].endswith(f"Failed ({SERVER_APP}/{SERVER_GROUP}, Server platform)")
    assert re.match(
        r"instance i-0[0-9a-f]{16}: ApplicationStart Failed, script "
        rf"{re.escape(SERVER_HOOK_FAILURE.script_name)}: ScriptFailed: "
        rf"{re.escape(SERVER_HOOK_FAILURE.message)}; log tail \(cut to its last 10 of 12 lines\)",
        sections[1],
    ), sections[1]
    assert "EADDRINUSE" in sections[1]


def test_an_ecs_failure_names_the_replacement_task_set_and_the_hook_function(
    harness: Harness,
) -> None:
    message = _failure(harness, appspec_request(description=FAIL_MARKER))

    assert re.search(
        r"\| ECS service cluster:service, replacement task set ecs-svc/\d+: "
        r"AfterAllowTestTraffic Failed, hook function CodeDeployHook_AfterAllowTestTraffic: ",
        message,
    ), message
    assert f"({APP}/{GROUP}, ECS platform)" in message


@pytest.mark.parametrize(
    ("request_for", "platform", "target"),
    [
        (appspec_request, "ECS", r"ECS service cluster:service, replacement task set ecs-svc/\d+"),
        (_lambda_request, "Lambda", rf"Lambda function {LAMBDA_APP}-function alias live "),
        (_server_request, "Server", r"instance i-0[0-9a-f]{16}"),
    ],
)
def test_a_result_says_the_compute_platform_and_names_the_target_as_it_does(
    harness: Harness, request_for: Callable[..., dict[str, Any]], platform: str, target: str
) -> None:
    result = harness.invoke(request_for())

    assert result["status"] == "Succeeded"
    assert result["computePlatform"] == platform
    assert re.fullmatch(target + r".*", result["lifecycle"]["target"]), result["lifecycle"]
    if platform == "Lambda":
        assert result["lifecycle"]["target"].endswith("version 1 -> 2")
    if platform == "Server":  # in place: every instance is labelled Blue, which says nothing
        assert "Blue" not in result["lifecycle"]["target"]


def test_a_failure_under_create_only_says_apply_again(harness: Harness) -> None:
    message = _failure(harness, _lambda_request(description=FAIL_MARKER))

    assert message.split(" | ")[-2].startswith(
        "Next: fix the cause and run terraform apply again (a failed aws_lambda_invocation is "
        "not saved"
    )
    assert "-replace its deploy link" in message


def test_a_failed_crud_update_says_replace(harness: Harness) -> None:
    previous = _lambda_request()
    request = _lambda_request(
        description=FAIL_MARKER, tf={"action": "update", "prev_input": previous}
    )

    message = _failure(harness, request)

    assert message.split(" | ")[-2].startswith(
        "Next: fix the cause, then apply with -replace of this aws_lambda_invocation"
    )


def test_a_failed_crud_create_says_apply_again(harness: Harness) -> None:
    request = _lambda_request(description=FAIL_MARKER, tf={"action": "create", "prev_input": None})

    message = _failure(harness, request)

    assert "Next: fix the cause and run terraform apply again" in message


@pytest.mark.parametrize(("timeout", "advises_raising"), [(900, False), (120, True)])
def test_a_timeout_advises_raising_the_timeout_only_below_lambdas_maximum(
    make_harness: Callable[..., Harness], timeout: int, advises_raising: bool
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(5000, start=10))

    with pytest.raises(DeploymentWaitTimeout) as raised:
        harness.invoke(appspec_request(), timeout=timeout)

    message = str(raised.value)
    assert "use the deployment chain module" in message
    assert ("raise the function's timeout" in message) is advises_raising
    if advises_raising:
        assert f"({timeout}s now; Lambda allows 900s)" in message


def test_a_timeout_with_the_status_table_says_the_identical_request_attaches(
    make_harness: Callable[..., Harness], status_table: str
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(5000, start=10))
    with pytest.raises(DeploymentWaitTimeout) as raised:
        harness.invoke(appspec_request(), timeout=900)

    with pytest.raises(DeploymentWaitTimeout) as again:
        harness.invoke(appspec_request(), timeout=60)

    assert "run terraform apply again: the identical request attaches" in str(raised.value)
    assert str(again.value).startswith(str(raised.value).split(" (last status")[0])
    assert len(moto_codedeploy.deployments()) == 1


def test_a_timeout_without_the_status_table_does_not_promise_that_a_retry_attaches(
    make_harness: Callable[..., Harness],
) -> None:
    """No table, no idempotency record: the same request sent again creates (on AWS it meets
    the running deployment as the group's active one), so the advice is to attach by id."""
    harness = make_harness(planner=lambda _d: succeed_after(5000, start=10))
    with pytest.raises(DeploymentWaitTimeout) as raised:
        harness.invoke(appspec_request(), timeout=900)
    message = str(raised.value)
    deployment_id = message.split("deployment ")[1].split(" ", maxsplit=1)[0]

    with pytest.raises(DeploymentWaitTimeout):
        harness.invoke(appspec_request(), timeout=60)
    attached = harness.invoke({"deploymentId": deployment_id, "wait": False})

    assert len(moto_codedeploy.deployments()) == 2  # the retry did not attach
    assert "the identical request attaches" not in message
    assert f'invoke the trigger with {{"deploymentId": "{deployment_id}"}}' in message
    assert "does not attach to it without the status table (STATUS_TABLE_NAME)" in message
    assert attached["deploymentId"] == deployment_id
