"""The trigger's history query: a deployment group's deployments, newest first, table only."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from handlers import trigger
from shared.adapters import status_table as attr
from shared.adapters.codedeploy import CodeDeployGateway
from shared.adapters.status_store import StatusStore, StatusUpdate
from shared.errors import ConfigurationError, InvalidInput, StatusTableUnavailable
from shared.recorder import RecorderService
from shared.trigger.dispatch import TriggerService
from tests.support.harness import APP, GROUP, TABLE, CallCounter, appspec_request
from tests.support.lambda_context import FakeLambdaContext
from tests.support.provision import create_blue_green_group
from tests.support.simulator import HOME_ORIGIN, succeed_after

OTHER_GROUP = "other-group"


def history(group: str = GROUP, **options: Any) -> dict[str, Any]:
    return {"history": {"applicationName": APP, "deploymentGroupName": group, **options}}


def record(
    dynamodb: Any, deployment_id: str, created_at: str, *, group: str = GROUP, **fields: Any
) -> None:
    StatusStore(TABLE, dynamodb).record(
        StatusUpdate(
            deployment_id,
            fields.pop("status", "Succeeded"),
            fields.pop("source", "event"),
            application_name=APP,
            deployment_group_name=group,
            created_at=created_at,
            **fields,
        )
    )


def items(dynamodb: Any) -> list[dict[str, Any]]:
    return sorted(
        dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"],
        key=lambda item: item[attr.DEPLOYMENT_ID]["S"],
    )


class QueryService:
    """A trigger whose every AWS call is counted: a CodeDeploy call would show up too."""

    def __init__(self, dynamodb: Any) -> None:
        codedeploy = boto3.client("codedeploy", region_name="us-east-1")
        self.service = TriggerService(
            codedeploy=CodeDeployGateway(codedeploy), dynamodb_client=dynamodb
        )
        self.calls = CallCounter(codedeploy, dynamodb)

    def ask(self, event: Any) -> dict[str, Any]:
        return dict(self.service.handle(event, FakeLambdaContext()))


def test_trigger_and_event_only_deployments_both_appear_newest_first(
    make_harness: Any, dynamodb: Any, codedeploy: Any, status_table: str
) -> None:
    recorder = RecorderService(dynamodb_client=dynamodb, home=HOME_ORIGIN)
    harness = make_harness(deliver=recorder.handle, planner=lambda _d: succeed_after(30))
    first = harness.invoke(appspec_request())["deploymentId"]
    harness.sleep(60)
    # Started outside Terraform (console, pipeline): the table knows it from events only.
    console = codedeploy.create_deployment(applicationName=APP, deploymentGroupName=GROUP)
    console_id = console["deploymentId"]
    harness.sleep(5)
    started = items(dynamodb)  # the console deployment's START event is in
    harness.sleep(60)
    last = harness.invoke(appspec_request(description="second"))["deploymentId"]

    result = harness.invoke(history())

    ids = [entry["deploymentId"] for entry in result["deployments"]]
    assert ids == [last, console_id, first]
    assert result["latest"] == result["deployments"][0]
    assert {entry["status"] for entry in result["deployments"]} == {"Succeeded"}
    assert all(entry["completedAt"] for entry in result["deployments"])
    assert [entry["source"] for entry in result["deployments"]] == ["event"] * 3
    created = [entry["createdAt"] for entry in result["deployments"]]
    assert created == sorted(created, reverse=True)
    # The event-only deployment is dated by its first event (START, at 1 s).
    console_item = next(i for i in started if i[attr.DEPLOYMENT_ID]["S"] == console_id)
    assert console_item[attr.STATUS]["S"] == "InProgress"
    assert result["deployments"][1]["createdAt"] == console_item[attr.CREATED_AT]["S"]
    assert set(result["deployments"][0]) == {
        "deploymentId",
        "status",
        "createdAt",
        "completedAt",
        "source",
    }


def test_idempotency_records_stay_out_of_the_index(
    make_harness: Any, dynamodb: Any, status_table: str
) -> None:
    harness = make_harness(planner=lambda _d: succeed_after(10))
    deployment_id = harness.invoke(appspec_request())["deploymentId"]

    records = [i for i in items(dynamodb) if i[attr.DEPLOYMENT_ID]["S"] != deployment_id]
    assert records, "the create step left no idempotency record"
    assert all(attr.DEPLOYMENT_GROUP_KEY not in item for item in records)
    result = harness.invoke(history())
    assert [entry["deploymentId"] for entry in result["deployments"]] == [deployment_id]
    # Written by the trigger (Created, then its GetDeployment write-backs: no recorder here).
    assert result["latest"]["source"] == "api"


def test_limit_is_honoured_and_defaults_to_ten(dynamodb: Any, status_table: str) -> None:
    for day in range(1, 13):
        record(dynamodb, f"d-{day:09d}", f"2026-05-{day:02d}T10:00:00.000Z")
    service = QueryService(dynamodb)

    default = service.ask(history())
    three = service.ask(history(limit=3))
    all_of_them = service.ask(history(limit=50))

    newest_first = [f"d-{day:09d}" for day in range(12, 0, -1)]
    assert [e["deploymentId"] for e in default["deployments"]] == newest_first[:10]
    assert [e["deploymentId"] for e in three["deployments"]] == newest_first[:3]
    assert [e["deploymentId"] for e in all_of_them["deployments"]] == newest_first
    assert three["latest"] is not None
    assert three["latest"]["deploymentId"] == "d-000000012"


def test_groups_do_not_mix_and_an_empty_group_returns_an_empty_list(
    dynamodb: Any, status_table: str
) -> None:
    record(dynamodb, "d-AAAAAAAAA", "2026-05-01T10:00:00.000Z", group=GROUP)
    record(dynamodb, "d-BBBBBBBBB", "2026-05-02T10:00:00.000Z", group=OTHER_GROUP)
    service = QueryService(dynamodb)

    mine = service.ask(history())
    empty = service.ask(history("never-deployed"))

    assert [e["deploymentId"] for e in mine["deployments"]] == ["d-AAAAAAAAA"]
    assert empty == {"deployments": [], "latest": None}


def test_a_query_makes_no_codedeploy_call_and_no_write(
    dynamodb: Any, codedeploy: Any, status_table: str
) -> None:
    create_blue_green_group(codedeploy, "another-app", "g")
    record(dynamodb, "d-AAAAAAAAA", "2026-05-01T10:00:00.000Z", status="InProgress")
    before = items(dynamodb)
    service = QueryService(dynamodb)

    result = service.ask(history())

    assert result["latest"] is not None
    assert result["latest"]["status"] == "InProgress"
    assert service.calls.order == ["Query"]
    assert items(dynamodb) == before


def test_the_handler_returns_plain_json(dynamodb: Any, status_table: str) -> None:
    record(dynamodb, "d-AAAAAAAAA", "2026-05-01T10:00:00.000Z", completed_at="2026-05-01T10:05Z")

    result = trigger.lambda_handler(history(limit=1), FakeLambdaContext())

    assert result == {
        "deployments": [
            {
                "deploymentId": "d-AAAAAAAAA",
                "status": "Succeeded",
                "createdAt": "2026-05-01T10:00:00.000Z",
                "completedAt": "2026-05-01T10:05Z",
                "source": "event",
            }
        ],
        "latest": result["deployments"][0],
    }


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ({"history": {"applicationName": APP}}, "history.deploymentGroupName is required"),
        (history(limit=0), "history.limit must be at least 1"),
        (history(limit=51), "history.limit must be at most 50"),
        (history(limit="10"), "history.limit must be an integer"),
        (history(limit=2.5), "history.limit must be an integer"),
        (history(limt=3), "unknown key(s) in history: limt"),
        ({"history": "web-app/web-group"}, "history must be an object"),
        ({"history": {"applicationName": APP, "deploymentGroupName": ""}}, "must not be empty"),
        (
            {"history": {"applicationName": "web/app", "deploymentGroupName": GROUP}},
            "history.applicationName must match",
        ),
        ({**history(), "wait": False}, "history cannot be combined with wait"),
        ({**history(), "deploymentId": "d-A"}, "history cannot be combined with deploymentId"),
        ({**history(), **appspec_request()}, "cannot be combined with applicationName"),
    ],
)
def test_malformed_queries_are_invalid_input_naming_the_field(
    dynamodb: Any, status_table: str, event: dict[str, Any], fragment: str
) -> None:
    service = QueryService(dynamodb)

    with pytest.raises(InvalidInput) as raised:
        service.ask(event)

    assert fragment in str(raised.value)
    assert service.calls.order == []


def test_the_terraform_key_is_allowed_and_a_delete_reads_nothing(
    dynamodb: Any, status_table: str
) -> None:
    record(dynamodb, "d-AAAAAAAAA", "2026-05-01T10:00:00.000Z")
    service = QueryService(dynamodb)

    created = service.ask({**history(), "tf": {"action": "create", "prev_input": None}})
    deleted = service.ask({**history(), "tf": {"action": "delete", "prev_input": history()}})

    assert created["latest"] is not None
    assert deleted["status"] == "Skipped"
    assert service.calls.order == ["Query"]


def test_without_a_table_a_query_is_a_configuration_error(dynamodb: Any) -> None:
    service = QueryService(dynamodb)

    with pytest.raises(ConfigurationError) as raised:
        service.ask(history())

    assert "STATUS_TABLE_NAME is not set: a history query reads" in str(raised.value)
    assert service.calls.order == []


def test_a_table_without_the_index_says_how_to_add_it(dynamodb: Any, status_table: str) -> None:
    service = QueryService(dynamodb)
    with Stubber(dynamodb) as stub:
        # What DynamoDB answers for an index the table lacks (a table of an older module
        # version); moto says ResourceNotFoundException instead, so the answer is stubbed.
        # Seen in aws/aws-record-ruby#64 and awslabs/aws-sdk-ios-samples#58.
        stub.add_client_error(
            "query",
            service_error_code="ValidationException",
            service_message="The table does not have the specified index: byGroup",
            http_status_code=400,
        )
        with pytest.raises(StatusTableUnavailable) as raised:
            service.ask(history())

    message = str(raised.value)
    assert "(ValidationException): The table does not have the specified index" in message
    assert "no byGroup index" in message
    assert "apply the module again" in message


def test_a_missing_table_names_the_variable(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUS_TABLE_NAME", "no-such-table")
    service = QueryService(dynamodb)

    with pytest.raises(StatusTableUnavailable) as raised:
        service.ask(history())

    assert "ResourceNotFoundException" in str(raised.value)
    assert "check STATUS_TABLE_NAME" in str(raised.value)


def index_entry_bytes(entry: dict[str, Any]) -> int:
    """DynamoDB's item size: UTF-8 bytes of each attribute name plus its string value
    (developer guide, "Item sizes and formats"); index entries hold strings only."""
    assert all(set(value) == {"S"} for value in entry.values()), entry
    return sum(len(name.encode()) + len(value["S"].encode()) for name, value in entry.items())


@pytest.mark.parametrize(("limit", "read_units"), [(10, 0.5), (50, 2.5)])
def test_a_history_query_costs_a_few_read_units_at_worst(
    dynamodb: Any, status_table: str, limit: int, read_units: float
) -> None:
    """The cost figures of docs/status-tracking.md, from the entries the store really writes.

    Query reads count the total size of the returned entries, rounded up to 4 KB;
    a GSI read is eventually consistent, half a unit per 4 KB (developer guide,
    "DynamoDB read and write operations"). Worst case: 100-character names.
    """
    application, group = "a" * 100, "g" * 100
    table = StatusStore(TABLE, dynamodb)
    for index in range(limit):
        table.record(
            StatusUpdate(
                f"d-{index:09d}",
                "Succeeded",
                "trigger",  # the longest source
                application_name=application,
                deployment_group_name=group,
                created_at=f"2026-05-09T10:{index // 60:02d}:{index % 60:02d}.000Z",
                completed_at="2026-05-09T11:00:00.000Z",
            )
        )
    entries = dynamodb.query(
        TableName=TABLE,
        IndexName=attr.BY_GROUP_INDEX,
        KeyConditionExpression="#k = :k",
        ExpressionAttributeNames={"#k": attr.DEPLOYMENT_GROUP_KEY},
        ExpressionAttributeValues={":k": {"S": attr.deployment_group_key(application, group)}},
    )["Items"]

    assert len(entries) == limit
    assert max(index_entry_bytes(entry) for entry in entries) == 338
    total = sum(index_entry_bytes(entry) for entry in entries)
    assert -(-total // 4096) / 2 == read_units


def test_no_time_for_the_one_read_says_to_raise_the_timeout(status_table: str) -> None:
    """The query's one Query cannot fit the time left (no client's worst case does): a
    caller error that says what to change, not the client ladder's NoTimeLeft."""
    service = TriggerService()  # production clients: each call's worst case must fit

    with pytest.raises(StatusTableUnavailable) as raised:
        service.handle(history(), FakeLambdaContext(timeout_seconds=2.0))

    assert str(raised.value).startswith("no time left to read the deployment history (")
    assert str(raised.value).endswith("): raise the function's timeout")
