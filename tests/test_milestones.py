"""``waitUntil: "TrafficShifted"`` and the deployment group's clock (``groupClock``), through
the trigger's handler on the simulated CodeDeploy, in frozen time."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from shared.adapters.codedeploy import (
    BlueGreenWaits,
    DeploymentConfigSettings,
    DeploymentSnapshot,
    predefined_config,
)
from shared.errors import DeploymentWaitTimeout
from shared.trigger.group_clock import compute_group_clock
from tests.support import moto_codedeploy
from tests.support.harness import APP, appspec_request, counters, event_harness
from tests.support.provision import (
    CANARY_CONFIG,
    blue_green_waits,
    create_blue_green_group,
    create_canary_config,
)
from tests.support.simulator import plan_from_description, succeed_after

PLAN_40 = lambda deployment: plan_from_description(deployment, 40.0)  # noqa: E731
"""Deployments take 40 s (InProgress at 1 s), markers as ever."""
SHIFTING = "shifting"
"""A group whose original environment is kept 60 minutes after traffic has moved."""
GATED = "gated"
"""A group with a 30-minute Ready gate, a canary and a 2-hour termination wait."""


@pytest.fixture
def groups(codedeploy: Any) -> None:
    create_blue_green_group(
        codedeploy,
        APP,
        SHIFTING,
        blue_green=blue_green_waits(termination_minutes=60),
        create_application=False,
    )
    create_blue_green_group(
        codedeploy,
        APP,
        GATED,
        blue_green=blue_green_waits(ready_minutes=30, termination_minutes=120),
        deployment_config_name="CodeDeployDefault.ECSCanary10Percent15Minutes",
        create_application=False,
    )


CANNOT_COVER = "the invocation cannot cover the group's clock"


def elapsed_since(started: float) -> float:
    return time.monotonic() - started


# --- TrafficShifted ---------------------------------------------------------------------------


def test_traffic_shifted_returns_when_the_termination_wait_starts(
    make_harness: Any, groups: None, log_lines: Any
) -> None:
    harness = make_harness(planner=PLAN_40)
    started = time.monotonic()

    result = harness.invoke(
        appspec_request(deploymentGroupName=SHIFTING, waitUntil="TrafficShifted")
    )

    # All traffic moved at 40 s; the deployment stays InProgress for the 60-minute wait.
    assert (result["status"], result["milestone"], result["complete"]) == (
        "InProgress",
        "TrafficShifted",
        True,
    )
    assert 40 <= elapsed_since(started) <= 40 + 15  # seen by the next 15 s GetDeployment
    deployment_id = result["deploymentId"]
    resume = json.dumps({"deploymentId": deployment_id, "continue": "TERMINATION_WAIT"})
    assert resume in result["nextStep"]
    assert (
        f"aws deploy continue-deployment --deployment-id {deployment_id} "
        "--deployment-wait-type TERMINATION_WAIT"
    ) in result["nextStep"]
    assert any(line["message"] == "milestone reached" for line in log_lines())


def test_traffic_shifted_is_polled_at_the_poll_interval_even_while_events_flow(
    make_harness: Any, groups: None, dynamodb: Any, status_table: str
) -> None:
    """The flag is in no event: the safety net neither starts at 60 s nor backs off."""
    harness = event_harness(make_harness, dynamodb, planner=lambda _d: succeed_after(150))
    count = counters(harness)
    started = time.monotonic()

    result = harness.invoke(
        appspec_request(deploymentGroupName=SHIFTING, waitUntil="TrafficShifted")
    )

    assert result["milestone"] == "TrafficShifted"
    assert result["detectedBy"] == "poll"
    assert 150 <= elapsed_since(started) <= 150 + 15
    # Every 15 s from creation: about ten GetDeployment calls for 150 s, not 2 or 3.
    assert 9 <= count.calls["GetDeployment"] <= 12


def test_traffic_shifted_without_a_termination_wait_is_met_at_succeeded(
    make_harness: Any, groups: None
) -> None:
    harness = make_harness(planner=PLAN_40)

    result = harness.invoke(appspec_request(waitUntil="TrafficShifted"))

    assert (result["status"], result["milestone"]) == ("Succeeded", "Succeeded")
    assert "nextStep" not in result


def test_an_attached_deployment_can_be_waited_for_until_traffic_shifted(
    make_harness: Any, groups: None
) -> None:
    harness = make_harness(planner=PLAN_40)
    created = harness.invoke(appspec_request(deploymentGroupName=SHIFTING, wait=False))

    result = harness.invoke(
        {"deploymentId": created["deploymentId"], "waitUntil": "TrafficShifted"}
    )

    assert (result["status"], result["milestone"]) == ("InProgress", "TrafficShifted")
    # The attached deployment's group and configuration, found from GetDeployment.
    assert result["groupClock"]["terminationWaitMinutes"] == 60


def test_a_deployment_that_fails_before_traffic_shifted_still_fails(
    make_harness: Any, groups: None
) -> None:
    from shared.errors import DeploymentFailed

    harness = make_harness(planner=PLAN_40)
    with pytest.raises(DeploymentFailed):
        harness.invoke(
            appspec_request(
                deploymentGroupName=SHIFTING,
                waitUntil="TrafficShifted",
                description="simulate:fail",
            )
        )


# --- the group's clock ------------------------------------------------------------------------


def test_group_clock_is_in_the_result_and_logged_with_the_first_get_deployment(
    make_harness: Any, groups: None, log_lines: Any
) -> None:
    harness = make_harness(planner=PLAN_40)
    created = harness.invoke(appspec_request(deploymentGroupName=GATED, waitUntil="Ready"))

    assert created["milestone"] == "Ready"
    assert created["groupClock"] == {
        "readyWaitMinutes": 30,
        "trafficRoutingMinutes": 15,
        "terminationWaitMinutes": 120,
        "longestMinutes": 0,  # Ready comes before every wait of the group
    }
    lines = log_lines()
    clock_lines = [line for line in lines if line["message"] == "group clock"]
    assert clock_lines[0]["groupClock"] == created["groupClock"]
    assert clock_lines[0]["deploymentConfigName"] == "CodeDeployDefault.ECSCanary10Percent15Minutes"
    # Logged with the wait's first GetDeployment (the 15 s poll that saw InProgress), before
    # the next one (Ready).
    changes = [line for line in lines if line["message"] == "deployment status changed"]
    assert [line["status"] for line in changes] == ["InProgress", "Ready"]
    assert lines.index(changes[0]) < lines.index(clock_lines[0]) < lines.index(changes[1])
    assert clock_lines[0]["timestamp"] == changes[0]["timestamp"]
    assert not [line for line in lines if line["level"] == "WARNING"]


def test_a_clock_longer_than_the_invocation_is_said_with_the_first_look_and_in_the_timeout(
    make_harness: Any, groups: None, log_lines: Any
) -> None:
    harness = make_harness(planner=PLAN_40)

    with pytest.raises(DeploymentWaitTimeout) as raised:
        harness.invoke(appspec_request(deploymentGroupName=GATED))

    lines = log_lines()
    (warning,) = [line for line in lines if line["message"] == CANNOT_COVER]
    first_change = next(line for line in lines if line["message"] == "deployment status changed")
    assert warning["timestamp"] == first_change["timestamp"]  # the first poll, 15 s in
    note = warning["note"]
    assert "can take 165 minutes before Succeeded" in note
    # Measured against the wait's whole budget (900 s less the 30 s margin), not what was
    # left at the first poll.
    assert "this invocation can wait (14.5 minutes" in note
    assert "ready wait 30, traffic routing 15, termination wait 120" in note
    # 165 minutes is beyond the chain module (60); the traffic shift (45) is not.
    assert "max_wait_minutes of at least 165" not in note
    assert 'waitUntil "TrafficShifted" in the deployment chain module' in note
    assert "max_wait_minutes of at least 45" in note
    assert note in str(raised.value)


def test_a_clock_the_chain_covers_names_max_wait_minutes(
    make_harness: Any, codedeploy: Any, log_lines: Any
) -> None:
    create_blue_green_group(
        codedeploy,
        APP,
        "short-wait",
        blue_green=blue_green_waits(termination_minutes=20),
        create_application=False,
    )
    harness = make_harness(planner=PLAN_40)

    with pytest.raises(DeploymentWaitTimeout) as raised:
        harness.invoke(appspec_request(deploymentGroupName="short-wait"), timeout=300)

    (warning,) = [line for line in log_lines() if line["message"] == CANNOT_COVER]
    assert "the deployment chain module with max_wait_minutes of at least 20" in warning["note"]
    # The traffic shift needs none of the group's waits: it fits this very invocation.
    assert 'or waitUntil "TrafficShifted" (0 minutes' in warning["note"]
    assert warning["note"] in str(raised.value)


def test_on_deadline_return_is_not_warned(make_harness: Any, groups: None, log_lines: Any) -> None:
    harness = make_harness(planner=PLAN_40)

    result = harness.invoke(appspec_request(deploymentGroupName=GATED, onDeadline="return"))

    assert result["complete"] is False
    assert result["groupClock"]["longestMinutes"] == 165
    assert not [line for line in log_lines() if line["level"] == "WARNING"]


@pytest.mark.parametrize("error_code", ["AccessDeniedException", "ThrottlingException"])
def test_a_configuration_that_cannot_be_read_never_fails_the_deployment(
    make_harness: Any,
    groups: None,
    log_lines: Any,
    error_code: str,
    codedeploy: Any,
) -> None:
    create_canary_config(codedeploy)
    harness = make_harness(planner=PLAN_40)
    # The clock's only call of its own (the wait's GetDeployment is the wait's).
    harness.faults.on("codedeploy", "GetDeploymentConfig", error_code=error_code, times=None)

    result = harness.invoke(appspec_request(deploymentConfigName=CANARY_CONFIG))

    assert result["status"] == "Succeeded"
    assert "groupClock" not in result
    warnings = [line for line in log_lines() if line["level"] == "WARNING"]
    assert [line["message"] for line in warnings] == [
        "could not read the deployment group's clock; waiting without it"
    ]
    assert error_code in warnings[0]["reason"]


def blue_green_deployment(
    platform: str, config_name: str | None, waits: BlueGreenWaits | None
) -> DeploymentSnapshot:
    """What GetDeployment says of a blue/green deployment (DeploymentInfo)."""
    return DeploymentSnapshot(
        deployment_id="d-ABCDEFGHI",
        status="InProgress",
        compute_platform=platform,
        deployment_config_name=config_name,
        deployment_type="BLUE_GREEN",
        blue_green_waits=waits,
    )


def test_group_clock_sums_follow_the_api_reference() -> None:
    deployment = blue_green_deployment(
        "ECS",
        "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
        # CONTINUE_DEPLOYMENT reroutes at once: no Ready wait, whatever the minutes.
        BlueGreenWaits("CONTINUE_DEPLOYMENT", 45, "TERMINATE", 2880),
    )
    linear = DeploymentConfigSettings(
        "CodeDeployDefault.ECSLinear10PercentEvery3Minutes", "ECS", "TimeBasedLinear", 10, 3
    )
    # Ten increments of 10 %, nine gaps of 3 minutes.
    assert compute_group_clock(deployment, linear, "Succeeded").as_result() == {
        "readyWaitMinutes": 0,
        "trafficRoutingMinutes": 27,
        "terminationWaitMinutes": 2880,
        "longestMinutes": 2907,
    }
    assert compute_group_clock(deployment, linear, "TrafficShifted").longest_minutes == 27
    assert compute_group_clock(deployment, linear, "Ready").longest_minutes == 2907

    lambda_deployment = blue_green_deployment(
        "Lambda", "c", BlueGreenWaits("STOP_DEPLOYMENT", 30, "TERMINATE", 60)
    )
    canary = DeploymentConfigSettings("c", "Lambda", "TimeBasedCanary", 10, 5)
    # Lambda has no Ready gate and no original environment to keep.
    assert compute_group_clock(lambda_deployment, canary, "Succeeded").as_result() == {
        "readyWaitMinutes": 0,
        "trafficRoutingMinutes": 5,
        "terminationWaitMinutes": 0,
        "longestMinutes": 5,
    }

    in_place = DeploymentSnapshot(
        "d-ABCDEFGHI",
        "InProgress",
        compute_platform="Server",
        deployment_type="IN_PLACE",
        blue_green_waits=BlueGreenWaits("STOP_DEPLOYMENT", 30, "TERMINATE", 60),
    )
    # An in-place deployment neither stops at Ready nor keeps an original environment.
    assert compute_group_clock(in_place, None, "Succeeded").longest_minutes == 0


def test_the_clock_reads_blue_green_waits_from_deployment_info() -> None:
    info = {
        "deploymentId": "d-ABCDEFGHI",
        "status": "Created",
        "computePlatform": "ECS",
        "deploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
        "deploymentStyle": {
            "deploymentType": "BLUE_GREEN",
            "deploymentOption": "WITH_TRAFFIC_CONTROL",
        },
        # BlueGreenDeploymentConfiguration, as DeploymentInfo carries it (botocore model).
        "blueGreenDeploymentConfiguration": {
            "deploymentReadyOption": {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 7},
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": "TERMINATE",
                "terminationWaitTimeInMinutes": 11,
            },
        },
    }

    snapshot = DeploymentSnapshot.from_deployment_info(info)

    assert snapshot.blue_green_waits == BlueGreenWaits("STOP_DEPLOYMENT", 7, "TERMINATE", 11)
    assert compute_group_clock(snapshot, None, "Succeeded").longest_minutes == 18
    no_waits = DeploymentSnapshot.from_deployment_info(
        {**info, "blueGreenDeploymentConfiguration": {}}
    )
    assert no_waits.blue_green_waits is None
    assert compute_group_clock(no_waits, None, "Succeeded").longest_minutes == 0


def test_create_and_attach_requests_accept_traffic_shifted() -> None:
    from shared.contract.request import AttachRequest, CreateRequest, parse_request

    attach = parse_request({"deploymentId": "d-ABCDEFGHI", "waitUntil": "TrafficShifted"}, "tf")
    create = parse_request(appspec_request(waitUntil="TrafficShifted"), "tf")
    assert isinstance(attach, AttachRequest) and isinstance(create, CreateRequest)
    assert attach.wait_options.wait_until == create.wait_options.wait_until == "TrafficShifted"


def test_traffic_shifted_through_the_handler_is_json_and_counted(
    codedeploy: Any, groups: None, capsys: Any
) -> None:
    from handlers import trigger
    from tests.support import moto_codedeploy
    from tests.support.lambda_context import FakeLambdaContext
    from tests.support.metrics import emf_metrics

    created = codedeploy.create_deployment(**appspec_request(deploymentGroupName=SHIFTING))[
        "deploymentId"
    ]
    moto_codedeploy.set_status(created, "InProgress")
    moto_codedeploy.deployments()[created].instance_termination_wait_time_started = True
    capsys.readouterr()

    result = trigger.lambda_handler(
        {"deploymentId": created, "waitUntil": "TrafficShifted"}, FakeLambdaContext()
    )

    assert json.loads(json.dumps(result)) == result
    assert (result["status"], result["milestone"], result["complete"]) == (
        "InProgress",
        "TrafficShifted",
        True,
    )
    assert emf_metrics(capsys.readouterr().out)["DeploymentsTrafficShifted"] == [1.0]


# --- which calls the clock costs ----------------------------------------------------------------


def test_a_predefined_configuration_costs_no_get_deployment_config(
    make_harness: Any, groups: None
) -> None:
    harness = make_harness(planner=PLAN_40)
    count = counters(harness)

    result = harness.invoke(appspec_request(deploymentGroupName=GATED, waitUntil="Ready"))

    assert result["groupClock"]["trafficRoutingMinutes"] == 15
    assert count.calls.get("GetDeploymentConfig", 0) == 0


def test_a_custom_configuration_is_read_from_codedeploy(
    make_harness: Any, groups: None, codedeploy: Any
) -> None:
    codedeploy.create_deployment_config(
        deploymentConfigName="linear-20-every-2",
        computePlatform="ECS",
        trafficRoutingConfig={
            "type": "TimeBasedLinear",
            "timeBasedLinear": {"linearPercentage": 20, "linearInterval": 2},
        },
    )
    harness = make_harness(planner=PLAN_40)
    count = counters(harness)

    result = harness.invoke(
        appspec_request(
            deploymentGroupName=SHIFTING,
            deploymentConfigName="linear-20-every-2",
            waitUntil="TrafficShifted",
        )
    )

    # Five increments of 20%, two minutes apart: 8 minutes from the first to the last.
    assert result["groupClock"]["trafficRoutingMinutes"] == 8
    assert count.calls["GetDeploymentConfig"] == 1


@pytest.mark.parametrize("name", moto_codedeploy.PREDEFINED_CONFIGS)
def test_the_predefined_configurations_are_what_get_deployment_config_answers(name: str) -> None:
    answered = moto_codedeploy.predefined_config(name)
    assert answered is not None

    assert predefined_config(name) == DeploymentConfigSettings.from_config_info(answered)


# --- the clock comes from the deployment, not from its group -------------------------------------

GATED_CLOCK_AT_READY = {
    "readyWaitMinutes": 30,
    "trafficRoutingMinutes": 15,
    "terminationWaitMinutes": 120,
    "longestMinutes": 0,
}
"""GATED's clock for ``waitUntil: "Ready"``, as its deployments are created."""


