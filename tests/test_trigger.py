"""The trigger on the GetDeployment polling path (no status table)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.errors import CodeDeployError, DeploymentFailed, DeploymentWaitTimeout
from tests.support import moto_codedeploy
from tests.support.harness import APP, GROUP, REGION, appspec_request
from tests.support.simulator import fail_after, stop_after, succeed_after


def test_success_waits_until_succeeded_and_returns_the_contract(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(100))

    result = harness.invoke(appspec_request())

    assert result["status"] == "Succeeded"
    assert result["applicationName"] == APP
    assert result["deploymentGroupName"] == GROUP
    assert result["detectedBy"] == "poll"
    assert result["createdAt"].endswith("Z")
    assert result["completedAt"].endswith("Z")
    assert result["completedAt"] > result["createdAt"]
    assert result["consoleUrl"] == (
        "https://console.aws.amazon.com/codesuite/codedeploy/deployments/"
        f"{result['deploymentId']}?region={REGION}"
    )
    assert "errorInformation" not in result
    # Plain polling: every POLL_INTERVAL_SECONDS (default 15 s) until the end at 100 s.
    assert harness.sleeps == [15.0] * 7
    json.dumps(result)


def test_poll_interval_comes_from_the_environment(make_harness: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("POLL_INTERVAL_SECONDS", "2.5")
    harness = make_harness(planner=lambda _d: succeed_after(10))

    harness.invoke(appspec_request())

    assert harness.sleeps == [2.5] * 4


def test_failed_deployment_raises_with_error_and_rollback(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: fail_after(30))

    with pytest.raises(DeploymentFailed) as raised:
        harness.invoke(appspec_request())

    message = str(raised.value)
    deployment_id = next(iter(moto_codedeploy.deployments()))
    assert deployment_id in message
    assert "Failed" in message
    assert "HEALTH_CONSTRAINTS" in message
    assert "too many individual instances failed" in message
    assert "Rolled back by deployment d-ROLLBACK1" in message
    assert f"deployments/{deployment_id}?region={REGION}" in message


def test_stopped_deployment_raises(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: stop_after(20))

    with pytest.raises(DeploymentFailed, match=r"Stopped.*MANUAL_STOP: The deployment was stopped"):
        harness.invoke(appspec_request())


def test_wait_false_returns_right_after_create(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(100))

    result = harness.invoke(appspec_request(wait=False))

    assert result["status"] == "Created"
    assert result["completedAt"] is None
    assert result["createdAt"].endswith("Z")
    assert result["detectedBy"] is None
    assert harness.sleeps == []
    assert len(moto_codedeploy.deployments()) == 1
    json.dumps(result)


def test_attach_waits_for_an_existing_deployment_and_creates_nothing(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(40))
    created = harness.invoke(appspec_request(wait=False))
    harness.simulator.advance()

    result = harness.invoke({"deploymentId": created["deploymentId"]})

    assert result["deploymentId"] == created["deploymentId"]
    assert result["status"] == "Succeeded"
    assert len(moto_codedeploy.deployments()) == 1


def test_attach_without_wait_reports_the_current_status(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(40))
    created = harness.invoke(appspec_request(wait=False))
    harness.sleep(5)

    result = harness.invoke({"deploymentId": created["deploymentId"], "wait": False})

    assert result["status"] == "InProgress"
    assert set(result) >= {
        "deploymentId",
        "status",
        "createdAt",
        "completedAt",
        "applicationName",
        "deploymentGroupName",
        "consoleUrl",
    }


def test_attach_to_a_failed_deployment_raises(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: fail_after(10))
    created = harness.invoke(appspec_request(wait=False))
    harness.sleep(20)

    with pytest.raises(DeploymentFailed, match=created["deploymentId"]):
        harness.invoke({"deploymentId": created["deploymentId"]})


@pytest.mark.parametrize("action", ["create", "update"])
def test_terraform_create_and_update_deploy(make_harness: Any, action: str) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(10))
    previous = appspec_request(description="old") if action == "update" else None

    result = harness.invoke(appspec_request(tf={"action": action, "prev_input": previous}))

    assert result["status"] == "Succeeded"
    (deployment,) = moto_codedeploy.deployments().values()
    assert deployment.description is None  # the tf key is never forwarded


def test_terraform_delete_creates_nothing_even_with_an_outdated_input(make_harness: Any) -> None:
    harness = make_harness()
    stale = {"applicationName": 42, "retiredKey": True}

    result = harness.invoke({**stale, "tf": {"action": "delete", "prev_input": stale}})

    assert result["status"] == "Skipped"
    assert "no deployment was created" in result["reason"]
    assert moto_codedeploy.deployments() == {}


def test_custom_terraform_key(make_harness: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("TERRAFORM_KEY", "terraform")
    harness = make_harness()

    result = harness.invoke(appspec_request(terraform={"action": "delete", "prev_input": None}))

    assert result["status"] == "Skipped"


def test_deadline_guard_raises_before_lambda_would_kill_the_function(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(10_000))

    with pytest.raises(DeploymentWaitTimeout) as raised:
        harness.invoke(appspec_request(), timeout=120)

    deployment_id = next(iter(moto_codedeploy.deployments()))
    message = str(raised.value)
    assert deployment_id in message
    assert "last status InProgress" in message
    assert "keeps running" in message
    assert json.dumps({"deploymentId": deployment_id}) in message
    # 120 s budget, 30 s margin, 15 s polls: the last sleep ends at 90 s, leaving 30 s.
    assert sum(harness.sleeps) <= 120 - 30


def test_codedeploy_errors_keep_codedeploys_words(make_harness: Any) -> None:
    harness = make_harness()

    with pytest.raises(CodeDeployError) as raised:
        harness.invoke(appspec_request(applicationName="missing-app"))

    message = str(raised.value)
    assert "ApplicationDoesNotExistException" in message
    assert "The application missing-app does not exist" in message
    assert "check applicationName" in message


def test_attach_to_an_unknown_deployment_says_so(make_harness: Any) -> None:
    harness = make_harness()

    with pytest.raises(CodeDeployError, match=r"DeploymentDoesNotExistException.*d-NOTREAL12"):
        harness.invoke({"deploymentId": "d-NOTREAL12"})


def test_status_changes_are_logged_once_with_the_deployment_id(
    make_harness: Any, log_lines: Any
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(120))

    result = harness.invoke(appspec_request())

    lines = log_lines()
    changes = [line for line in lines if line["message"] == "deployment status changed"]
    assert [line["status"] for line in changes] == ["InProgress", "Succeeded"]
    after_create = lines[[line["message"] for line in lines].index("deployment created") :]
    assert all(line.get("deploymentId") == result["deploymentId"] for line in after_create)


def test_logs_never_hold_the_appspec_only_its_digest(make_harness: Any, log_lines: Any) -> None:
    import hashlib

    secret = "SECRET_TOKEN_do_not_log_3f9a"
    content = json.dumps({"version": 0.0, "Resources": [], "Hooks": [{"env": secret}]})
    harness = make_harness(planner=lambda _d: succeed_after(20))

    harness.invoke(
        appspec_request(
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": content}}
        )
    )

    lines = log_lines()
    assert lines
    assert not any(secret in json.dumps(line) for line in lines)
    created = next(line for line in lines if line["message"] == "creating deployment")
    assert created["contentSha256"] == hashlib.sha256(content.encode()).hexdigest()
    assert created["contentLength"] == len(content)
