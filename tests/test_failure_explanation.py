"""The trigger explains a failure (targets, hooks, log tails, rollback), times a success,
and never lets diagnostics hide the failure or leak log tails into its logs."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from shared.adapters.diagnostics import DiagnosticsCollector
from shared.errors import DeploymentFailed, DeploymentWaitTimeout, InvalidInput
from shared.trigger.dispatch import TriggerService
from tests.support import moto_codedeploy
from tests.support.deployment_targets import ECS_EVENTS
from tests.support.harness import REGION, Harness, appspec_request
from tests.support.lambda_context import FakeLambdaContext
from tests.support.simulator import (
    FAIL_MARKER,
    ROLLBACK_FAILS_MARKER,
    fail_after,
    plan_from_description,
    succeed_after,
)

ROLLBACK_ON_FAILURE = {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}


def _failing(description: str = FAIL_MARKER, **overrides: Any) -> dict[str, Any]:
    return appspec_request(
        description=description, autoRollbackConfiguration=ROLLBACK_ON_FAILURE, **overrides
    )


def _harness(make_harness: Callable[..., Harness], seconds: float = 30) -> Harness:
    return make_harness(planner=lambda d: plan_from_description(d, seconds), create_rollbacks=True)


def _rollback_of(deployment_id: str) -> Any:
    found = moto_codedeploy.deployments()
    return found[found[deployment_id].rollback_info["rollbackDeploymentId"]]


def _failed_id() -> str:
    return next(d for d, x in moto_codedeploy.deployments().items() if x.creator == "user")


def test_a_failure_names_the_hook_its_log_and_waits_for_the_rollback(
    make_harness: Callable[..., Harness], log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    harness = _harness(make_harness)

    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(_failing())

    message = str(raised.value)
    failed = _failed_id()
    rollback = _rollback_of(failed)
    assert rollback.creator == "codeDeployRollback" and rollback.status == "Succeeded"
    assert message.startswith(f"CodeDeploy deployment {failed} Failed (web-app/web-group) | ")
    assert "HEALTH_CONSTRAINTS: The overall deployment failed" in message
    assert "AfterAllowTestTraffic Failed, hook CodeDeployHook_AfterAllowTestTraffic" in message
    assert "smoke test FAILED: 1 of 2 checks failed" in message
    # The replacement task set's stopped task, from ECS (moto's, seeded by the simulator).
    assert "ECS cluster/service: stopped task " in message
    assert (
        ": Essential container in task exited (container app exit code 1: Error: connect "
        "ECONNREFUSED" in message
    )
    assert "latest service events: (service service, taskSet ecs-svc/" in message
    assert (
        f"Rolled back by deployment {rollback.deployment_id}: Succeeded, the previous version "
        "is serving again" in message
    )
    assert "\n" not in message and len(json.dumps(message)) <= 4000
    # The log tail is the error's business only: no log line of the function holds it.
    logged = json.dumps(log_lines())
    assert "orders_v2" not in logged and "smoke test" not in logged
    assert '"failingTargets": 1' in logged


def test_wait_for_rollback_false_answers_without_waiting(
    make_harness: Callable[..., Harness],
) -> None:
    harness = _harness(make_harness)

    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(_failing(waitForRollback=False))

    rollback = _rollback_of(_failed_id())
    assert rollback.status not in ("Succeeded", "Failed", "Stopped")
    assert str(raised.value).split(" | ")[-2] == (
        f"Rolled back by deployment {rollback.deployment_id}"
    )


def test_no_rollback_without_auto_rollback(make_harness: Callable[..., Harness]) -> None:
    harness = _harness(make_harness)

    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(appspec_request(description=FAIL_MARKER))

    assert len(moto_codedeploy.deployments()) == 1
    assert "Rolled back" not in str(raised.value)


def test_a_failed_rollback_is_said(make_harness: Callable[..., Harness]) -> None:
    harness = _harness(make_harness)

    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(_failing(f"{FAIL_MARKER} {ROLLBACK_FAILS_MARKER}"))

    rollback = _rollback_of(_failed_id())
    assert rollback.status == "Failed"
    assert (
        f"Rolled back by deployment {rollback.deployment_id}: Failed, the previous version may "
        "NOT be serving" in str(raised.value)
    )


def test_a_rollback_that_outlives_the_function_is_said(
    make_harness: Callable[..., Harness],
) -> None:
    # 100 s to fail, 100 s more to roll back, 170 s of function time (30 s margin).
    harness = _harness(make_harness, seconds=100)

    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(_failing(), timeout=170)

    rollback = _rollback_of(_failed_id())
    assert (
        f"Rolled back by deployment {rollback.deployment_id}: still InProgress when the "
        "function had to answer (deadline reached)" in str(raised.value)
    )


def test_a_success_carries_its_lifecycle_timeline(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(80))

    result = harness.invoke(appspec_request())

    lifecycle = result["lifecycle"]
    assert lifecycle["targetCount"] == 1
    assert [e["name"] for e in lifecycle["events"]] == list(ECS_EVENTS)
    events = lifecycle["events"]
    # One after the other, each with its duration, the last one ending with the deployment.
    for before, after in itertools.pairwise(events):
        assert before["endedAt"] == after["startedAt"]
    assert all(e["durationSeconds"] > 0 for e in events)
    assert events[-1]["endedAt"] == result["completedAt"]
    json.dumps(result)


def test_diagnostics_access_denied_never_hides_the_failure(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(planner=lambda _d: fail_after(30))
    denied = boto3.client("codedeploy", region_name=REGION)
    stubber = Stubber(denied)
    stubber.add_client_error(
        "list_deployment_targets",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: codedeploy:ListDeploymentTargets",
    )
    stubber.activate()
    harness.service = TriggerService(
        codedeploy=harness.gateway,
        diagnostics=lambda time_left: DiagnosticsCollector(denied, time_left),
        sleep=harness.sleep,
    )

    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(appspec_request(waitForRollback=False))

    message = str(raised.value)
    assert "HEALTH_CONSTRAINTS: The overall deployment failed" in message
    assert (
        "diagnostics unavailable: ListDeploymentTargets failed (AccessDeniedException)" in message
    )


def test_a_timeout_says_where_the_deployment_stands(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(1000, start=10))

    with pytest.raises(DeploymentWaitTimeout) as raised:
        harness.invoke(appspec_request(), timeout=120)

    assert "Progress: ECS service cluster:service at BeforeInstall (InProgress since" in str(
        raised.value
    )


def test_wait_for_rollback_must_be_a_boolean(moto: None) -> None:
    service = TriggerService()

    with pytest.raises(InvalidInput, match="waitForRollback"):
        service.handle(appspec_request(waitForRollback="yes"), FakeLambdaContext())
