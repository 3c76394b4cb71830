"""What an apply does on the real services: replays only of true duplicates, Ready as a state
a person must act on, CreateDeployment never blindly resent, and no call past the deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from shared.adapters import clients as aws
from shared.adapters.clients import CODEDEPLOY_POLICIES, DYNAMODB_POLICIES, CallPolicy, ClientLadder
from shared.deadline import NoTimeLeft
from shared.errors import (
    ActiveDeploymentConflict,
    CodeDeployError,
    DeploymentWaitTimeout,
)
from shared.recorder import RecorderService
from shared.trigger.dispatch import TriggerService
from tests.support import moto_codedeploy
from tests.support.faulty_network import faulty_proxy, stalling_server
from tests.support.harness import APP, GROUP, appspec_request, deployment_limit_exceeded
from tests.support.lambda_context import FakeLambdaContext
from tests.support.provision import create_blue_green_group
from tests.support.simulator import HOME_ORIGIN, Step, succeed_after


def with_events(make_harness: Any, dynamodb: Any, **options: Any) -> Any:
    return make_harness(
        deliver=RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN).handle, **options
    )


def revision(content: str) -> dict[str, Any]:
    return {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}}


# --- a replay is only a true duplicate ---------------------------------------------------


def test_a_revert_deploys_again(make_harness: Any, dynamodb: Any, status_table: str) -> None:
    """A -> B -> A within minutes: three deployments, the service ends on A."""
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(20))
    a = appspec_request(revision=revision('{"version": "A"}'))
    b = appspec_request(revision=revision('{"version": "B"}'))

    first = harness.invoke(a)
    second = harness.invoke(b)
    reverted = harness.invoke(a)

    ids = [first["deploymentId"], second["deploymentId"], reverted["deploymentId"]]
    assert len(set(ids)) == 3
    assert len(moto_codedeploy.deployments()) == 3
    assert reverted["status"] == "Succeeded"


def test_a_duplicate_seconds_after_the_end_attaches_without_waiting(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(20))
    first = harness.invoke(appspec_request())
    harness.sleep(2)
    sleeps_before = len(harness.sleeps)

    again = harness.invoke(appspec_request())

    assert again["deploymentId"] == first["deploymentId"]
    assert len(moto_codedeploy.deployments()) == 1
    # A replay is not "just created": its end is read at once, without a single sleep.
    assert len(harness.sleeps) == sleeps_before


def test_an_identical_request_after_the_replay_window_deploys_again(
    make_harness: Any, dynamodb: Any, status_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPLAY_WINDOW_SECONDS", "60")
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(20))
    first = harness.invoke(appspec_request())
    harness.sleep(61)

    again = harness.invoke(appspec_request())

    assert again["deploymentId"] != first["deploymentId"]
    assert again["status"] == "Succeeded"
    assert len(moto_codedeploy.deployments()) == 2


# --- Ready waits for a person ------------------------------------------------------------


def ready_forever(_deployment: Any) -> list[Step]:
    # Blue/green with a manual reroute: Ready until ContinueDeployment (which never comes).
    return [Step(1, "InProgress"), Step(5, "Ready"), Step(10**9, "Succeeded")]


def test_a_deadline_in_ready_says_how_to_continue(
    make_harness: Any, dynamodb: Any, status_table: str, log_lines: Any
) -> None:
    harness = with_events(make_harness, dynamodb, planner=ready_forever)

    with pytest.raises(DeploymentWaitTimeout) as raised:
        harness.invoke(appspec_request(), timeout=120)

    deployment_id = next(iter(moto_codedeploy.deployments()))
    message = str(raised.value)
    assert "last status Ready" in message
    assert (
        f"aws deploy continue-deployment --deployment-id {deployment_id} "
        "--deployment-wait-type READY_WAIT" in message
    )
    assert "raise the function's timeout" not in message
    assert f"deployments/{deployment_id}?region=us-east-1" in message
    ready_lines = [
        line
        for line in log_lines()
        if line.get("status") == "Ready" and line["message"] == "deployment status changed"
    ]
    assert len(ready_lines) == 1, "Ready is logged once, with what it means"
    assert "ContinueDeployment" in ready_lines[0]["meaning"]


def test_waiting_for_an_active_deployment_that_is_ready_fails_at_once(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = with_events(make_harness, dynamodb, planner=ready_forever)
    active = harness.invoke(appspec_request(description="someone else", wait=False))
    harness.sleep(6)  # it is Ready now
    deployment_limit_exceeded(harness.clients.codedeploy_create, active=active["deploymentId"])
    sleeps_before = len(harness.sleeps)

    with pytest.raises(ActiveDeploymentConflict) as raised:
        harness.invoke(appspec_request(onActiveDeployment="wait"))

    assert len(harness.sleeps) == sleeps_before, "no waiting for a deployment that waits"
    message = str(raised.value)
    assert active["deploymentId"] in message
    assert f"continue-deployment --deployment-id {active['deploymentId']}" in message
    assert len(moto_codedeploy.deployments()) == 1


# --- CreateDeployment over a real, faulty network ----------------------------------------


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto over HTTP in this process (its backends stay inspectable), no status table."""
    moto_codedeploy.backend().reset()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    provisioning = boto3.client("codedeploy", region_name="us-east-1", endpoint_url=url)
    create_blue_green_group(provisioning, APP, GROUP)
    try:
        yield url
    finally:
        server.stop()
        moto_codedeploy.backend().reset()


