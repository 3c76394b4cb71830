"""The input contract: every bad input gets a clear error and no AWS call is made."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any
from unittest import mock

import fastjsonschema
import pytest

from handlers import trigger
from shared.contract.request import CreateRequest, parse_request
from shared.errors import InvalidInput
from tests.support.call_guard import on_every_call
from tests.support.harness import appspec_request
from tests.support.lambda_context import FakeLambdaContext

CORPUS = sorted((Path(__file__).parent / "data" / "bad_inputs").glob("*.json"))


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 86


class NoCallsAllowed(AssertionError):
    pass


@pytest.mark.parametrize("case", CORPUS, ids=[path.stem for path in CORPUS])
def test_bad_input_is_rejected_before_any_aws_call(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the real handler, with the status table configured: any AWS call at all
    (a write above all) is recorded and stopped before it leaves the process."""
    spec = json.loads(case.read_text())
    monkeypatch.setenv("STATUS_TABLE_NAME", "status")
    calls: list[str] = []

    def refuse(model: Any, **_kwargs: Any) -> None:
        calls.append(model.name)
        raise NoCallsAllowed(model.name)

    on_every_call(monkeypatch, refuse)
    trigger.service.cache_clear()

    with pytest.raises(InvalidInput) as raised:
        trigger.lambda_handler(spec["payload"], FakeLambdaContext())

    assert spec["error"] in str(raised.value)
    assert calls == []


def test_the_call_guard_itself_works(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard the guard: a valid request does reach the (refused) CreateDeployment."""
    calls: list[str] = []

    def refuse(model: Any, **_kwargs: Any) -> None:
        calls.append(model.name)
        raise NoCallsAllowed(model.name)

    on_every_call(monkeypatch, refuse)
    trigger.service.cache_clear()

    with pytest.raises(NoCallsAllowed):
        trigger.lambda_handler(appspec_request(), FakeLambdaContext())
    assert calls == ["CreateDeployment"]


def test_error_messages_do_not_echo_huge_values() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_request(appspec_request(revision={"revisionType": "X" * 50_000}), "tf")
    assert len(str(raised.value)) < 400


def test_a_valid_request_forwards_only_createdeployment_keys() -> None:
    request = parse_request(
        appspec_request(
            wait=False,
            description="release 42",
            autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
            onActiveDeployment="wait",
            stopOnTimeout=True,
            tf={"action": "create", "prev_input": None},
        ),
        "tf",
    )
    assert isinstance(request, CreateRequest)
    assert set(request.create_params) == {
        "applicationName",
        "deploymentGroupName",
        "revision",
        "description",
        "autoRollbackConfiguration",
    }
    assert (
        request.wait_options.wait,
        request.on_active_deployment,
        request.wait_options.stop_on_timeout,
    ) == (
        False,
        "wait",
        True,
    )
    assert "tf" not in request.idempotency_payload


def test_matching_sha256_is_accepted() -> None:
    import hashlib

    content = "version: 0.0"
    digest = hashlib.sha256(content.encode()).hexdigest()
    request = parse_request(
        appspec_request(
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": content, "sha256": digest},
            }
        ),
        "tf",
    )
    assert isinstance(request, CreateRequest)
    assert request.create_params["revision"]["appSpecContent"]["sha256"] == digest


@pytest.mark.parametrize(
    "overrides",
    [
        # The model marks bundleType optional (S3Location) ...
        {"revision": {"revisionType": "S3", "s3Location": {"bucket": "b", "key": "app.zip"}}},
        # ... and an alarm's name (Alarm).
        {"overrideAlarmConfiguration": {"enabled": False, "alarms": [{}]}},
        {"deploymentMode": "STANDARD"},
        {"ec2DeploymentOptions": {"autoScalingGroupProcessesToSuspend": ["AZRebalance"]}},
        {
            "targetInstances": {
                "ec2TagSet": {"ec2TagSetList": [[{"Key": "env", "Type": "KEY_ONLY"}]]}
            }
        },
        {"description": "d" * 256},
        {"applicationName": "Word.Press+App=1,@_-"},
    ],
)
def test_what_the_model_allows_is_forwarded(overrides: dict[str, Any]) -> None:
    request = parse_request(appspec_request(**overrides), "tf")
    assert isinstance(request, CreateRequest)
    for key, value in overrides.items():
        assert request.create_params[key] == value


def test_restart_deploys_without_a_revision() -> None:
    request = parse_request(
        {"applicationName": "app", "deploymentGroupName": "group", "deploymentMode": "RESTART"},
        "tf",
    )
    assert isinstance(request, CreateRequest)
    assert request.create_params == {
        "applicationName": "app",
        "deploymentGroupName": "group",
        "deploymentMode": "RESTART",
    }


def test_schemas_are_compiled_once_per_container() -> None:
    """A warm invocation never compiles: after one valid and one invalid request (which
    compiles the detailed validator for its message), nothing is compiled again."""

    def invocation(**overrides: Any) -> None:
        with contextlib.suppress(InvalidInput):
            parse_request(appspec_request(**overrides), "tf")

    invocation()
    invocation(applicationName="")
    with mock.patch.object(fastjsonschema, "compile", wraps=fastjsonschema.compile) as compiling:
        for _ in range(3):
            invocation()
            invocation(applicationName="")
            invocation(description="d" * 300)
    assert compiling.call_count == 0
