"""Long and staged deployments: ``onDeadline``, ``waitUntil``, ``complete`` and attaching after
the end, on the polling path and on the event path. Time is frozen; sleeps tick it."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from shared.errors import DeploymentFailed, DeploymentWaitTimeout, InvalidInput
from tests.support import moto_codedeploy
from tests.support.harness import appspec_request, counters, event_harness
from tests.support.simulator import Step, fail_after, succeed_after

TIMEOUT = 900.0
MARGIN = 30.0  # DEADLINE_MARGIN_SECONDS default


def _ready_then_succeed(ready_at: float, end_at: float) -> list[Step]:
    return [Step(1, "InProgress"), Step(ready_at, "Ready"), Step(end_at, "Succeeded")]


def _run_until_ended(harness: Any, seconds: float) -> None:
    """Let the simulated deployment(s) run on without anyone waiting."""
    harness.frozen.tick(seconds)
    harness.simulator.advance()


# --- onDeadline ---------------------------------------------------------------------------


def test_on_deadline_return_hands_over_without_raising_or_creating_anything_extra(
    make_harness: Any,
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(2000))
    count = counters(harness)

    result = harness.invoke(appspec_request(onDeadline="return"), timeout=TIMEOUT)

    assert result["complete"] is False
    assert result["milestone"] is None
    assert result["status"] == "InProgress"
    assert result["completedAt"] is None
    # It waited until the deadline guard, not less: within one poll interval of the margin.
    assert TIMEOUT - MARGIN - 15 <= sum(harness.sleeps) <= TIMEOUT - MARGIN
    # One deployment, still running: nothing created again, nothing stopped.
    assert count.calls["CreateDeployment"] == 1
    assert count.calls["StopDeployment"] == 0
    deployments = moto_codedeploy.deployments()
    assert list(deployments) == [result["deploymentId"]]
    assert deployments[result["deploymentId"]].status == "InProgress"


def test_on_deadline_fail_is_the_default(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(2000))

    with pytest.raises(DeploymentWaitTimeout):
        harness.invoke(appspec_request(), timeout=TIMEOUT)


def test_a_chain_of_invocations_waits_for_one_deployment_past_one_invocation(
    make_harness: Any,
) -> None:
    """What examples/terraform/modules/deployment does: create, then attach until complete."""
    harness = make_harness(planner=lambda _d: succeed_after(2000))

    first = harness.invoke(appspec_request(onDeadline="return"), timeout=TIMEOUT)
    link = {"deploymentId": first["deploymentId"], "onDeadline": "return"}
    second = harness.invoke(link, timeout=TIMEOUT)
    third = harness.invoke({**link, "onDeadline": "fail"}, timeout=TIMEOUT)

    assert [r["complete"] for r in (first, second, third)] == [False, False, True]
    assert third["status"] == "Succeeded"
    assert third["milestone"] == "Succeeded"
    assert {r["deploymentId"] for r in (first, second, third)} == {first["deploymentId"]}
    assert len(moto_codedeploy.deployments()) == 1


def test_on_deadline_return_still_fails_when_the_deployment_fails(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: fail_after(300))

    with pytest.raises(DeploymentFailed, match="HEALTH_CONSTRAINTS"):
        harness.invoke(appspec_request(onDeadline="return"), timeout=TIMEOUT)


def _on_last_look(harness: Any, action: Any) -> None:
    """Run ``action`` before the last look: on the polling path the waiter sleeps between two
    GetDeployments, so a second one without a sleep in between is the hand-over's own."""
    sleeps_at_last_get: list[int] = []

    def before_get(**_kwargs: Any) -> None:
        if sleeps_at_last_get and sleeps_at_last_get[-1] == len(harness.sleeps):
            action()
        sleeps_at_last_get.append(len(harness.sleeps))

    harness.clients.codedeploy.meta.events.register(
        "before-call.codedeploy.GetDeployment", before_get
    )


def test_on_deadline_return_answers_complete_when_the_end_comes_inside_the_margin(
    make_harness: Any,
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(TIMEOUT - MARGIN + 10))
    _on_last_look(harness, lambda: _run_until_ended(harness, 15))

    result = harness.invoke(appspec_request(onDeadline="return"), timeout=TIMEOUT)

    assert (result["status"], result["complete"]) == ("Succeeded", True)


def test_on_deadline_return_answers_with_the_last_status_seen_when_the_last_look_fails(
    make_harness: Any,
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(2000))

    refused: list[bool] = []

    def refuse() -> None:
        refused.append(True)
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetDeployment"
        )

    _on_last_look(harness, refuse)

    result = harness.invoke(appspec_request(onDeadline="return"), timeout=TIMEOUT)

    assert (result["status"], result["complete"]) == ("InProgress", False)
    assert result["deploymentId"] in moto_codedeploy.deployments()
    assert refused == [True], "the last look was the one refused"


