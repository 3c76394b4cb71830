"""What the trigger trusts: CodeDeploy over the status table, and only its own deployments
to stop.

A forged event delivered through the recorder's handler (a direct invoke carries the
recorder's own account) must not end a wait; ``stopOnTimeout`` must not stop a
deployment this function did not create.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from handlers import recorder
from shared.adapters import clients as aws
from shared.adapters.status_store import StatusStore, StatusUpdate
from shared.errors import (
    DeploymentFailed,
    DeploymentWaitTimeout,
    InvalidInput,
    StatusTableUnavailable,
)
from tests.support import moto_codedeploy
from tests.support.harness import (
    APP,
    GROUP,
    REGION,
    TABLE,
    CallCounter,
    appspec_request,
    stub_stop_deployment,
)
from tests.support.lambda_context import FakeLambdaContext
from tests.support.simulator import Step, fail_after, succeed_after


def through_the_recorder(event: dict[str, Any]) -> None:
    recorder.lambda_handler(event, FakeLambdaContext(30, "recorder"))


def forging_success_on_start(event: dict[str, Any]) -> None:
    """Delivers every real event, and with the real START a forged SUCCESS for the same
    deployment, from the recorder's own account (a direct invoke of the recorder)."""
    through_the_recorder(event)
    if event["detail"]["state"] == "START":
        forged = {**event, "id": "forged", "detail": {**event["detail"], "state": "SUCCESS"}}
        through_the_recorder(forged)


# --- CodeDeploy wins over the table -----------------------------------------------------------


def test_a_forged_success_does_not_hide_a_failure(
    make_harness: Any, dynamodb: Any, status_table: str, log_lines: Any
) -> None:
    harness = make_harness(deliver=forging_success_on_start, planner=lambda _d: fail_after(120))

    with pytest.raises(DeploymentFailed, match="HEALTH_CONSTRAINTS"):
        harness.invoke(appspec_request())

    (deployment_id,) = moto_codedeploy.deployments()
    # Waited for the real end, not the forged one.
    assert time.monotonic() >= harness.simulator.terminal_events[deployment_id]
    # The table was corrected, so the real FAILURE event could be recorded.
    item = StatusStore(TABLE, dynamodb).get(deployment_id)
    assert item is not None
    assert (item.status, item.event_state) == ("Failed", "FAILURE")
    contradicted = [line for line in log_lines() if "contradicted" in line["message"]]
    assert len(contradicted) == 1
    assert (contradicted[0]["tableStatus"], contradicted[0]["apiStatus"]) == (
        "Succeeded",
        "InProgress",
    )


