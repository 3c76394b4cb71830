"""The status table: monotonic conditional writes, TTL, and concurrent writers."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.adapters import status_table as attr
from shared.adapters.status_store import StatusStore, StatusUpdate, StoreUnavailable
from shared.status import EVENT_STATE_TO_STATUS, rank, statuses_below
from tests.support.harness import TABLE

NOW = 1_800_000_000.0


def store(client: Any, ttl_days: float = 30) -> StatusStore:
    return StatusStore(TABLE, client, ttl_days=ttl_days, wall_clock=lambda: NOW)


def event(state: str, deployment_id: str = "d-AAAAAAAAA") -> StatusUpdate:
    return StatusUpdate(deployment_id, EVENT_STATE_TO_STATUS[state], "event", event_state=state)


def test_statuses_below_follows_the_lifecycle() -> None:
    assert statuses_below("Created") == []
    assert statuses_below("Ready") == ["Created", "InProgress", "Queued"]
    assert "Baking" not in statuses_below("Ready")  # Baking = Ready
    assert set(statuses_below("Failed")) == {"Created", "Queued", "InProgress", "Baking", "Ready"}
    assert rank("Succeeded") == rank("Failed") == rank("Stopped")


def test_first_write_creates_the_item_with_every_attribute(
    dynamodb: Any, status_table: str
) -> None:
    table = store(dynamodb, ttl_days=2)
    written = table.record(
        StatusUpdate(
            "d-AAAAAAAAA",
            "Succeeded",
            "event",
            event_state="SUCCESS",
            application_name="app",
            deployment_group_name="group",
            completed_at="2027-01-15T08:00:00.000Z",
        )
    )

    item = table.get("d-AAAAAAAAA")
    assert written is True
    assert item is not None
    assert (item.status, item.source, item.event_state) == ("Succeeded", "event", "SUCCESS")
    assert (item.application_name, item.deployment_group_name) == ("app", "group")
    assert item.completed_at == "2027-01-15T08:00:00.000Z"
    assert item.updated_at == item.created_at == "2027-01-15T08:00:00.000Z"
    # expiresAt is epoch seconds for DynamoDB TTL: now + STATUS_TTL_DAYS.
    assert item.expires_at == int(NOW) + 2 * 86_400


def test_a_terminal_status_is_never_overwritten(dynamodb: Any, status_table: str) -> None:
    table = store(dynamodb)
    assert table.record(event("FAILURE"))

    assert table.record(event("SUCCESS")) is False
    assert table.record(event("START")) is False
    assert table.record(StatusUpdate("d-AAAAAAAAA", "Created", "trigger")) is False
    item = table.get("d-AAAAAAAAA")
    assert item is not None and item.status == "Failed"


def test_created_by_the_trigger_keeps_application_and_group(
    dynamodb: Any, status_table: str
) -> None:
    table = store(dynamodb)
    table.record(
        StatusUpdate(
            "d-AAAAAAAAA",
            "Created",
            "trigger",
            application_name="a",
            deployment_group_name="g",
            created_at="2026-01-01T00:00:00.000Z",
        )
    )
    table.record(event("SUCCESS"))

    item = table.get("d-AAAAAAAAA")
    assert item is not None
    assert (item.status, item.application_name, item.deployment_group_name) == (
        "Succeeded",
        "a",
        "g",
    )
    assert item.created_at == "2026-01-01T00:00:00.000Z"


def test_every_order_and_duplication_ends_succeeded(dynamodb: Any, status_table: str) -> None:
    table = store(dynamodb)
    sequences = [
        list(order) + list(extra)
        for order in itertools.permutations(["START", "READY", "SUCCESS"])
        for extra in ([], ["START"], ["SUCCESS", "READY"], ["READY", "START", "SUCCESS"])
    ]
    for number, states in enumerate(sequences):
        deployment_id = f"d-ORDER{number:04d}"
        for state in states:
            table.record(event(state, deployment_id))

        item = table.get(deployment_id)
        assert item is not None and item.status == "Succeeded", states


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    states=st.lists(
        st.sampled_from(["START", "READY", "SUCCESS", "FAILURE", "STOP"]), min_size=1, max_size=8
    )
)
def test_stored_status_is_the_highest_ranked_first_arrival(
    dynamodb: Any, status_table: str, states: list[str]
) -> None:
    deployment_id = f"d-{abs(hash(tuple(states))) % 10**9:09d}"
    table = store(dynamodb)
    for state in states:
        table.record(event(state, deployment_id))

    statuses = [EVENT_STATE_TO_STATUS[state] for state in states]
    top = max(rank(status) for status in statuses)
    expected = next(status for status in statuses if rank(status) == top)
    item = table.get(deployment_id)
    assert item is not None and item.status == expected


def test_recorder_and_trigger_racing_leave_the_terminal_status(
    dynamodb: Any, status_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from moto.dynamodb.models import DynamoDBBackend

    # DynamoDB applies writes to one item one at a time, each with its condition;
    # moto's in-memory backend does not lock, so give it the serialisation it lacks.
    lock = threading.Lock()
    original = DynamoDBBackend.update_item

    def serialised(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", serialised)

    for round_number in range(5):
        deployment_id = f"d-RACE{round_number:05d}"
        barrier = threading.Barrier(3)

        def write(update: StatusUpdate, barrier: threading.Barrier = barrier) -> None:
            client = boto3.client("dynamodb", region_name="us-east-1")
            barrier.wait()
            store(client).record(update)

        writers = [
            threading.Thread(
                target=write, args=(StatusUpdate(deployment_id, "Created", "trigger"),)
            ),
            threading.Thread(target=write, args=(event("SUCCESS", deployment_id),)),
            threading.Thread(
                target=write, args=(StatusUpdate(deployment_id, "InProgress", "api"),)
            ),
        ]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()

        item = store(dynamodb).get(deployment_id)
        assert item is not None and item.status == "Succeeded", round_number


def test_a_missing_table_is_reported_as_unavailable(dynamodb: Any) -> None:
    with pytest.raises(StoreUnavailable, match="ResourceNotFoundException"):
        store(dynamodb).get("d-AAAAAAAAA")
    with pytest.raises(StoreUnavailable, match="UpdateItem"):
        store(dynamodb).record(event("START"))


def test_an_item_enters_the_group_index_once_both_names_are_known(
    dynamodb: Any, status_table: str
) -> None:
    table = store(dynamodb)
    table.record(event("START"))  # an event without application/deploymentGroup
    assert table.group_history("a", "g", limit=1) == []
    raw = dynamodb.get_item(TableName=TABLE, Key={attr.DEPLOYMENT_ID: {"S": "d-AAAAAAAAA"}})
    assert attr.DEPLOYMENT_GROUP_KEY not in raw["Item"]

    table.record(
        StatusUpdate(
            "d-AAAAAAAAA",
            "Succeeded",
            "api",
            application_name="a",
            deployment_group_name="g",
            created_at="2026-01-01T00:00:00.000Z",
            completed_at="2026-01-01T00:05:00.000Z",
        )
    )

    raw = dynamodb.get_item(TableName=TABLE, Key={attr.DEPLOYMENT_ID: {"S": "d-AAAAAAAAA"}})
    assert raw["Item"][attr.DEPLOYMENT_GROUP_KEY] == {"S": "a/g"}
    [latest] = table.group_history("a", "g", limit=1)
    # The first write's createdAt stays (the event's, here: the store's clock).
    assert (latest.deployment_id, latest.status, latest.source) == (
        "d-AAAAAAAAA",
        "Succeeded",
        "api",
    )
    assert latest.created_at == "2027-01-15T08:00:00.000Z"
    assert latest.completed_at == "2026-01-01T00:05:00.000Z"
    # Only what the index projects: no application name on an index entry.
    assert latest.application_name is None
    assert table.group_history("a", "other", limit=1) == []
    assert table.group_history("a", "g", limit=5) == [latest]


def test_a_query_failure_is_reported_as_unavailable_with_its_code(dynamodb: Any) -> None:
    with pytest.raises(StoreUnavailable, match=r"Query on .* \(index byGroup\)") as raised:
        store(dynamodb).group_history("a", "g", limit=1)
    assert raised.value.code == "ResourceNotFoundException"
