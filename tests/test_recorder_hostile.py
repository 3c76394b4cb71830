"""The recorder under hostile input: forged or stray events, poison, and a stalled table.

Everything goes through ``handlers.recorder.lambda_handler``, as EventBridge or a direct
invoke would call it, with the fault injected at the DynamoDB client's boundary.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError

from handlers import recorder
from shared.adapters import clients as aws
from shared.adapters.status_store import StatusStore, StoreUnavailable
from shared.deadline import NoTimeLeft
from shared.errors import ConfigurationError
from tests.support.events import codedeploy_event
from tests.support.harness import TABLE
from tests.support.lambda_context import FakeLambdaContext

OWN_ACCOUNT = "123456789012"  # FakeLambdaContext's ARN
OTHER_ACCOUNT = "210987654321"
MODULE = Path(__file__).resolve().parents[1] / "examples" / "terraform"


def deliver(event: Any, context: FakeLambdaContext | None = None) -> dict[str, Any]:
    return recorder.lambda_handler(event, context or FakeLambdaContext(30, "recorder"))


def stored(dynamodb: Any) -> list[dict[str, Any]]:
    return list(dynamodb.scan(TableName=TABLE)["Items"])


# --- forged or stray events decide nothing ------------------------------------------------


@pytest.mark.parametrize(
    ("account", "region", "detail_region"),
    [
        (OTHER_ACCOUNT, "us-east-1", "us-east-1"),
        (OWN_ACCOUNT, "eu-west-1", "eu-west-1"),
        (OWN_ACCOUNT, "us-east-1", "eu-west-1"),
        (None, None, None),
    ],
    ids=["other-account", "other-region", "detail-region-differs", "no-origin"],
)
def test_an_event_from_elsewhere_is_logged_and_dropped(
    dynamodb: Any,
    status_table: str,
    log_lines: Any,
    account: str | None,
    region: str | None,
    detail_region: str | None,
) -> None:
    forged = codedeploy_event("SUCCESS", region=detail_region)
    forged.update(account=account, region=region)

    result = deliver(forged)

    assert result == {"outcome": "foreign"}
    assert stored(dynamodb) == []
    warnings = [line for line in log_lines() if line["level"] == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0]["eventId"] == "event-1"
    assert "another account or region" in warnings[0]["message"]


def test_the_own_account_comes_from_the_function_arn(
    dynamodb: Any, status_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same event is ours for a recorder in its account, foreign for one elsewhere."""
    event = codedeploy_event("START")

    elsewhere = deliver(event, FakeLambdaContext(30, "recorder", account=OTHER_ACCOUNT))
    here = deliver(event, FakeLambdaContext(30, "recorder", account=OWN_ACCOUNT))

    assert elsewhere == {"outcome": "foreign"}
    assert here["outcome"] == "recorded"
    # The region is the one Lambda runs the function in (AWS_REGION).
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert deliver(codedeploy_event("SUCCESS")) == {"outcome": "foreign"}


@pytest.mark.parametrize(
    "allowed",
    [f"{OTHER_ACCOUNT}:eu-west-1", f" 111111111111 , {OTHER_ACCOUNT} "],
    ids=["account-and-region", "bare-account"],
)
def test_a_central_bus_records_the_origins_it_allows(
    dynamodb: Any, status_table: str, monkeypatch: pytest.MonkeyPatch, allowed: str
) -> None:
    monkeypatch.setenv("RECORDER_ALLOWED_EVENT_ORIGINS", allowed)
    forwarded = codedeploy_event("SUCCESS", region="eu-west-1")
    forwarded.update(account=OTHER_ACCOUNT, region="eu-west-1")
    stranger = {**forwarded, "account": "333333333333"}

    assert deliver(forwarded)["outcome"] == "recorded"
    assert deliver(stranger) == {"outcome": "foreign"}
    item = StatusStore(TABLE, dynamodb).get("d-ABCDEFGHI")
    assert item is not None and item.status == "Succeeded"


@pytest.mark.parametrize("allowed", ["12345", "123456789012:Not-A-Region", "*"])
def test_a_malformed_allow_list_names_the_variable(
    dynamodb: Any, status_table: str, monkeypatch: pytest.MonkeyPatch, allowed: str
) -> None:
    monkeypatch.setenv("RECORDER_ALLOWED_EVENT_ORIGINS", allowed)

    with pytest.raises(ConfigurationError, match="RECORDER_ALLOWED_EVENT_ORIGINS"):
        deliver(codedeploy_event("SUCCESS"))
    assert stored(dynamodb) == []


# --- poison is logged, not retried ----------------------------------------------------------


def _with_time(value: Any) -> dict[str, Any]:
    return {**codedeploy_event("SUCCESS"), "time": value}


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (_with_time("yesterday at noon"), "time 'yesterday at noon' is not an ISO-8601"),
        (_with_time(1_778_320_000), "time 1778320000 is not an ISO-8601 string"),
        (codedeploy_event("SUCCESS", deploymentId="d-" + "X" * 3000), "3002 characters"),
        (codedeploy_event("SUCCESS", deploymentId="d-ABC\nDEF"), "not a deployment id"),
        (
            codedeploy_event("SUCCESS", deploymentId="codedeploy-trigger:create#0f0f"),
            "not a deployment id",
        ),
        (codedeploy_event("SUCCESS", application="a" * 500_000), "500000 characters"),
        (codedeploy_event("SUCCESS", deploymentGroup="g" * 101), "not a CodeDeploy name"),
        (codedeploy_event("SUCCESS", deploymentGroup="web/group"), "not a CodeDeploy name"),
        (codedeploy_event("SUCCESS", application=["app"]), "not a CodeDeploy name"),
    ],
    ids=[
        "unparseable-time",
        "time-not-a-string",
        "key-over-2048-bytes",
        "control-character-in-id",
        "idempotency-record-key",
        "item-over-400-kb",
        "group-name-too-long",
        "group-name-with-slash",
        "application-not-a-string",
    ],
)
def test_poison_is_logged_as_malformed_and_dropped(
    dynamodb: Any, status_table: str, log_lines: Any, event: dict[str, Any], reason: str
) -> None:
    result = deliver(event)

    assert result == {"outcome": "malformed"}
    assert stored(dynamodb) == []
    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert reason in errors[0]["reason"]
    # Whatever the event holds, the log line repeats a bounded part of it.
    assert len(errors[0]["reason"]) < 300


