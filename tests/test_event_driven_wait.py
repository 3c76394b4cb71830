"""The trigger waiting on the status table, its GetDeployment safety net, and degradation."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.adapters.status_store import StatusStore
from shared.errors import DeploymentFailed
from tests.support.harness import APP, GROUP, TABLE, appspec_request, counters, event_harness
from tests.support.provision import create_status_table, record_past_successes
from tests.support.simulator import fail_after, succeed_after


def test_the_end_is_seen_through_the_event_within_the_read_interval(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = event_harness(
        make_harness, dynamodb, planner=lambda _d: succeed_after(300), event_delay=lambda: 0.7
    )
    count = counters(harness)

    result = harness.invoke(appspec_request())

    deployment_id = result["deploymentId"]
    returned = time.monotonic()
    assert result["status"] == "Succeeded"
    assert result["detectedBy"] == "event"
    # Returned within STATUS_READ_INTERVAL_SECONDS (1) + 0.5 s of the terminal event.
    assert returned - harness.simulator.terminal_deliveries[deployment_id] <= 1 + 0.5
    assert returned - harness.simulator.terminal_events[deployment_id] <= 0.7 + 1 + 0.5
    # Fallback polls back off once events flow: at 60 s and 180 s, plus one fill-in; the
    # group's clock comes from the first of them (no GetDeployment of its own).
    assert count.calls["GetDeployment"] <= 300 // 60 + 1
    assert count.calls["GetDeployment"] == 3
    assert "GetDeploymentGroup" not in count.calls
    assert count.calls["CreateDeployment"] == 1
    assert result["completedAt"] is not None


def test_a_lost_terminal_event_costs_at_most_one_fallback_interval(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = event_harness(
        make_harness, dynamodb, planner=lambda _d: succeed_after(100), drop_event=lambda _e: True
    )
    count = counters(harness)

    result = harness.invoke(appspec_request())

    lag = time.monotonic() - harness.simulator.terminal_events[result["deploymentId"]]
    assert result["status"] == "Succeeded"
    assert result["detectedBy"] == "poll"
    assert lag <= 60
    # At 60 s and 120 s: no events, no back-off (the group's clock reads the first answer).
    assert count.calls["GetDeployment"] == 2
    item = StatusStore(TABLE, dynamodb).get(result["deploymentId"])
    assert item is not None
    assert (item.status, item.source) == ("Succeeded", "api")  # the poll shared what it learned


def test_failure_seen_through_the_event_raises_with_details(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    from shared.errors import DeploymentFailed

    harness = event_harness(make_harness, dynamodb, planner=lambda _d: fail_after(45))

    with pytest.raises(DeploymentFailed, match=r"Failed.*HEALTH_CONSTRAINTS.*d-ROLLBACK1"):
        harness.invoke(appspec_request())


def test_the_trigger_records_created_for_fire_and_forget_callers(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = event_harness(make_harness, dynamodb)

    result = harness.invoke(appspec_request(wait=False))

    item = StatusStore(TABLE, dynamodb).get(result["deploymentId"])
    assert item is not None
    assert (item.status, item.source) == ("Created", "trigger")
    assert (item.application_name, item.deployment_group_name) == (APP, GROUP)


def test_attach_reads_the_table_first(make_harness: Any, dynamodb: Any, status_table: str) -> None:
    harness = event_harness(make_harness, dynamodb, planner=lambda _d: succeed_after(10))
    created = harness.invoke(appspec_request(wait=False))
    harness.sleep(30)
    count = counters(harness)

    result = harness.invoke({"deploymentId": created["deploymentId"]})

    assert result["status"] == "Succeeded"
    assert result["detectedBy"] == "event"
    # The table first; one GetDeployment for the details; the success's lifecycle timeline.
    assert count.order == [
        "GetItem",
        "GetDeployment",
        "ListDeploymentTargets",
        "BatchGetDeploymentTargets",
    ]


def test_a_missing_table_degrades_to_polling_with_one_warning(
    make_harness: Any, codedeploy: Any, monkeypatch: Any, log_lines: Any
) -> None:
    monkeypatch.setenv("STATUS_TABLE_NAME", "no-such-table")
    harness = make_harness(planner=lambda _d: succeed_after(40))

    result = harness.invoke(appspec_request())

    assert result["status"] == "Succeeded"
    assert result["detectedBy"] == "poll"
    warnings = [line for line in log_lines() if line["level"] == "WARNING"]
    assert len(warnings) == 1
    assert "ResourceNotFoundException" in warnings[0]["reason"]
    assert set(harness.sleeps) == {15.0}


def test_access_denied_in_the_middle_of_a_wait_switches_to_polling(
    make_harness: Any, dynamodb: Any, status_table: str, log_lines: Any
) -> None:
    harness = event_harness(make_harness, dynamodb, planner=lambda _d: succeed_after(200))
    reads = harness.faults.on(
        "dynamodb",
        "GetItem",
        error_code="AccessDeniedException",
        message="not authorized",
        after=10,
        times=None,
    )

    result = harness.invoke(appspec_request())

    assert result["status"] == "Succeeded"
    assert result["detectedBy"] == "poll"
    assert reads.calls == 11
    warnings = [line for line in log_lines() if line["level"] == "WARNING"]
    assert len(warnings) == 1 and "AccessDeniedException" in warnings[0]["reason"]


def test_throttled_table_degrades_too(make_harness: Any, dynamodb: Any, status_table: str) -> None:
    harness = event_harness(make_harness, dynamodb, planner=lambda _d: succeed_after(50))
    harness.faults.on(
        "dynamodb",
        "GetItem",
        error_code="ProvisionedThroughputExceededException",
        message="slow",
        times=None,
    )

    result = harness.invoke(appspec_request())

    assert (result["status"], result["detectedBy"]) == ("Succeeded", "poll")


def test_the_deadline_guard_holds_on_the_store_path(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    from shared.errors import DeploymentWaitTimeout

    harness = event_harness(make_harness, dynamodb, planner=lambda _d: succeed_after(5000))

    with pytest.raises(DeploymentWaitTimeout, match="keeps running"):
        harness.invoke(appspec_request(), timeout=100)

    assert sum(harness.sleeps) <= 100 - 30


def test_a_group_with_history_is_read_fast_near_its_usual_end(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    record_past_successes(dynamodb, TABLE, APP, GROUP, (300.0, 310.0, 295.0, 305.0, 290.0))
    harness = event_harness(
        make_harness, dynamodb, planner=lambda _d: succeed_after(300), event_delay=lambda: 0.7
    )
    count = counters(harness)

    result = harness.invoke(appspec_request())

    returned = time.monotonic()
    assert result["status"] == "Succeeded"
    assert result["detectedBy"] == "event"
    # Read every ~0.1 s near the usual end (shared/trigger/read_cadence.py), not every 1 s...
    assert returned - harness.simulator.terminal_deliveries[result["deploymentId"]] <= 0.25
    # ...and yet fewer reads than the fixed 1 s cadence's ~300, plus one Query for history.
    assert count.calls["GetItem"] < 300
    assert count.calls["Query"] == 1


def test_a_first_deployment_reads_every_second(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = event_harness(make_harness, dynamodb, planner=lambda _d: succeed_after(120))
    count = counters(harness)

    harness.invoke(appspec_request())

    # Nothing to learn from: one read a second for 120 s, the fixed cadence.
    assert count.calls["Query"] == 1
    assert 119 <= count.calls["GetItem"] <= 122


def test_failures_and_the_running_deployment_are_no_history(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    """Only successes count: a failure can end at any time."""
    first = event_harness(make_harness, dynamodb, planner=lambda _d: fail_after(300))
    with pytest.raises(DeploymentFailed):
        first.invoke(appspec_request(description="fails"))
    record_past_successes(dynamodb, TABLE, APP, GROUP, (300.0,))  # one is not a history
    harness = event_harness(make_harness, dynamodb, planner=lambda _d: succeed_after(120))
    count = counters(harness)

    harness.invoke(appspec_request())

    assert 119 <= count.calls["GetItem"] <= 122


def test_a_table_without_the_group_index_keeps_the_fixed_cadence(
    make_harness: Any, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table made by an older module has no byGroup index: no history, no degradation."""
    create_status_table(dynamodb, TABLE, with_group_index=False)
    monkeypatch.setenv("STATUS_TABLE_NAME", TABLE)
    harness = event_harness(make_harness, dynamodb, planner=lambda _d: succeed_after(60))
    count = counters(harness)

    result = harness.invoke(appspec_request())

    assert result["detectedBy"] == "event"
    assert 59 <= count.calls["GetItem"] <= 62
