"""Continue and stop a deployment this function created, and ``onActiveDeployment:
"supersede"``: through the public handler, CodeDeploy's ContinueDeployment and StopDeployment
answered at the client boundary (botocore ``before-call`` hooks on the harness's clients),
which moves the deployment as CodeDeploy would."""

from __future__ import annotations

import json
from datetime import UTC
from types import SimpleNamespace
from typing import Any

import pytest

from handlers import recorder
from shared.adapters.status_table import CONTROL_SENT_AT
from shared.errors import (
    ActiveDeploymentConflict,
    CodeDeployError,
    DeploymentFailed,
    DeploymentWaitTimeout,
    InvalidInput,
)
from tests.support import moto_codedeploy
from tests.support.harness import APP, GROUP, Harness, appspec_request, deployment_limit_exceeded
from tests.support.lambda_context import FakeLambdaContext
from tests.support.provision import blue_green_waits, create_blue_green_group
from tests.support.simulator import Plan, Step, plan_from_description

HOLD_READY = "hold:ready"
"""Description marker: InProgress, then Ready until ContinueDeployment."""
LONG = "simulate:seconds=10000"


def planner(deployment: Any) -> Plan:
    if HOLD_READY in (deployment.description or ""):
        return [Step(1, "InProgress"), Step(3, "Ready")]
    return plan_from_description(deployment)


def through_the_recorder(event: dict[str, Any]) -> None:
    recorder.lambda_handler(event, FakeLambdaContext(30, "recorder"))


class CodeDeployControl:
    """ContinueDeployment and StopDeployment as CodeDeploy answers them, on the harness's
    client: each call is recorded, then the deployment moves.

    ContinueDeployment(READY_WAIT) moves a Ready deployment to ``after_continue``;
    StopDeployment ends it Stopped and, with autoRollbackEnabled, starts a rollback
    deployment of the same group (``creator: codeDeployRollback``, rollbackInfo both ways)
    that runs the default plan (``rollback_description`` chooses its ending).
    """

    def __init__(self, harness: Harness, *, after_continue: str = "Succeeded") -> None:
        self.harness = harness
        self.after_continue = after_continue
        self.stop_takes_effect = True
        self.rollback_description = ""
        self.continues: list[dict[str, Any]] = []
        self.stops: list[dict[str, Any]] = []
        self.on_stop: Any = None
        events = harness.clients.codedeploy.meta.events
        events.register("before-call.codedeploy.ContinueDeployment", self._continue)
        events.register("before-call.codedeploy.StopDeployment", self._stop)

    def _continue(self, params: dict[str, Any], **_kwargs: Any) -> Any:
        body = json.loads(params["body"])
        self.continues.append(body)
        if self.after_continue:
            moto_codedeploy.set_status(body["deploymentId"], self.after_continue)
        return SimpleNamespace(status_code=200), {}

    def _stop(self, params: dict[str, Any], **_kwargs: Any) -> Any:
        body = json.loads(params["body"])
        self.stops.append(body)
        if self.on_stop is not None:
            self.on_stop(body)
        if not self.stop_takes_effect:
            return SimpleNamespace(status_code=200), {"status": "Pending"}
        deployment_id = body["deploymentId"]
        self.harness.simulator.stop(deployment_id)
        if body.get("autoRollbackEnabled"):
            self._roll_back(deployment_id)
        return SimpleNamespace(status_code=200), {"status": "Succeeded"}

    def _roll_back(self, deployment_id: str) -> None:
        found = moto_codedeploy.deployments()
        stopped = found[deployment_id]
        rollback_id = moto_codedeploy.backend().create_deployment(
            application_name=APP,
            deployment_group_name=GROUP,
            revision=stopped.revision,
            description=f"Rollback of {deployment_id} {self.rollback_description}",
        )
        found[rollback_id].creator = "codeDeployRollback"
        found[rollback_id].rollback_info = {"rollbackTriggeringDeploymentId": deployment_id}
        stopped.rollback_info = {
            "rollbackDeploymentId": rollback_id,
            "rollbackMessage": f"Deployment rolled back by deployment {rollback_id}",
        }


