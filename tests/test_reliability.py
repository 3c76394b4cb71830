"""Reliability: one deployment per request, active-deployment conflicts, stop on timeout,
retries and faults, and property tests over the deadline guard and event chaos."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.codedeploy.models import CodeDeployBackend
from moto.core.exceptions import JsonRESTError

from shared.adapters.idempotency import DeploymentDeduplicator, DuplicateInProgress
from shared.adapters.status_store import StatusStore
from shared.errors import ActiveDeploymentConflict, DeploymentFailed, DeploymentWaitTimeout
from shared.recorder import RecorderService
from tests.support import moto_codedeploy
from tests.support.harness import (
    ACTIVE_ID,
    TABLE,
    appspec_request,
    deployment_limit_exceeded,
    stub_stop_deployment,
)
from tests.support.simulator import HOME_ORIGIN, Step, fail_after, stop_after, succeed_after

PROPERTY = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def with_events(make_harness: Any, dynamodb: Any, **options: Any) -> Any:
    return make_harness(
        deliver=RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN).handle, **options
    )


# --- one deployment per request -------------------------------------------------------


def test_a_duplicate_after_success_returns_the_same_deployment(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(30))
    first = harness.invoke(appspec_request(tf={"action": "create", "prev_input": None}))

    again = harness.invoke(appspec_request(tf={"action": "create", "prev_input": None}))

    assert again["deploymentId"] == first["deploymentId"]
    assert again["status"] == first["status"] == "Succeeded"
    assert len(moto_codedeploy.deployments()) == 1


def test_a_duplicate_while_the_first_is_still_waiting_attaches(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(200))
    with pytest.raises(DeploymentWaitTimeout):
        harness.invoke(appspec_request(), timeout=60)  # the first gives up, still running

    again = harness.invoke(appspec_request())

    assert again["status"] == "Succeeded"
    assert len(moto_codedeploy.deployments()) == 1


def test_a_duplicate_during_create_waits_for_the_record_then_attaches(
    make_harness: Any, dynamodb: Any, status_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(20))
    first = harness.invoke(appspec_request(wait=False))
    original = DeploymentDeduplicator.create_once
    busy = {"times": 2}

    def in_progress_twice(self: Any, payload: Any, create: Any) -> Any:
        if busy["times"]:
            busy["times"] -= 1
            raise DuplicateInProgress("another invocation is creating it")
        return original(self, payload, create)

    monkeypatch.setattr(DeploymentDeduplicator, "create_once", in_progress_twice)

    again = harness.invoke(appspec_request(wait=False))

    assert again["deploymentId"] == first["deploymentId"]
    assert harness.sleeps[-2:] == [1.0, 1.0]
    assert len(moto_codedeploy.deployments()) == 1


def test_a_retry_after_a_failed_deployment_deploys_again(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    plans = iter([fail_after(20), succeed_after(20)])
    harness = with_events(make_harness, dynamodb, planner=lambda _d: next(plans))
    with pytest.raises(DeploymentFailed):
        harness.invoke(appspec_request())

    retried = harness.invoke(appspec_request())

    assert retried["status"] == "Succeeded"
    assert len(moto_codedeploy.deployments()) == 2


def test_a_duplicate_of_a_request_whose_deployment_failed_later_deploys_again(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    """The first invocation timed out, so it never saw the failure nor cleared the record."""
    plans = iter([stop_after(100), succeed_after(20)])
    harness = with_events(make_harness, dynamodb, planner=lambda _d: next(plans))
    with pytest.raises(DeploymentWaitTimeout):
        harness.invoke(appspec_request(), timeout=50)
    harness.sleep(100)

    retried = harness.invoke(appspec_request())

    assert retried["status"] == "Succeeded"
    assert len(moto_codedeploy.deployments()) == 2


def test_different_requests_are_not_deduplicated(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(10))
    harness.invoke(appspec_request(description="one"))
    harness.invoke(appspec_request(description="two"))
    assert len(moto_codedeploy.deployments()) == 2


def test_without_a_table_duplicates_are_not_detected(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(10))
    harness.invoke(appspec_request())
    harness.invoke(appspec_request())
    assert len(moto_codedeploy.deployments()) == 2


def test_idempotency_records_expire_with_the_table_ttl(
    make_harness: Any, dynamodb: Any, status_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEMPOTENCY_TTL_SECONDS", "120")
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(10))
    harness.invoke(appspec_request())

    records = [
        item
        for item in dynamodb.scan(TableName=TABLE)["Items"]
        if item["deploymentId"]["S"].startswith("codedeploy-trigger:create#")
    ]
    assert len(records) == 1
    assert records[0]["idempotencyStatus"]["S"] == "COMPLETED"
    assert "expiresAt" in records[0]
    harness.sleep(121)  # past the TTL, an identical request deploys again
    harness.invoke(appspec_request())
    assert len(moto_codedeploy.deployments()) == 2


# --- active deployment in the group ----------------------------------------------------


def test_an_active_deployment_fails_by_default_naming_it(make_harness: Any) -> None:
    harness = make_harness()
    deployment_limit_exceeded(harness.clients.codedeploy_create)

    with pytest.raises(ActiveDeploymentConflict) as raised:
        harness.invoke(appspec_request())

    assert ACTIVE_ID in str(raised.value)
    assert "onActiveDeployment" in str(raised.value)
    assert moto_codedeploy.deployments() == {}


def test_on_active_deployment_wait_waits_then_creates(make_harness: Any, codedeploy: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(40))
    active = harness.invoke(appspec_request(description="someone else", wait=False))
    deployment_limit_exceeded(harness.clients.codedeploy_create, active=active["deploymentId"])

    result = harness.invoke(appspec_request(onActiveDeployment="wait"))

    assert result["status"] == "Succeeded"
    assert result["deploymentId"] != active["deploymentId"]
    assert moto_codedeploy.deployments()[active["deploymentId"]].status == "Succeeded"
    assert len(moto_codedeploy.deployments()) == 2


def test_on_active_deployment_wait_without_an_id_retries_after_a_poll_interval(
    make_harness: Any,
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(10))
    calls = deployment_limit_exceeded(harness.clients.codedeploy_create, times=2, active="someone")

    result = harness.invoke(appspec_request(onActiveDeployment="wait"))

    assert result["status"] == "Succeeded"
    assert calls[0] == 3
    assert harness.sleeps[:2] == [15.0, 15.0]


# --- stop on timeout -------------------------------------------------------------------


def test_stop_on_timeout_stops_with_rollback_and_says_so(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(10_000))
    calls = stub_stop_deployment(harness.clients.codedeploy)

    with pytest.raises(DeploymentWaitTimeout) as raised:
        harness.invoke(appspec_request(stopOnTimeout=True), timeout=100)

    deployment_id = next(iter(moto_codedeploy.deployments()))
    assert calls == [{"deploymentId": deployment_id, "autoRollbackEnabled": True}]
    assert "StopDeployment was called with autoRollbackEnabled=true" in str(raised.value)


def test_without_stop_on_timeout_nothing_is_stopped(make_harness: Any) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(10_000))
    calls = stub_stop_deployment(harness.clients.codedeploy)

    with pytest.raises(DeploymentWaitTimeout, match="keeps running"):
        harness.invoke(appspec_request(), timeout=100)

    assert calls == []


# --- CodeDeploy throttling and 5xx -------------------------------------------------------


class _HttpError(JsonRESTError):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code, "Rate exceeded" if "Throttl" in code else "We had a problem")
        self.code = status


def fail_backend_calls(
    monkeypatch: pytest.MonkeyPatch, operation: str, errors: list[tuple[int, str]]
) -> list[int]:
    """Make moto's CodeDeploy answer the next calls with these HTTP errors, so botocore's
    own retry handler sees them exactly as it would see AWS's."""
    pending = list(errors)
    calls = [0]
    original = getattr(CodeDeployBackend, operation)

    def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if pending:
            raise _HttpError(*pending.pop(0))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CodeDeployBackend, operation, flaky)
    return calls