def test_a_forged_success_ahead_of_the_real_failure_is_replaced_by_it(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    """Both terminal, so the recorder's monotonic write would keep the forged one forever."""

    def forge_before_the_failure(event: dict[str, Any]) -> None:
        if event["detail"]["state"] == "FAILURE":
            forged = {**event, "id": "forged", "detail": {**event["detail"], "state": "SUCCESS"}}
            through_the_recorder(forged)
        through_the_recorder(event)

    harness = make_harness(deliver=forge_before_the_failure, planner=lambda _d: fail_after(60))

    with pytest.raises(DeploymentFailed, match="HEALTH_CONSTRAINTS"):
        harness.invoke(appspec_request())

    (deployment_id,) = moto_codedeploy.deployments()
    item = StatusStore(TABLE, dynamodb).get(deployment_id)
    assert item is not None
    assert (item.status, item.source, item.event_state) == ("Failed", "api", None)
    assert item.completed_at is not None


def test_a_forged_success_is_corrected_and_the_wait_goes_on(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = make_harness(
        deliver=forging_success_on_start, planner=lambda _d: succeed_after(10_000)
    )

    with pytest.raises(DeploymentWaitTimeout, match="InProgress"):
        harness.invoke(appspec_request(), timeout=120)

    (deployment_id,) = moto_codedeploy.deployments()
    item = StatusStore(TABLE, dynamodb).get(deployment_id)
    assert item is not None
    # CodeDeploy's status, said to come from GetDeployment; the forged event's traces gone.
    assert (item.status, item.source, item.event_state, item.completed_at) == (
        "InProgress",
        "api",
        None,
        None,
    )
    assert (item.application_name, item.deployment_group_name) == (APP, GROUP)
    assert item.created_by_trigger


def test_a_contradicted_table_costs_one_get_deployment_per_poll_interval(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    """A table forged to Succeeded again after every correction cannot make the trigger
    call GetDeployment at the pace of its table reads (every second)."""
    # A START event every 3 s, each followed by a forged SUCCESS.
    plan = [Step(1.0 + 3 * n, "InProgress") for n in range(60)] + [Step(10_000, "Succeeded")]
    harness = make_harness(deliver=forging_success_on_start, planner=lambda _d: plan)
    count = CallCounter(aws.codedeploy_client(), aws.dynamodb_client())

    with pytest.raises(DeploymentWaitTimeout):
        harness.invoke(appspec_request(), timeout=150)

    # 120 s of waiting: one confirming GetDeployment per POLL_INTERVAL_SECONDS (15) and the
    # poll it brings forward, not one per table read (the group's clock makes none of its own).
    waits_reads = count.calls["GetDeployment"]
    assert waits_reads <= 2 * (120 // 15) + 2
    assert count.calls["GetItem"] >= 2 * waits_reads


# --- stop only what this function started ----------------------------------------------------


def created_elsewhere(codedeploy: Any) -> str:
    """A deployment started outside this function (a pipeline, the console)."""
    response = codedeploy.create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision=appspec_request()["revision"],
    )
    return str(response["deploymentId"])


def test_stop_on_timeout_is_refused_at_once_for_a_deployment_made_elsewhere(
    make_harness: Any, codedeploy: Any, dynamodb: Any, status_table: str
) -> None:
    harness = make_harness(deliver=through_the_recorder, planner=lambda _d: succeed_after(10_000))
    other = created_elsewhere(codedeploy)
    harness.sleep(30)  # its events reach the table: the recorder knows it, not as ours
    stops = stub_stop_deployment(aws.codedeploy_client())
    harness.sleeps.clear()

    with pytest.raises(InvalidInput, match="not created by this function") as refused:
        harness.invoke({"deploymentId": other, "stopOnTimeout": True}, timeout=100)

    assert refused.value.field == "stopOnTimeout"
    assert other in str(refused.value)
    assert stops == []
    assert harness.sleeps == []  # refused before any wait


def test_stop_on_timeout_stops_a_deployment_this_function_created(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = make_harness(deliver=through_the_recorder, planner=lambda _d: succeed_after(10_000))
    created = harness.invoke(appspec_request(wait=False))
    harness.sleep(30)  # the recorder's InProgress replaces the Created record's status
    stops = stub_stop_deployment(aws.codedeploy_client())

    with pytest.raises(DeploymentWaitTimeout, match="StopDeployment"):
        harness.invoke(
            {"deploymentId": created["deploymentId"], "stopOnTimeout": True}, timeout=100
        )

    assert stops == [{"deploymentId": created["deploymentId"], "autoRollbackEnabled": True}]


def test_the_created_mark_survives_an_event_recorded_before_it(
    dynamodb: Any, status_table: str
) -> None:
    store = StatusStore(TABLE, dynamodb)
    store.record(StatusUpdate("d-RACE00001", "InProgress", source="event", event_state="START"))

    store.record_created(StatusUpdate("d-RACE00001", "Created", source="trigger"))

    item = store.get("d-RACE00001")
    assert item is not None
    assert (item.status, item.created_by_trigger) == ("InProgress", True)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("creator", "codeDeployRollback", "creator 'codeDeployRollback'"),
        ("creator", "autoscaling", "creator 'autoscaling'"),
        ("deploymentGroupName", "another-group", f"group {APP}/another-group"),
    ],
)
def test_codedeploys_own_fields_can_refute_the_table(
    make_harness: Any,
    dynamodb: Any,
    status_table: str,
    field: str,
    value: str,
    reason: str,
) -> None:
    """The table says this function created it; GetDeployment says otherwise: refused."""
    harness = make_harness(planner=lambda _d: succeed_after(10_000))
    created = harness.invoke(appspec_request(wait=False))
    client = aws.codedeploy_client()

    def codedeploy_says(parsed: dict[str, Any], **_kwargs: Any) -> None:
        parsed["deploymentInfo"][field] = value

    client.meta.events.register("after-call.codedeploy.GetDeployment", codedeploy_says)
    stops = stub_stop_deployment(client)
    harness.sleeps.clear()

    with pytest.raises(InvalidInput, match="does not confirm") as refused:
        harness.invoke(
            {"deploymentId": created["deploymentId"], "stopOnTimeout": True}, timeout=100
        )

    assert reason in str(refused.value)
    assert stops == [] and harness.sleeps == []


def test_without_a_status_table_stop_on_timeout_on_attach_is_refused_without_an_aws_call(
    make_harness: Any, codedeploy: Any
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(10_000))
    other = created_elsewhere(codedeploy)
    count = CallCounter(aws.codedeploy_client())

    with pytest.raises(InvalidInput, match="STATUS_TABLE_NAME is not set"):
        harness.invoke({"deploymentId": other, "stopOnTimeout": True}, timeout=100)

    assert sum(count.calls.values()) == 0


def test_an_unreadable_table_refuses_to_stop_rather_than_guess(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(10_000))
    created = harness.invoke(appspec_request(wait=False))
    stops = stub_stop_deployment(aws.codedeploy_client())

    def denied(**_kwargs: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "GetItem"
        )

    aws.dynamodb_client().meta.events.register("before-call.dynamodb.GetItem", denied)

    with pytest.raises(StatusTableUnavailable, match=r"AccessDeniedException.*Nothing was stopped"):
        harness.invoke(
            {"deploymentId": created["deploymentId"], "stopOnTimeout": True}, timeout=100
        )

    assert stops == []


def test_attaching_without_stop_on_timeout_is_unchanged(
    make_harness: Any, codedeploy: Any, dynamodb: Any, status_table: str
) -> None:
    harness = make_harness(deliver=through_the_recorder, planner=lambda _d: succeed_after(40))
    other = created_elsewhere(codedeploy)

    result = harness.invoke({"deploymentId": other})

    assert result["status"] == "Succeeded"
    assert (
        boto3.client("codedeploy", region_name=REGION).get_deployment(deploymentId=other)[
            "deploymentInfo"
        ]["status"]
        == "Succeeded"
    )