def termination_wait_started(harness: Harness) -> None:
    """GetDeployment says the termination wait has started (blue/green with TERMINATE)."""

    def started(parsed: dict[str, Any], **_kwargs: Any) -> None:
        parsed["deploymentInfo"]["instanceTerminationWaitTimeStarted"] = True

    harness.clients.codedeploy.meta.events.register("after-call.codedeploy.GetDeployment", started)


def created_here(harness: Harness, description: str) -> str:
    result = harness.invoke(appspec_request(description=description, wait=False))
    return str(result["deploymentId"])


def created_elsewhere(codedeploy: Any, description: str = LONG) -> str:
    response = codedeploy.create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision=appspec_request()["revision"],
        description=description,
    )
    return str(response["deploymentId"])


@pytest.fixture
def harness(make_harness: Any, status_table: str) -> Harness:
    built: Harness = make_harness(deliver=through_the_recorder, planner=planner)
    return built


# --- continue --------------------------------------------------------------------------------


def test_continue_ready_wait_continues_a_ready_deployment_and_waits_as_asked(
    harness: Harness,
) -> None:
    control = CodeDeployControl(harness)
    deployment_id = created_here(harness, HOLD_READY)
    ready = harness.invoke({"deploymentId": deployment_id, "waitUntil": "Ready"})
    assert ready["status"] == "Ready" and control.continues == []

    result = harness.invoke({"deploymentId": deployment_id, "continue": "READY_WAIT"})

    assert control.continues == [
        {"deploymentId": deployment_id, "deploymentWaitType": "READY_WAIT"}
    ]
    assert result["status"] == "Succeeded"
    assert result["milestone"] == "Succeeded"


def test_continue_is_refused_for_a_deployment_this_function_did_not_create(
    harness: Harness, codedeploy: Any
) -> None:
    control = CodeDeployControl(harness)
    other = created_elsewhere(codedeploy, HOLD_READY)
    harness.sleep(5)  # Ready, and the recorder knows it: not as ours

    with pytest.raises(InvalidInput, match="not created by this function") as refused:
        harness.invoke({"deploymentId": other, "continue": "READY_WAIT"})

    assert refused.value.field == "continue"
    assert str(refused.value).startswith(f"continue: deployment {other} was not created")
    assert "aws deploy continue-deployment" in str(refused.value)
    assert control.continues == []


def test_continue_before_ready_is_refused_naming_the_state(harness: Harness) -> None:
    control = CodeDeployControl(harness)
    deployment_id = created_here(harness, HOLD_READY)
    harness.sleep(1.5)  # InProgress, not Ready yet

    with pytest.raises(InvalidInput, match="is InProgress") as refused:
        harness.invoke({"deploymentId": deployment_id, "continue": "READY_WAIT"})

    assert refused.value.field == "continue"
    assert 'waitUntil "Ready"' in str(refused.value)
    assert control.continues == []


def test_continue_of_an_ended_deployment_never_continued_is_refused(harness: Harness) -> None:
    control = CodeDeployControl(harness)
    deployment_id = created_here(harness, "simulate:fail")
    harness.sleep(10)

    with pytest.raises(InvalidInput, match=r"is Failed.*nothing to continue"):
        harness.invoke({"deploymentId": deployment_id, "continue": "READY_WAIT"})

    assert control.continues == []


def test_a_repeated_continue_after_the_deployment_moved_on_waits_instead_of_failing(
    harness: Harness, log_lines: Any
) -> None:
    """A Terraform re-run of a continue link whose first invocation continued and then
    failed: the deployment is InProgress now, and that is no refusal."""
    control = CodeDeployControl(harness, after_continue="InProgress")
    deployment_id = created_here(harness, HOLD_READY)
    harness.sleep(5)
    request = {"deploymentId": deployment_id, "continue": "READY_WAIT", "wait": False}
    harness.invoke(request)

    again = harness.invoke(request)

    assert len(control.continues) == 1
    assert again["status"] == "InProgress"
    said = [line for line in log_lines() if "sent by an earlier invocation" in line["message"]]
    assert said and said[0]["deploymentId"] == deployment_id


