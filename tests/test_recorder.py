"""The recorder: CodeDeploy state-change events into the status table."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from handlers import recorder
from shared.adapters.clients import FixedClients
from shared.adapters.status_store import StatusStore, StoreUnavailable
from shared.errors import ConfigurationError
from shared.recorder import RecorderService, parse_event
from tests.support.events import codedeploy_event
from tests.support.harness import TABLE
from tests.support.lambda_context import FakeLambdaContext
from tests.support.simulator import HOME_ORIGIN


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("START", "InProgress"),
        ("READY", "Ready"),
        ("SUCCESS", "Succeeded"),
        ("FAILURE", "Failed"),
        ("STOP", "Stopped"),
    ],
)
def test_state_maps_to_status(state: str, status: str) -> None:
    update = parse_event(codedeploy_event(state))
    assert update is not None
    assert (update.status, update.event_state, update.source) == (status, state, "event")


def test_terminal_event_time_becomes_completed_at() -> None:
    update = parse_event(codedeploy_event("SUCCESS"))
    assert update is not None and update.completed_at == "2026-05-09T10:05:30.000Z"
    start = parse_event(codedeploy_event("START"))
    assert start is not None and start.completed_at is None


def test_a_deployment_known_only_from_events_is_dated_by_its_first_event(
    dynamodb: Any, status_table: str
) -> None:
    service = RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN)
    service.handle(codedeploy_event("START"))
    service.handle({**codedeploy_event("SUCCESS"), "time": "2026-05-09T10:09:00Z"})

    history = StatusStore(TABLE, dynamodb).group_history("app", "group", limit=10)

    assert [(r.deployment_id, r.status) for r in history] == [("d-ABCDEFGHI", "Succeeded")]
    assert history[0].created_at == "2026-05-09T10:05:30.000Z"
    assert history[0].completed_at == "2026-05-09T10:09:00.000Z"


def test_handler_writes_the_status(dynamodb: Any, status_table: str) -> None:
    result = recorder.lambda_handler(codedeploy_event("SUCCESS"), FakeLambdaContext())

    item = StatusStore(TABLE, dynamodb).get("d-ABCDEFGHI")
    assert result == {"outcome": "recorded", "deploymentId": "d-ABCDEFGHI", "status": "Succeeded"}
    assert item is not None
    assert (item.status, item.source, item.event_state) == ("Succeeded", "event", "SUCCESS")
    assert (item.application_name, item.deployment_group_name) == ("app", "group")


def test_duplicate_delivery_is_harmless(dynamodb: Any, status_table: str) -> None:
    service = RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN)
    assert service.handle(codedeploy_event("SUCCESS"))["outcome"] == "recorded"
    assert service.handle(codedeploy_event("SUCCESS"))["outcome"] == "superseded"
    assert service.handle(codedeploy_event("START"))["outcome"] == "superseded"
    item = StatusStore(TABLE, dynamodb).get("d-ABCDEFGHI")
    assert item is not None and item.status == "Succeeded"


@pytest.mark.parametrize(
    "event",
    [
        {**codedeploy_event(), "detail-type": "CodeDeploy Instance State-change Notification"},
        {**codedeploy_event(), "source": "aws.ecs"},
        {"source": "aws.codedeploy"},
    ],
    ids=["instance-event", "other-source", "no-detail-type"],
)
def test_other_events_are_ignored_without_a_write(
    dynamodb: Any, status_table: str, event: dict[str, Any], log_lines: Any
) -> None:
    result = RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN).handle(event)

    assert result == {"outcome": "ignored"}
    assert dynamodb.scan(TableName=TABLE)["Items"] == []
    assert any("ignored" in line["message"] for line in log_lines())


@pytest.mark.parametrize(
    "event",
    [
        codedeploy_event(deploymentId=None),
        codedeploy_event("EXPLODED"),
        codedeploy_event(None),
        {**codedeploy_event(), "detail": "not-an-object"},
        ["not", "an", "object"],
    ],
    ids=["no-deployment-id", "unknown-state", "no-state", "detail-not-object", "not-an-object"],
)
def test_poison_events_are_logged_not_raised(
    dynamodb: Any, status_table: str, event: Any, log_lines: Any
) -> None:
    result = RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN).handle(event)

    assert result == {"outcome": "malformed"}
    assert dynamodb.scan(TableName=TABLE)["Items"] == []
    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert errors
    if isinstance(event, dict):
        assert errors[0]["eventId"] == "event-1"


def test_without_status_table_name_the_recorder_names_the_variable(moto: None) -> None:
    with pytest.raises(ConfigurationError, match="STATUS_TABLE_NAME"):
        recorder.lambda_handler(codedeploy_event(), FakeLambdaContext())


def test_a_dynamodb_failure_raises_so_the_delivery_is_retried(
    dynamodb: Any, status_table: str
) -> None:
    """First delivery hits a throttled table and raises; EventBridge's retry records it."""
    calls = {"n": 0}

    def throttle_once(**_kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ProvisionedThroughputExceededException",
                        "Message": "slow down",
                    }
                },
                "UpdateItem",
            )

    dynamodb.meta.events.register("before-call.dynamodb.UpdateItem", throttle_once)
    service = RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN)

    with pytest.raises(StoreUnavailable, match="ProvisionedThroughputExceeded"):
        service.handle(codedeploy_event("SUCCESS"))
    assert StatusStore(TABLE, dynamodb).get("d-ABCDEFGHI") is None

    assert service.handle(codedeploy_event("SUCCESS"))["outcome"] == "recorded"
    item = StatusStore(TABLE, dynamodb).get("d-ABCDEFGHI")
    assert item is not None and item.status == "Succeeded"


def test_the_recorder_takes_its_client_from_the_seam(dynamodb: Any, status_table: str) -> None:
    """``RecorderService(clients)``: the write goes through the client the seam hands out
    (a botocore hook on it sees the UpdateItem)."""
    seen: list[str] = []
    dynamodb.meta.events.register(
        "before-call.dynamodb.UpdateItem", lambda **_: seen.append("UpdateItem")
    )
    service = RecorderService(FixedClients(boto3.client("codedeploy"), dynamodb), home=HOME_ORIGIN)

    result = service.handle(codedeploy_event("SUCCESS"))

    assert result["outcome"] == "recorded"
    assert seen == ["UpdateItem"]
    record = StatusStore(TABLE, dynamodb).get("d-ABCDEFGHI")
    assert record is not None and record.status == "Succeeded"
