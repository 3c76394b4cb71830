"""The simulated CodeDeploy's blue/green waits, ContinueDeployment, StopDeployment and
deployment configurations: what the trigger's tests rely on, checked against the API
reference's wording (tests/support/simulator.py, moto_codedeploy.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support.harness import APP, REGION
from tests.support.provision import blue_green_waits, create_blue_green_group
from tests.support.simulator import SimulatedCodeDeploy, plan_from_description

GROUP = "waits"
REVISION = {
    "revisionType": "AppSpecContent",
    "appSpecContent": {"content": '{"version": 0.0, "Resources": []}'},
}


@pytest.fixture
def client(moto: None) -> Any:
    return boto3.client("codedeploy", region_name=REGION)


@pytest.fixture
def world(
    client: Any, frozen: Any
) -> Callable[..., tuple[SimulatedCodeDeploy, list[dict[str, Any]], Callable[[float], None]]]:
    """A group with the given blue/green configuration, a simulator whose deployments take
    10 s (InProgress at 1 s; markers as ever), the events it sends, and a way to let time pass."""

    def build(
        blue_green: dict[str, Any] | None = None, **group: Any
    ) -> tuple[SimulatedCodeDeploy, list[dict[str, Any]], Callable[[float], None]]:
        create_blue_green_group(client, APP, GROUP, blue_green=blue_green, **group)
        events: list[dict[str, Any]] = []
        simulator = SimulatedCodeDeploy(
            clock=lambda: time.monotonic(),
            deliver=events.append,
            planner=lambda d: plan_from_description(d, 10.0),
        )

        def wait(seconds: float) -> None:
            frozen.tick(timedelta(seconds=seconds))
            simulator.advance()

        return simulator, events, wait

    return build


def create(client: Any, group: str = GROUP, **extra: Any) -> str:
    found: str = client.create_deployment(
        applicationName=APP, deploymentGroupName=group, revision=REVISION, **extra
    )["deploymentId"]
    return found


def info(client: Any, deployment_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    return found


def states(events: list[dict[str, Any]]) -> list[str]:
    return [e["detail"]["state"] for e in events]


def error_code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def test_a_stop_deployment_ready_option_holds_ready_until_continue(client: Any, world: Any) -> None:
    simulator, events, wait = world(blue_green_waits(ready_minutes=60))
    deployment_id = create(client)
    simulator.advance()

    wait(30 * 60)  # long past the plan's own end (10 s)
    assert info(client, deployment_id)["status"] == "Ready"

    client.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    assert info(client, deployment_id)["status"] == "InProgress"
    wait(10)
    assert info(client, deployment_id)["status"] == "Succeeded"
    assert states(events) == ["START", "READY", "SUCCESS"]


def test_a_ready_wait_that_runs_out_with_stop_deployment_stops_and_rolls_back(
    client: Any, world: Any
) -> None:
    simulator, events, wait = world(blue_green_waits(ready_minutes=60))
    # The deployment's own configuration rolls back a stopped deployment.
    deployment_id = create(
        client,
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_STOP_ON_REQUEST"]},
    )
    simulator.advance()

    wait(59 * 60)
    assert info(client, deployment_id)["status"] == "Ready"
    wait(2 * 60)
    stopped = info(client, deployment_id)
    assert stopped["status"] == "Stopped"
    assert stopped["errorInformation"]["code"] == "TIMEOUT"
    rollback_id = stopped["rollbackInfo"]["rollbackDeploymentId"]
    assert info(client, rollback_id)["creator"] == "codeDeployRollback"
    assert states(events)[:3] == ["START", "READY", "STOP"]


def test_continue_deployment_option_without_a_wait_never_holds_ready(
    client: Any, world: Any
) -> None:
    simulator, events, wait = world(blue_green_waits())
    create(client)
    simulator.advance()
    wait(10)
    assert states(events) == ["START", "SUCCESS"]


def test_continue_deployment_option_with_a_wait_goes_on_by_itself(client: Any, world: Any) -> None:
    simulator, events, wait = world(
        blue_green_waits(ready_minutes=5, ready_action="CONTINUE_DEPLOYMENT")
    )
    deployment_id = create(client)
    simulator.advance()
    wait(4 * 60)
    assert info(client, deployment_id)["status"] == "Ready"
    wait(2 * 60)
    assert info(client, deployment_id)["status"] == "Succeeded"
    assert states(events) == ["START", "READY", "SUCCESS"]


def test_the_termination_wait_is_in_progress_with_the_flag_until_its_minutes_pass(
    client: Any, world: Any
) -> None:
    simulator, events, wait = world(blue_green_waits(termination_minutes=60))
    deployment_id = create(client)
    simulator.advance()

    wait(5)
    assert info(client, deployment_id)["instanceTerminationWaitTimeStarted"] is False
    wait(10)
    waiting = info(client, deployment_id)
    assert (waiting["status"], waiting["instanceTerminationWaitTimeStarted"]) == (
        "InProgress",
        True,
    )
    (batched,) = client.batch_get_deployments(deploymentIds=[deployment_id])["deploymentsInfo"]
    assert batched["instanceTerminationWaitTimeStarted"] is True
    assert states(events) == ["START"]  # no event says that traffic has moved

    wait(59 * 60)  # 3555 s: the wait began at 10 s and lasts 3600 s
    assert info(client, deployment_id)["status"] == "InProgress"
    wait(60)
    assert info(client, deployment_id)["status"] == "Succeeded"
    assert states(events) == ["START", "SUCCESS"]


def test_continue_termination_wait_ends_it_now(client: Any, world: Any) -> None:
    simulator, events, wait = world(blue_green_waits(ready_minutes=60, termination_minutes=60))
    deployment_id = create(client)
    simulator.advance()
    wait(20)
    with pytest.raises(ClientError) as early:
        client.continue_deployment(
            deploymentId=deployment_id, deploymentWaitType="TERMINATION_WAIT"
        )
    assert error_code(early) == "DeploymentIsNotInReadyStateException"

    client.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    wait(10)
    assert info(client, deployment_id)["instanceTerminationWaitTimeStarted"] is True
    client.continue_deployment(deploymentId=deployment_id, deploymentWaitType="TERMINATION_WAIT")
    assert info(client, deployment_id)["status"] == "Succeeded"
    assert states(events) == ["START", "READY", "SUCCESS"]


def test_continue_deployment_errors_name_the_wrong_state(client: Any, world: Any) -> None:
    simulator, _events, wait = world(blue_green_waits(ready_minutes=60))
    deployment_id = create(client)
    simulator.advance()
    wait(2)

    with pytest.raises(ClientError) as not_ready:
        client.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    assert error_code(not_ready) == "DeploymentIsNotInReadyStateException"

    client.stop_deployment(deploymentId=deployment_id)
    with pytest.raises(ClientError) as completed:
        client.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    assert error_code(completed) == "DeploymentAlreadyCompletedException"

    with pytest.raises(ClientError) as missing:
        client.continue_deployment(deploymentId="d-NOSUCHONE", deploymentWaitType="READY_WAIT")
    assert error_code(missing) == "DeploymentDoesNotExistException"


def test_continue_deployment_is_unsupported_for_an_in_place_deployment(
    client: Any, world: Any
) -> None:
    simulator, _events, wait = world()
    client.create_application(applicationName="servers", computePlatform="Server")
    client.create_deployment_group(
        applicationName="servers",
        deploymentGroupName="fleet",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentStyle={
            "deploymentType": "IN_PLACE",
            "deploymentOption": "WITHOUT_TRAFFIC_CONTROL",
        },
    )
    deployment_id = client.create_deployment(
        applicationName="servers", deploymentGroupName="fleet", revision=REVISION
    )["deploymentId"]
    simulator.advance()
    wait(2)
    with pytest.raises(ClientError) as raised:
        client.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    assert error_code(raised) == "UnsupportedActionForDeploymentTypeException"


def test_a_ready_marker_without_group_waits_keeps_its_timing_and_can_be_continued(
    client: Any, world: Any
) -> None:
    simulator, events, wait = world()
    marked = create(client, description="simulate:ready")
    simulator.advance()
    wait(6)
    assert info(client, marked)["status"] == "Ready"
    wait(4)
    assert info(client, marked)["status"] == "Succeeded"

    continued = create(client, description="simulate:ready")
    wait(6)
    client.continue_deployment(deploymentId=continued, deploymentWaitType="READY_WAIT")
    assert info(client, continued)["status"] == "Succeeded"
    assert states(events) == ["START", "READY", "SUCCESS"] * 2


def test_stop_deployment_with_rollback_creates_the_rollback_deployment(
    client: Any, world: Any
) -> None:
    simulator, _events, wait = world(blue_green_waits(ready_minutes=60))
    kept = create(client)
    simulator.advance()
    wait(20)
    client.stop_deployment(deploymentId=kept, autoRollbackEnabled=False)
    assert info(client, kept)["status"] == "Stopped"
    assert info(client, kept)["errorInformation"]["code"] == "MANUAL_STOP"
    assert not info(client, kept)["rollbackInfo"]

    rolled = create(client)
    wait(20)
    answer = client.stop_deployment(deploymentId=rolled, autoRollbackEnabled=True)
    assert answer["status"] in ("Pending", "Succeeded")
    stopped = info(client, rolled)
    rollback_id = stopped["rollbackInfo"]["rollbackDeploymentId"]
    rollback = info(client, rollback_id)
    assert rollback["creator"] == "codeDeployRollback"
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == rolled
    wait(10)  # a rollback is not held at Ready
    assert info(client, rollback_id)["status"] == "Succeeded"

    with pytest.raises(ClientError) as again:
        client.stop_deployment(deploymentId=rolled)
    assert error_code(again) == "DeploymentAlreadyCompletedException"


def test_the_group_and_its_deployment_config_are_served(client: Any, world: Any) -> None:
    waits = blue_green_waits(ready_minutes=30, termination_minutes=120)
    world(waits, deployment_config_name="CodeDeployDefault.ECSCanary10Percent15Minutes")
    group = client.get_deployment_group(applicationName=APP, deploymentGroupName=GROUP)
    assert group["deploymentGroupInfo"]["blueGreenDeploymentConfiguration"] == waits
    name = group["deploymentGroupInfo"]["deploymentConfigName"]

    config = client.get_deployment_config(deploymentConfigName=name)["deploymentConfigInfo"]
    assert config["computePlatform"] == "ECS"
    assert config["trafficRoutingConfig"] == {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 15},
    }
    linear = client.get_deployment_config(
        deploymentConfigName="CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
    )["deploymentConfigInfo"]["trafficRoutingConfig"]
    assert linear["timeBasedLinear"] == {"linearPercentage": 10, "linearInterval": 1}


def test_get_deployment_answers_the_deployments_own_settings_after_the_group_changed(
    client: Any, world: Any
) -> None:
    """DeploymentInfo's deploymentStyle and blueGreenDeploymentConfiguration are "for this
    deployment" (botocore model): set at creation, not the group's current ones."""
    waits = blue_green_waits(ready_minutes=30, termination_minutes=120)
    _, _, wait = world(waits)
    deployment_id = create(client)

    changed = blue_green_waits(ready_minutes=5, termination_minutes=10)
    client.update_deployment_group(
        applicationName=APP,
        currentDeploymentGroupName=GROUP,
        blueGreenDeploymentConfiguration=changed,
    )

    group = client.get_deployment_group(applicationName=APP, deploymentGroupName=GROUP)
    assert group["deploymentGroupInfo"]["blueGreenDeploymentConfiguration"] == changed
    deployment = info(client, deployment_id)
    assert deployment["blueGreenDeploymentConfiguration"] == waits
    assert deployment["deploymentStyle"]["deploymentType"] == "BLUE_GREEN"
    assert deployment["computePlatform"] == "ECS"
    # The simulated CodeDeploy follows the deployment's own Ready wait too (30 minutes).
    wait(6 * 60)
    assert info(client, deployment_id)["status"] == "Ready"
    assert (
        info(client, create_next_after_stop(client, deployment_id))[
            "blueGreenDeploymentConfiguration"
        ]
        == changed
    )


def create_next_after_stop(client: Any, deployment_id: str) -> str:
    """Stop ``deployment_id`` and create the group's next deployment."""
    client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)
    return create(client)


def test_custom_deployment_configs_are_created_read_and_deleted(client: Any) -> None:
    routing = {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": 25, "linearInterval": 2},
    }
    client.create_deployment_config(
        deploymentConfigName="quarter-every-2", computePlatform="ECS", trafficRoutingConfig=routing
    )
    found = client.get_deployment_config(deploymentConfigName="quarter-every-2")
    assert found["deploymentConfigInfo"]["trafficRoutingConfig"] == routing
    assert "quarter-every-2" in client.list_deployment_configs()["deploymentConfigsList"]

    with pytest.raises(ClientError) as duplicate:
        client.create_deployment_config(deploymentConfigName="quarter-every-2")
    assert error_code(duplicate) == "DeploymentConfigAlreadyExistsException"

    client.delete_deployment_config(deploymentConfigName="quarter-every-2")
    with pytest.raises(ClientError) as gone:
        client.get_deployment_config(deploymentConfigName="quarter-every-2")
    assert error_code(gone) == "DeploymentConfigDoesNotExistException"