def test_a_continue_after_someone_else_continued_it_waits_as_asked(
    harness: Harness, log_lines: Any
) -> None:
    """Continued by hand (no note of ours), but the table saw it Ready: past Ready."""
    control = CodeDeployControl(harness)
    deployment_id = created_here(harness, HOLD_READY)
    harness.sleep(5)
    moto_codedeploy.set_status(deployment_id, "InProgress")  # aws deploy continue-deployment

    result = harness.invoke(
        {"deploymentId": deployment_id, "continue": "READY_WAIT", "wait": False}
    )

    assert control.continues == []
    assert result["status"] == "InProgress"
    assert any("already past the point READY_WAIT" in line["message"] for line in log_lines())


def test_a_continue_of_a_succeeded_deployment_returns_it(harness: Harness) -> None:
    control = CodeDeployControl(harness)
    deployment_id = created_here(harness, "")
    harness.sleep(10)

    result = harness.invoke({"deploymentId": deployment_id, "continue": "READY_WAIT"})

    assert control.continues == []
    assert result["status"] == "Succeeded"


def test_continue_termination_wait_needs_the_termination_wait_to_have_started(
    harness: Harness,
) -> None:
    control = CodeDeployControl(harness)
    deployment_id = created_here(harness, LONG)
    harness.sleep(2)

    with pytest.raises(InvalidInput, match="its termination wait not started") as refused:
        harness.invoke({"deploymentId": deployment_id, "continue": "TERMINATION_WAIT"})
    assert refused.value.field == "continue"
    assert control.continues == []

    termination_wait_started(harness)
    result = harness.invoke({"deploymentId": deployment_id, "continue": "TERMINATION_WAIT"})

    assert control.continues == [
        {"deploymentId": deployment_id, "deploymentWaitType": "TERMINATION_WAIT"}
    ]
    assert result["status"] == "Succeeded"


def test_a_refused_continue_is_codedeploys_error_and_can_be_sent_again(
    harness: Harness,
) -> None:
    deployment_id = created_here(harness, HOLD_READY)
    harness.sleep(5)
    fault = harness.faults.on(
        "codedeploy",
        "ContinueDeployment",
        error_code="DeploymentIsNotInReadyStateException",
        message="The deployment does not have a status of Ready and can't continue yet.",
    )

    with pytest.raises(CodeDeployError, match="ContinueDeployment failed"):
        harness.invoke({"deploymentId": deployment_id, "continue": "READY_WAIT"})

    control = CodeDeployControl(harness)
    result = harness.invoke({"deploymentId": deployment_id, "continue": "READY_WAIT"})
    assert fault.failed == 1 and len(control.continues) == 1
    assert result["status"] == "Succeeded"


def test_without_a_status_table_continue_is_refused_without_an_aws_call(
    make_harness: Any,
) -> None:
    harness = make_harness(planner=planner)
    control = CodeDeployControl(harness)
    deployment_id = created_here(harness, HOLD_READY)
    harness.sleep(5)

    with pytest.raises(InvalidInput, match="STATUS_TABLE_NAME is not set"):
        harness.invoke({"deploymentId": deployment_id, "continue": "READY_WAIT"})

    assert control.continues == []


# --- stop ------------------------------------------------------------------------------------


def test_stop_with_rollback_stops_and_reports_the_rollback(harness: Harness) -> None:
    control = CodeDeployControl(harness)
    deployment_id = created_here(harness, LONG)
    harness.sleep(2)

    result = harness.invoke({"deploymentId": deployment_id, "stop": {"rollback": True}})

    assert control.stops == [{"deploymentId": deployment_id, "autoRollbackEnabled": True}]
    assert result["status"] == "Stopped"
    assert result["complete"] is True
    rollback_id = result["rollbackInfo"]["rollbackDeploymentId"]
    assert moto_codedeploy.deployments()[rollback_id].status == "Succeeded"