# --- attaching after the end ----------------------------------------------------------------


def test_attaching_after_the_end_returns_at_once_on_the_polling_path(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(100))
    created = harness.invoke(appspec_request(wait=False))
    _run_until_ended(harness, 200)
    count = counters(harness)

    result = harness.invoke({"deploymentId": created["deploymentId"]})

    assert (result["status"], result["complete"]) == ("Succeeded", True)
    assert harness.sleeps == []
    assert count.calls["GetDeployment"] == 1


@pytest.mark.parametrize("events", ["delivered", "lost"])
def test_attaching_after_the_end_returns_at_once_on_the_event_path(
    make_harness: Any, dynamodb: Any, status_table: str, events: str
) -> None:
    """Whatever the table says (the terminal event, or a stale status because it was lost)."""
    harness = event_harness(
        make_harness,
        dynamodb,
        planner=lambda _d: succeed_after(100),
        drop_event=lambda _e: events == "lost",
    )
    created = harness.invoke(appspec_request(wait=False))
    _run_until_ended(harness, 200)
    count = counters(harness)

    result = harness.invoke({"deploymentId": created["deploymentId"]})

    assert (result["status"], result["complete"]) == ("Succeeded", True)
    assert harness.sleeps == []
    assert count.calls["GetDeployment"] == 1
    assert count.calls["GetItem"] == 1


def test_attaching_after_a_failure_raises_at_once(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: fail_after(100))
    created = harness.invoke(appspec_request(wait=False))
    _run_until_ended(harness, 200)

    with pytest.raises(DeploymentFailed, match=created["deploymentId"]):
        harness.invoke({"deploymentId": created["deploymentId"], "onDeadline": "return"})
    assert harness.sleeps == []


# --- waitUntil ------------------------------------------------------------------------------


def test_wait_until_ready_returns_at_ready(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: _ready_then_succeed(120, 600))

    result = harness.invoke(appspec_request(waitUntil="Ready"))

    assert (result["status"], result["milestone"], result["complete"]) == ("Ready", "Ready", True)
    assert result["completedAt"] is None
    # Returned within one poll interval (15 s) of Ready, long before the end.
    assert 120 <= sum(harness.sleeps) < 120 + 15
    assert moto_codedeploy.deployments()[result["deploymentId"]].status == "Ready"


def test_wait_until_ready_returns_at_ready_on_the_event_path(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = event_harness(
        make_harness, dynamodb, planner=lambda _d: _ready_then_succeed(120, 600)
    )

    result = harness.invoke(appspec_request(waitUntil="Ready"))

    assert (result["status"], result["milestone"], result["detectedBy"]) == (
        "Ready",
        "Ready",
        "event",
    )
    assert 120 <= sum(harness.sleeps) <= 121


def test_wait_until_ready_still_fails_on_failed(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: fail_after(100))

    with pytest.raises(DeploymentFailed, match=r"Failed.*HEALTH_CONSTRAINTS"):
        harness.invoke(appspec_request(waitUntil="Ready"))


def test_wait_until_ready_without_a_ready_phase_returns_at_succeeded(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(100))

    result = harness.invoke(appspec_request(waitUntil="Ready"))

    assert (result["status"], result["milestone"], result["complete"]) == (
        "Succeeded",
        "Succeeded",
        True,
    )


def test_wait_until_succeeded_waits_through_ready(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: _ready_then_succeed(120, 300))

    result = harness.invoke(appspec_request())

    assert (result["status"], result["milestone"], result["complete"]) == (
        "Succeeded",
        "Succeeded",
        True,
    )
    assert sum(harness.sleeps) >= 300


def test_wait_false_is_not_complete_while_the_deployment_runs(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(100))

    result = harness.invoke(appspec_request(wait=False))

    assert (result["status"], result["complete"], result["milestone"]) == ("Created", False, None)


# --- the contract ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (
            {"waitUntil": "Baking"},
            "waitUntil must be one of Succeeded, Ready, TrafficShifted, got 'Baking'",
        ),
        ({"onDeadline": "continue"}, "onDeadline must be one of fail, return, got 'continue'"),
        (
            {"onDeadline": "return", "stopOnTimeout": True},
            'stopOnTimeout cannot be combined with onDeadline "return"',
        ),
    ],
)
def test_bad_control_keys_are_rejected_before_anything_is_created(
    make_harness: Any, overrides: dict[str, Any], fragment: str
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(100))

    with pytest.raises(InvalidInput) as raised:
        harness.invoke(appspec_request(**overrides))

    assert fragment in str(raised.value)
    assert moto_codedeploy.deployments() == {}
