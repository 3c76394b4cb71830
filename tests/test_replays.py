"""A result that returns an earlier deployment says so: ``replayed`` and ``replayReason``."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import trigger
from shared.errors import DeploymentFailed, DeploymentWaitTimeout
from shared.recorder import RecorderService
from tests.support import moto_codedeploy
from tests.support.harness import appspec_request
from tests.support.lambda_context import FakeLambdaContext
from tests.support.simulator import HOME_ORIGIN, fail_after, succeed_after


def with_events(make_harness: Any, dynamodb: Any, **options: Any) -> Any:
    return make_harness(
        deliver=RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN).handle, **options
    )


def test_a_fresh_deployment_is_not_a_replay(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(20))

    result = harness.invoke(appspec_request())

    assert (result["replayed"], result["replayReason"]) == (False, None)


def test_a_resend_within_the_replay_window_says_it_is_a_replay_and_why(
    make_harness: Any, dynamodb: Any, status_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``terraform apply -replace`` within the window of a success is such a resend."""
    monkeypatch.setenv("REPLAY_WINDOW_SECONDS", "60")
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(20))
    first = harness.invoke(appspec_request())
    harness.sleep(12)

    again = harness.invoke(appspec_request())

    assert again["deploymentId"] == first["deploymentId"]
    assert again["replayed"] is True
    assert again["replayReason"] == (
        "an identical request's deployment succeeded 12s ago, within REPLAY_WINDOW_SECONDS "
        "(60s); returned it instead of deploying again"
    )
    assert len(moto_codedeploy.deployments()) == 1


def test_a_duplicate_while_the_first_runs_says_it_attached(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(200))
    with pytest.raises(DeploymentWaitTimeout):
        harness.invoke(appspec_request(), timeout=60)  # the first gives up, still running

    duplicate = harness.invoke(appspec_request())

    assert duplicate["status"] == "Succeeded"
    assert duplicate["replayed"] is True
    assert "has not ended (InProgress)" in duplicate["replayReason"]
    assert len(moto_codedeploy.deployments()) == 1


def test_a_duplicate_with_wait_false_says_it_is_a_replay(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(200))
    harness.invoke(appspec_request(wait=False))
    harness.sleep(5)

    duplicate = harness.invoke(appspec_request(wait=False))

    assert duplicate["complete"] is False
    assert duplicate["replayed"] is True
    assert "has not ended (InProgress)" in duplicate["replayReason"]


def test_an_identical_request_after_the_window_is_a_new_deployment_not_a_replay(
    make_harness: Any, dynamodb: Any, status_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPLAY_WINDOW_SECONDS", "60")
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(20))
    first = harness.invoke(appspec_request())
    harness.sleep(61)

    again = harness.invoke(appspec_request())

    assert again["deploymentId"] != first["deploymentId"]
    assert (again["replayed"], again["replayReason"]) == (False, None)


def test_attaching_by_deployment_id_is_asked_for_not_a_replay(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(20))
    first = harness.invoke(appspec_request(wait=False))

    attached = harness.invoke({"deploymentId": first["deploymentId"]})

    assert attached["status"] == "Succeeded"
    assert (attached["replayed"], attached["replayReason"]) == (False, None)


def test_the_handler_returns_the_replay_keys_as_json(
    moto: None, codedeploy: Any, status_table: str
) -> None:
    """Through the Lambda handler, as Terraform's aws_lambda_invocation reads ``result``."""
    first = trigger.lambda_handler(appspec_request(wait=False), FakeLambdaContext())
    again = trigger.lambda_handler(appspec_request(wait=False), FakeLambdaContext())

    assert first["replayed"] is False
    assert again["deploymentId"] == first["deploymentId"]
    assert again["replayed"] is True
    assert again["replayReason"].startswith("an identical request created this deployment")


def test_a_duplicate_whose_deployment_then_fails_says_it_did_not_create_it(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = with_events(make_harness, dynamodb, planner=lambda _d: fail_after(200))
    with pytest.raises(DeploymentWaitTimeout):
        harness.invoke(appspec_request(), timeout=60)

    with pytest.raises(DeploymentFailed) as failed:
        harness.invoke(appspec_request())

    sections = str(failed.value).split(" | ")
    assert sections[1] == (
        "Not created by this invocation: an identical request created this deployment and it "
        "has not ended (InProgress); returned it instead of deploying again"
    )
    assert len(moto_codedeploy.deployments()) == 1