def test_a_refused_stop_whose_note_stays_says_so_and_how_to_stop(
    harness: Harness, dynamodb: Any, status_table: str
) -> None:
    """CodeDeploy refuses StopDeployment and the table will not take back the note written
    before it: a repeated stop would wait for a stop never sent, so the error says so."""
    deployment_id = created_here(harness, LONG)
    harness.sleep(2)
    refusal = harness.faults.on(
        "codedeploy",
        "StopDeployment",
        error_code="UnsupportedActionForDeploymentTypeException",
        message="This action is not supported for this deployment type.",
    )
    # The claim is the invocation's first UpdateItem; every one after it (the release) fails.
    release = harness.faults.on(
        "dynamodb", "UpdateItem", error_code="AccessDeniedException", after=1, times=None
    )

    with pytest.raises(CodeDeployError) as raised:
        harness.invoke({"deploymentId": deployment_id, "stop": {"rollback": True}})

    message = str(raised.value)
    assert refusal.failed == 1 and release.failed >= 1
    assert "This action is not supported for this deployment type." in message
    assert "still notes this call as sent" in message and "AccessDeniedException" in message
    assert f"run: aws deploy stop-deployment --deployment-id {deployment_id}" in message
    assert raised.value.code == "UnsupportedActionForDeploymentTypeException"
    item = dynamodb.get_item(TableName=status_table, Key={"deploymentId": {"S": deployment_id}})
    assert CONTROL_SENT_AT["STOP"] in item["Item"]  # what the message says is so


def test_stop_without_rollback_asks_for_none(harness: Harness) -> None:
    control = CodeDeployControl(harness)
    deployment_id = created_here(harness, HOLD_READY)
    harness.sleep(5)  # Ready: the documented way out of a failed check

    result = harness.invoke({"deploymentId": deployment_id, "stop": {"rollback": False}})

    assert control.stops == [{"deploymentId": deployment_id, "autoRollbackEnabled": False}]
    assert result["status"] == "Stopped"
    assert "rollbackInfo" not in result


def test_a_stop_whose_rollback_fails_fails_the_apply_saying_so(harness: Harness) -> None:
    control = CodeDeployControl(harness)
    control.rollback_description = "simulate:fail"
    deployment_id = created_here(harness, LONG)
    harness.sleep(2)

    with pytest.raises(DeploymentFailed) as failed:
        harness.invoke({"deploymentId": deployment_id, "stop": {"rollback": True}})

    message = str(failed.value)
    assert f"deployment {deployment_id} was stopped as asked" in message
    assert "Failed, the previous version may NOT be serving" in message


def test_stop_of_an_ended_deployment_is_refused_naming_its_state(harness: Harness) -> None:
    control = CodeDeployControl(harness)
    deployment_id = created_here(harness, "")
    harness.sleep(10)

    with pytest.raises(InvalidInput, match=r"already ended \(Succeeded\)") as refused:
        harness.invoke({"deploymentId": deployment_id, "stop": {"rollback": True}})

    assert refused.value.field == "stop"
    assert control.stops == []


def test_stop_is_refused_for_a_deployment_this_function_did_not_create(
    harness: Harness, codedeploy: Any
) -> None:
    control = CodeDeployControl(harness)
    other = created_elsewhere(codedeploy)
    harness.sleep(2)

    with pytest.raises(InvalidInput, match="so it will not be stopped") as refused:
        harness.invoke({"deploymentId": other, "stop": {"rollback": True}})

    assert refused.value.field == "stop"
    assert control.stops == []


def test_a_repeated_stop_never_stops_twice_and_reports_the_stop_once_it_ended(
    harness: Harness,
) -> None:
    control = CodeDeployControl(harness)
    control.stop_takes_effect = False  # CodeDeploy is still stopping it
    deployment_id = created_here(harness, LONG)
    harness.sleep(2)
    request = {"deploymentId": deployment_id, "stop": {"rollback": True}}

    with pytest.raises(DeploymentWaitTimeout):
        harness.invoke(request, timeout=60)
    with pytest.raises(DeploymentWaitTimeout):
        harness.invoke(request, timeout=60)
    assert len(control.stops) == 1

    harness.simulator.stop(deployment_id)  # the stop took effect meanwhile
    result = harness.invoke(request)

    assert len(control.stops) == 1
    assert result["status"] == "Stopped"