@pytest.fixture
def no_backoff_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore sleeps between retries; record the delays instead of spending them."""
    import botocore.endpoint

    delays: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", delays.append)
    return delays


def test_codedeploy_throttling_five_times_in_a_row_is_retried(
    make_harness: Any, no_backoff_sleep: list[float]
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(20))
    monkeypatch = pytest.MonkeyPatch()
    calls = fail_backend_calls(monkeypatch, "create_deployment", [(400, "ThrottlingException")] * 5)
    try:
        result = harness.invoke(appspec_request())
    finally:
        monkeypatch.undo()

    assert result["status"] == "Succeeded"
    assert len(moto_codedeploy.deployments()) == 1
    assert calls[0] == 6
    # The trigger, not botocore, retried CreateDeployment: botocore never resends it,
    # and the trigger backed off (with jitter, capped) before each of the 5 retries.
    assert no_backoff_sleep == []
    backoffs = harness.sleeps[:5]
    assert len(backoffs) == 5
    assert all(0 <= delay <= min(20, 2**n) for n, delay in enumerate(backoffs, start=1))


def test_transient_5xx_is_retried(make_harness: Any, no_backoff_sleep: list[float]) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(20))
    harness.invoke(appspec_request(wait=False))
    monkeypatch = pytest.MonkeyPatch()
    calls = fail_backend_calls(
        monkeypatch, "get_deployment", [(500, "InternalFailure"), (503, "ServiceUnavailable")]
    )
    try:
        result = harness.invoke({"deploymentId": next(iter(moto_codedeploy.deployments()))})
    finally:
        monkeypatch.undo()

    assert result["status"] == "Succeeded"
    assert calls[0] >= 3
    assert len(no_backoff_sleep) == 2


# --- DynamoDB faults in the middle of a wait -------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "InternalServerError", "AccessDeniedException"],
)
def test_dynamodb_faults_mid_wait_switch_to_polling(
    make_harness: Any, dynamodb: Any, status_table: str, code: str
) -> None:
    harness = with_events(make_harness, dynamodb, planner=lambda _d: succeed_after(90))
    reads = harness.faults.on(
        "dynamodb", "GetItem", error_code=code, message="fault", after=5, times=None
    )

    result = harness.invoke(appspec_request())

    assert (result["status"], result["detectedBy"]) == ("Succeeded", "poll")
    assert reads.calls == 6


# --- property tests --------------------------------------------------------------------


@PROPERTY
@given(
    timeout=st.floats(min_value=1, max_value=400),
    margin=st.floats(min_value=0.5, max_value=120),
    poll=st.floats(min_value=0.5, max_value=120),
    read=st.floats(min_value=1, max_value=10),
    fallback=st.floats(min_value=1, max_value=200),
    use_table=st.booleans(),
)
def test_the_deadline_guard_holds_for_any_time_and_intervals(
    make_harness: Any,
    dynamodb: Any,
    status_table: str,
    monkeypatch: pytest.MonkeyPatch,
    timeout: float,
    margin: float,
    poll: float,
    read: float,
    fallback: float,
    use_table: bool,
) -> None:
    monkeypatch.setenv("DEADLINE_MARGIN_SECONDS", repr(margin))
    monkeypatch.setenv("POLL_INTERVAL_SECONDS", repr(poll))
    monkeypatch.setenv("STATUS_READ_INTERVAL_SECONDS", repr(read))
    monkeypatch.setenv("STATUS_READ_MAX_INTERVAL_SECONDS", repr(read * 4))
    monkeypatch.setenv("FALLBACK_POLL_INTERVAL_SECONDS", repr(fallback))
    monkeypatch.setenv("FALLBACK_POLL_MAX_INTERVAL_SECONDS", repr(fallback * 5))
    if use_table:
        monkeypatch.setenv("STATUS_TABLE_NAME", TABLE)
    else:
        monkeypatch.delenv("STATUS_TABLE_NAME", raising=False)
    long_plan = {"planner": lambda _d: succeed_after(10_000)}
    harness = (
        with_events(make_harness, dynamodb, **long_plan) if use_table else make_harness(**long_plan)
    )

    with pytest.raises(DeploymentWaitTimeout):
        harness.invoke(appspec_request(description=str(uuid.uuid4())), timeout=timeout)

    # Never slept into the margin: Lambda can not have killed the function mid-wait.
    assert sum(harness.sleeps) <= max(0.0, timeout - margin) + 1e-6


@PROPERTY
@given(
    final=st.sampled_from(["Succeeded", "Failed", "Stopped"]),
    duration=st.floats(min_value=5, max_value=150),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    loss=st.sampled_from([0.0, 0.3, 1.0]),
    duplicate=st.sampled_from([0.0, 0.5]),
    max_delay=st.sampled_from([0.1, 5.0, 120.0]),
)
def test_event_chaos_never_changes_the_outcome(
    make_harness: Any,
    dynamodb: Any,
    status_table: str,
    final: str,
    duration: float,
    seed: int,
    loss: float,
    duplicate: float,
    max_delay: float,
) -> None:
    """Dropped, duplicated and reordered events plus fallback polls: the table and the
    trigger's result always end on CodeDeploy's final status."""
    chance = random.Random(seed)
    recorder = RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN)

    def deliver(event: dict[str, Any]) -> None:
        for _ in range(2 if chance.random() < duplicate else 1):
            recorder.handle(event)

    steps = [Step(1, "InProgress"), Step(duration / 2, "Ready"), Step(duration, final)]
    harness = make_harness(
        planner=lambda _d: steps,
        deliver=deliver,
        drop_event=lambda _e: chance.random() < loss,
        event_delay=lambda: chance.uniform(0, max_delay),
    )

    try:
        # A unique payload: an identical one would (rightly) attach to an earlier example's.
        result = harness.invoke(appspec_request(description=f"chaos {uuid.uuid4()}"))
        seen = result["status"]
        deployment_id = result["deploymentId"]
    except DeploymentFailed as failed:
        seen = final if f" {final} " in str(failed) else "?"
        deployment_id = str(failed).split()[2]
    harness.sleep(max_delay + 1)  # let late events land: they must not move the status

    assert seen == final
    item = StatusStore(TABLE, dynamodb).get(deployment_id)
    assert item is not None and item.status == final