def test_a_huge_event_id_and_source_are_cut_in_the_logs(
    dynamodb: Any, status_table: str, log_lines: Any
) -> None:
    event = {**codedeploy_event(), "id": "i" * 100_000, "source": "s" * 100_000}

    assert deliver(event) == {"outcome": "ignored"}
    assert all(len(str(line)) < 2_000 for line in log_lines())


def test_a_valid_event_keeps_its_fields_whole(dynamodb: Any, status_table: str) -> None:
    name = "A-z0-9+=,.@_" + "n" * 88  # 100 characters, the longest CodeDeploy name
    event = codedeploy_event(
        "SUCCESS", deploymentId="a3c1e2f0-1b2c-4d5e-8f90-123456789abc", application=name
    )

    assert deliver(event)["outcome"] == "recorded"
    item = StatusStore(TABLE, dynamodb).get("a3c1e2f0-1b2c-4d5e-8f90-123456789abc")
    assert item is not None and item.application_name == name


# --- the recorder fits its own timeout -------------------------------------------------------


def test_the_recorders_slowest_write_fits_its_default_timeout_with_room() -> None:
    default_timeout = _module_default("recorder_timeout")
    slowest = aws.RECORDER_DYNAMODB_POLICIES[0].worst_case_seconds()

    assert slowest + aws.RECORDER_TIMEOUT_MARGIN_SECONDS <= default_timeout
    assert default_timeout >= aws.RECORDER_MIN_TIMEOUT_SECONDS
    # The trigger's DynamoDB policy (39 s) would not: that is why the recorder has its own.
    assert aws.DYNAMODB_POLICIES[0].worst_case_seconds() > default_timeout


def test_the_module_refuses_a_recorder_timeout_below_the_slowest_write() -> None:
    """variables.tf states the same minimum as the code (they cannot drift apart)."""
    text = (MODULE / "variables.tf").read_text()
    block = text[text.index('variable "recorder_timeout"') :]
    block = block[: block.index("\n}\n")]
    minimum = re.search(r"var\.recorder_timeout >= (\d+)", block)

    assert minimum is not None
    assert int(minimum.group(1)) == aws.RECORDER_MIN_TIMEOUT_SECONDS


@pytest.fixture
def stalled_table(frozen: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Every UpdateItem of a client made from now on stalls for as long as its timeouts
    allow (connect, then no answer), on the frozen clock; botocore's backoff sleeps it too.

    The hooks sit on a fresh default boto3 session, so the recorder's own clients (made
    lazily by the handler) carry them. Returns the frozen times of the attempts.
    """
    attempts: list[float] = []
    limits: dict[str, float] = {}
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    events = boto3.DEFAULT_SESSION.events

    def note_timeouts(context: dict[str, Any], **_kwargs: Any) -> None:
        config = context["client_config"]
        limits.update(stall=config.connect_timeout + config.read_timeout)

    def stall(request: Any, **_kwargs: Any) -> None:
        attempts.append(time.monotonic())
        frozen.tick(limits["stall"])
        raise ReadTimeoutError(endpoint_url=request.url)

    events.register("before-call.dynamodb.UpdateItem", note_timeouts)
    # First, before moto's own before-send answers: the request never reaches the table.
    events.register_first("before-send.dynamodb.UpdateItem", stall)
    monkeypatch.setattr(time, "sleep", frozen.tick)
    yield attempts


def test_a_stalled_table_makes_the_recorder_raise_before_its_timeout(
    dynamodb: Any, status_table: str, stalled_table: list[float]
) -> None:
    context = FakeLambdaContext(30, "recorder")

    with pytest.raises(StoreUnavailable, match="Read timeout"):
        deliver(codedeploy_event("SUCCESS"), context)

    # Raised (so Lambda and EventBridge retry the delivery), not killed at the timeout.
    assert context.get_remaining_time_in_millis() >= 2_000
    assert len(stalled_table) == aws.RECORDER_DYNAMODB_POLICIES[0].max_attempts
    assert stored(dynamodb) == []


def test_with_little_time_left_the_recorder_takes_a_briefer_client(
    dynamodb: Any, status_table: str, stalled_table: list[float]
) -> None:
    context = FakeLambdaContext(6, "recorder")

    with pytest.raises(StoreUnavailable):
        deliver(codedeploy_event("SUCCESS"), context)

    assert context.get_remaining_time_in_millis() > 0
    assert len(stalled_table) == 1


def test_without_time_for_one_write_the_recorder_raises_at_once(
    dynamodb: Any, status_table: str, stalled_table: list[float]
) -> None:
    with pytest.raises(NoTimeLeft):
        deliver(codedeploy_event("SUCCESS"), FakeLambdaContext(3, "recorder"))

    assert stalled_table == []


def _module_default(variable: str) -> float:
    text = (MODULE / "variables.tf").read_text()
    block = text[text.index(f'variable "{variable}"') :]
    found = re.search(r"default\s*=\s*(\d+)", block)
    assert found is not None
    return float(found.group(1))