def test_a_refused_stop_can_be_sent_again(harness: Harness) -> None:
    deployment_id = created_here(harness, LONG)
    harness.sleep(2)
    fault = harness.faults.on(
        "codedeploy", "StopDeployment", error_code="UnsupportedActionForDeploymentTypeException"
    )
    request = {"deploymentId": deployment_id, "stop": {"rollback": False}}

    with pytest.raises(CodeDeployError, match="StopDeployment failed"):
        harness.invoke(request)

    control = CodeDeployControl(harness)
    result = harness.invoke(request)
    assert fault.failed == 1 and len(control.stops) == 1
    assert result["status"] == "Stopped"


# --- onActiveDeployment "supersede" ------------------------------------------------------------


def test_supersede_stops_our_active_deployment_waits_for_its_rollback_then_creates(
    harness: Harness,
) -> None:
    control = CodeDeployControl(harness)
    active = created_here(harness, LONG)
    harness.sleep(2)
    deployment_limit_exceeded(harness.clients.codedeploy_create, active=active)

    result = harness.invoke(appspec_request(description="v2", onActiveDeployment="supersede"))

    assert control.stops == [{"deploymentId": active, "autoRollbackEnabled": True}]
    found = moto_codedeploy.deployments()
    assert found[active].status == "Stopped"
    rollback_id = found[active].rollback_info["rollbackDeploymentId"]
    assert found[rollback_id].status == "Succeeded"
    new = found[result["deploymentId"]]
    assert new.description == "v2" and result["status"] == "Succeeded"
    # Created only once the rollback had ended: CodeDeploy runs one deployment per group.
    assert new.create_time.replace(tzinfo=UTC) >= found[rollback_id].complete_time


def test_supersede_never_stops_a_foreign_deployment_and_says_why(
    harness: Harness, codedeploy: Any
) -> None:
    control = CodeDeployControl(harness)
    other = created_elsewhere(codedeploy)
    harness.sleep(2)
    deployment_limit_exceeded(harness.clients.codedeploy_create, active=other)

    with pytest.raises(ActiveDeploymentConflict) as conflict:
        harness.invoke(appspec_request(description="v2", onActiveDeployment="supersede"))

    message = str(conflict.value)
    assert f"already has an active deployment (deployment {other})" in message
    assert "It was not superseded: onActiveDeployment: deployment" in message
    assert "was not created by this function" in message
    assert conflict.value.active_deployment_id == other
    assert control.stops == []
    assert set(moto_codedeploy.deployments()) == {other}


def test_a_retried_supersede_request_neither_stops_nor_creates_again(harness: Harness) -> None:
    control = CodeDeployControl(harness)
    active = created_here(harness, LONG)
    harness.sleep(2)
    deployment_limit_exceeded(harness.clients.codedeploy_create, active=active)
    request = appspec_request(description="v2 simulate:seconds=600", onActiveDeployment="supersede")
    with pytest.raises(DeploymentWaitTimeout):  # superseded, created, then out of time
        harness.invoke(request, timeout=60)
    created = [d for d in moto_codedeploy.deployments().values() if d.description.startswith("v2")]
    count = len(moto_codedeploy.deployments())

    again = harness.invoke(request)

    assert again["deploymentId"] == created[0].deployment_id
    assert again["replayed"] is True
    assert again["status"] == "Succeeded"
    assert len(control.stops) == 1
    assert len(moto_codedeploy.deployments()) == count