def invoke_through(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, event: dict[str, Any], timeout: float = 900
) -> Any:
    """The production service (its own clients and retry policies) against ``endpoint``."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    aws.reset_clients()
    service = TriggerService(sleep=lambda _seconds: None)
    return service.handle(event, FakeLambdaContext(timeout_seconds=timeout))


@pytest.mark.integration  # moto over HTTP behind a faulty proxy
def test_a_create_that_succeeded_but_lost_its_answer_is_adopted_not_repeated(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore would resend after the dropped connection and deploy twice."""
    with faulty_proxy(moto_server, "CreateDeployment", "lose_response") as proxy:
        result = invoke_through(monkeypatch, proxy, appspec_request(wait=False))

    deployments = moto_codedeploy.deployments()
    assert list(deployments) == [result["deploymentId"]]


@pytest.mark.integration  # moto over HTTP behind a faulty proxy
def test_a_create_whose_outcome_cannot_be_found_fails_clearly_and_is_not_resent(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        faulty_proxy(moto_server, "CreateDeployment", "lose_request") as proxy,
        pytest.raises(CodeDeployError) as raised,
    ):
        invoke_through(monkeypatch, proxy, appspec_request(wait=False))

    assert moto_codedeploy.deployments() == {}
    message = str(raised.value)
    assert "may or may not have started a deployment" in message
    assert f"{APP}/{GROUP}" in message
    assert "apply again" in message


# --- no call outlives the deadline ---------------------------------------------------------


@pytest.mark.integration  # a real socket that never answers, real time
def test_a_stalled_endpoint_cannot_hold_the_function_past_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that accepts and never answers: with 10 attempts of 30 s, one GetDeployment
    used to last minutes; now the call is cut to fit before the margin."""
    monkeypatch.setenv("DEADLINE_MARGIN_SECONDS", "5")
    timeout, margin = 14.0, 5.0
    outcome: dict[str, Any] = {}

    def attach() -> None:
        try:
            outcome["result"] = invoke_through(
                monkeypatch, endpoint, {"deploymentId": "d-STALLED01"}, timeout=timeout
            )
        except Exception as error:  # the assertion below names it
            outcome["error"] = error

    with stalling_server() as endpoint:
        started = time.monotonic()
        worker = threading.Thread(target=attach, daemon=True)
        worker.start()
        worker.join(timeout=60)
        elapsed = time.monotonic() - started

    assert not worker.is_alive(), "the invocation was still blocked after 60 s"
    assert elapsed < timeout - margin + 1, f"returned after {elapsed:.1f}s"
    assert isinstance(outcome.get("error"), CodeDeployError | DeploymentWaitTimeout), outcome


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        (10_000, CODEDEPLOY_POLICIES[0]),
        (100, CallPolicy(5, 3, 10)),
        (9, CallPolicy(2, 1, 3)),
        (3, CallPolicy(1, 1, 2)),
    ],
)
def test_the_ladder_gives_the_most_patient_client_that_fits(
    budget: float, expected: CallPolicy
) -> None:
    made: list[CallPolicy] = []

    def factory(_service: str, *, config: Any) -> Any:
        chosen = next(
            p
            for p in CODEDEPLOY_POLICIES
            if p.read_timeout == config.read_timeout
            and p.max_attempts == config.retries["total_max_attempts"]
        )
        made.append(chosen)
        return chosen

    ladder: ClientLadder[Any] = ClientLadder("codedeploy", CODEDEPLOY_POLICIES, factory)

    assert ladder.within(budget) == expected
    assert expected.worst_case_seconds() <= budget


def test_no_client_fits_a_budget_below_the_briefest_call() -> None:
    ladder: ClientLadder[Any] = ClientLadder("dynamodb", DYNAMODB_POLICIES, lambda *_a, **_k: 0)
    briefest = min(policy.worst_case_seconds() for policy in DYNAMODB_POLICIES)

    with pytest.raises(NoTimeLeft):
        ladder.within(briefest - 0.1)


def test_worst_case_counts_every_attempt_and_botocore_backoff() -> None:
    # 10 attempts of 5 s connect + 30 s read, and backoffs 1, 2, 4, 8, 16, 20, 20, 20, 20.
    assert CallPolicy(10, 5, 30).worst_case_seconds() == 10 * 35 + 111
    assert CallPolicy(1, 1, 2).worst_case_seconds() == 3
