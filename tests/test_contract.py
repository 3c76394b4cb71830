"""The input contract: every bad input gets a clear error and no AWS call is made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handlers import trigger
from shared.contract import parse_request
from shared.errors import InvalidInput
from tests.conftest import appspec_request
from tests.support import moto_codedeploy
from tests.support.lambda_context import FakeLambdaContext

CORPUS = sorted((Path(__file__).parent / "data" / "bad_inputs").glob("*.json"))


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("case", CORPUS, ids=[path.stem for path in CORPUS])
def test_bad_input_is_rejected_before_any_aws_call(
    case: Path, codedeploy: Any, status_table: str, dynamodb: Any
) -> None:
    spec = json.loads(case.read_text())
    calls: list[str] = []
    service = trigger.service()
    service._codedeploy = None  # built lazily below, inside moto
    for client in (service.codedeploy._client, dynamodb):
        client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
    service._dynamodb_client = dynamodb

    with pytest.raises(InvalidInput) as raised:
        trigger.lambda_handler(spec["payload"], FakeLambdaContext())

    assert spec["error"] in str(raised.value)
    assert calls == []
    assert moto_codedeploy.deployments() == {}
    assert dynamodb.scan(TableName=status_table)["Items"] == []


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
    assert set(request.create_params) == {
        "applicationName",
        "deploymentGroupName",
        "revision",
        "description",
        "autoRollbackConfiguration",
    }
    assert (request.wait, request.on_active_deployment, request.stop_on_timeout) == (
        False,
        "wait",
        True,
    )
    assert "tf" not in request.payload


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
    assert request.create_params["revision"]["appSpecContent"]["sha256"] == digest