def test_a_duplicate_arriving_while_superseding_neither_stops_nor_creates(
    harness: Harness,
) -> None:
    control = CodeDeployControl(harness)
    active = created_here(harness, LONG)
    harness.sleep(2)
    deployment_limit_exceeded(harness.clients.codedeploy_create, active=active)
    request = appspec_request(description="v2", onActiveDeployment="supersede")
    duplicate: list[BaseException] = []

    def resend_meanwhile(_body: dict[str, Any]) -> None:
        if duplicate:
            return
        try:
            harness.invoke(request, timeout=120)
        except DeploymentWaitTimeout as busy:
            assert "gave up waiting for an identical request" in str(busy)
            duplicate.append(busy)

    control.on_stop = resend_meanwhile

    result = harness.invoke(request)

    assert len(duplicate) == 1  # it waited for the first, then gave up at its deadline
    assert len(control.stops) == 1
    ours = [d for d in moto_codedeploy.deployments().values() if d.description == "v2"]
    assert [d.deployment_id for d in ours] == [result["deploymentId"]]


def test_a_supersede_rerun_after_a_timeout_does_not_stop_again(harness: Harness) -> None:
    control = CodeDeployControl(harness)
    control.stop_takes_effect = False  # still stopping when the first invocation gives up
    active = created_here(harness, "simulate:seconds=300")
    harness.sleep(2)
    deployment_limit_exceeded(harness.clients.codedeploy_create, times=2, active=active)
    request = appspec_request(description="v2", onActiveDeployment="supersede")

    with pytest.raises(DeploymentWaitTimeout, match="supersede") as gave_up:
        harness.invoke(request, timeout=100)
    assert "stopped by this invocation" in str(gave_up.value)
    assert "Nothing was created" in str(gave_up.value)

    result = harness.invoke(request)

    assert len(control.stops) == 1
    assert moto_codedeploy.deployments()[result["deploymentId"]].description == "v2"
    assert result["status"] == "Succeeded"


def test_supersede_waits_for_the_rollback_of_our_deployment_without_stopping_it(
    harness: Harness,
) -> None:
    control = CodeDeployControl(harness)
    active = created_here(harness, LONG)
    harness.sleep(2)
    harness.invoke({"deploymentId": active, "stop": {"rollback": True}, "wait": False})
    rollback_id = moto_codedeploy.deployments()[active].rollback_info["rollbackDeploymentId"]
    deployment_limit_exceeded(harness.clients.codedeploy_create, active=rollback_id)

    result = harness.invoke(appspec_request(description="v2", onActiveDeployment="supersede"))

    assert [stop["deploymentId"] for stop in control.stops] == [active]
    assert moto_codedeploy.deployments()[rollback_id].status == "Succeeded"
    assert result["status"] == "Succeeded"


# --- against the simulated CodeDeploy's own ContinueDeployment and StopDeployment ---------------

SIM_GROUP = "held"


@pytest.fixture
def simulated(make_harness: Any, codedeploy: Any, status_table: str) -> Harness:
    """No hooks: the simulator holds Ready for the group's wait and answers the calls."""
    create_blue_green_group(
        codedeploy,
        APP,
        SIM_GROUP,
        blue_green=blue_green_waits(ready_minutes=60),
        create_application=False,
    )
    built: Harness = make_harness(deliver=through_the_recorder)
    return built


def test_continue_against_the_simulator_reroutes_a_held_ready_deployment(
    simulated: Harness,
) -> None:
    ready = simulated.invoke(appspec_request(deploymentGroupName=SIM_GROUP, waitUntil="Ready"))
    assert ready["status"] == "Ready"

    result = simulated.invoke({"deploymentId": ready["deploymentId"], "continue": "READY_WAIT"})

    assert result["status"] == "Succeeded"


def test_stop_against_the_simulator_stops_and_follows_the_rollback(simulated: Harness) -> None:
    ready = simulated.invoke(appspec_request(deploymentGroupName=SIM_GROUP, waitUntil="Ready"))

    result = simulated.invoke({"deploymentId": ready["deploymentId"], "stop": {"rollback": True}})

    assert result["status"] == "Stopped"
    rollback_id = result["rollbackInfo"]["rollbackDeploymentId"]
    assert moto_codedeploy.deployments()[rollback_id].status == "Succeeded"