GATED_CHANGES = {
    "deploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
    "blueGreenDeploymentConfiguration": blue_green_waits(ready_minutes=5, termination_minutes=10),
}
"""Shorter waits and another configuration for GATED's next deployments."""


def calls_before_the_first_pause(harness: Any) -> list[str]:
    """The CodeDeploy operations the trigger sends before its first sleep (filled as it runs)."""
    seen: list[str] = []

    def note(model: Any, **_kwargs: Any) -> None:
        if not harness.sleeps:
            seen.append(model.name)

    for client in (harness.clients.codedeploy, harness.clients.codedeploy_create):
        client.meta.events.register("before-call.codedeploy.*", note)
    return seen


def test_a_group_changed_after_create_deployment_keeps_the_deployments_clock(
    make_harness: Any, groups: None, codedeploy: Any
) -> None:
    harness = make_harness(planner=PLAN_40)
    # Changed as soon as CreateDeployment has answered (UpdateDeploymentGroup's effect; a call
    # from inside the code's own call would count as the code's).
    harness.clients.codedeploy_create.meta.events.register(
        "after-call.codedeploy.CreateDeployment",
        lambda **_kwargs: moto_codedeploy.update_deployment_group(APP, GATED, GATED_CHANGES),
    )
    before_pause = calls_before_the_first_pause(harness)
    count = counters(harness)

    result = harness.invoke(appspec_request(deploymentGroupName=GATED, waitUntil="Ready"))

    assert result["groupClock"] == GATED_CLOCK_AT_READY
    # No call of the clock's own: nothing but CreateDeployment before the first pause, and
    # one GetDeployment per pause (the 15 s polls), the first of which gave the clock.
    assert before_pause == ["CreateDeployment"]
    assert count.calls["GetDeployment"] == len(harness.sleeps) == 2
    assert "GetDeploymentGroup" not in count.calls
    group = codedeploy.get_deployment_group(applicationName=APP, deploymentGroupName=GATED)
    assert group["deploymentGroupInfo"]["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"


def test_attaching_reads_the_clock_from_the_waits_first_get_deployment(
    make_harness: Any, groups: None, codedeploy: Any, log_lines: Any
) -> None:
    harness = make_harness(planner=PLAN_40)
    deployment_id = codedeploy.create_deployment(**appspec_request(deploymentGroupName=GATED))[
        "deploymentId"
    ]
    codedeploy.update_deployment_group(
        applicationName=APP, currentDeploymentGroupName=GATED, **GATED_CHANGES
    )
    before_pause = calls_before_the_first_pause(harness)
    count = counters(harness)

    result = harness.invoke({"deploymentId": deployment_id, "waitUntil": "Ready"})

    assert result["status"] == "Ready"
    assert result["groupClock"] == GATED_CLOCK_AT_READY
    (clock_line,) = [line for line in log_lines() if line["message"] == "group clock"]
    assert clock_line["deploymentConfigName"] == "CodeDeployDefault.ECSCanary10Percent15Minutes"
    # The wait's first look is the clock's only source: it was GetDeployment twice and
    # GetDeploymentGroup before the first pause.
    assert before_pause == ["GetDeployment"]
    assert "GetDeploymentGroup" not in count.calls


# --- the clock comes with the wait's first GetDeployment ----------------------------------------

CANARY_15 = "CodeDeployDefault.ECSCanary10Percent15Minutes"
CANARY_CLOCK = {
    "readyWaitMinutes": 0,
    "trafficRoutingMinutes": 15,
    "terminationWaitMinutes": 0,
    "longestMinutes": 15,
}
"""The clock of a deployment with CANARY_15 in the default group (no Ready gate, no
termination wait): 15 minutes, beyond what a 900 s invocation can wait."""


def test_an_end_the_table_shows_first_gives_the_clock_its_confirming_get_deployment(
    make_harness: Any, dynamodb: Any, status_table: str, log_lines: Any
) -> None:
    # Ends at 40 s, through its event: before the first safety-net poll (60 s).
    harness = event_harness(make_harness, dynamodb, planner=PLAN_40)
    count = counters(harness)

    result = harness.invoke(appspec_request(deploymentConfigName=CANARY_15))

    assert (result["status"], result["detectedBy"]) == ("Succeeded", "event")
    assert result["groupClock"] == CANARY_CLOCK
    # The one GetDeployment that confirmed the end is the clock's source too.
    assert count.calls["GetDeployment"] == 1
    lines = log_lines()
    assert [line["groupClock"] for line in lines if line["message"] == "group clock"] == [
        CANARY_CLOCK
    ]
    # 15 minutes is beyond this invocation, but the wait is over: nothing to warn about.
    assert not [line for line in lines if line["message"] == CANNOT_COVER]


def test_a_hand_over_before_any_poll_gives_the_clock_its_last_look(make_harness: Any) -> None:
    harness = make_harness(planner=PLAN_40)
    count = counters(harness)

    # 40 s less the 30 s margin: the wait's first poll (15 s) does not fit.
    result = harness.invoke(
        appspec_request(deploymentConfigName=CANARY_15, onDeadline="return"), timeout=40
    )

    assert result["complete"] is False
    assert harness.sleeps == []
    assert result["groupClock"] == CANARY_CLOCK
    assert count.calls["GetDeployment"] == 1  # the last look, nothing of the clock's own


def test_a_timeout_before_any_get_deployment_has_no_clock_to_say(
    make_harness: Any, groups: None, log_lines: Any
) -> None:
    harness = make_harness(planner=PLAN_40)

    with pytest.raises(DeploymentWaitTimeout) as raised:
        harness.invoke(appspec_request(deploymentGroupName=GATED), timeout=40)

    # Nothing invented: no GetDeployment answer, no clock, no note.
    lines = log_lines()
    assert not [line for line in lines if line["message"] in ("group clock", CANNOT_COVER)]
    assert "own waits" not in str(raised.value)


def test_attaching_to_a_deployment_that_has_ended_reads_the_clock_from_that_look(
    make_harness: Any,
) -> None:
    harness = make_harness(planner=PLAN_40)
    created = harness.invoke(appspec_request(deploymentConfigName=CANARY_15, wait=False))
    harness.sleep(60)
    count = counters(harness)

    result = harness.invoke({"deploymentId": created["deploymentId"]})

    assert result["status"] == "Succeeded"
    assert result["groupClock"] == CANARY_CLOCK
    assert count.order[0] == "GetDeployment"
    assert count.calls["GetDeployment"] == 1
