"""The Lambda entry points as Lambda calls them: JSON in, JSON out, EMF metrics on stdout."""

from __future__ import annotations

import json
from typing import Any

from handlers import trigger
from tests.support import moto_codedeploy
from tests.support.harness import appspec_request
from tests.support.lambda_context import FakeLambdaContext
from tests.support.metrics import emf_metrics


def test_fire_and_forget_through_the_handler(codedeploy: Any, capsys: Any) -> None:
    result = trigger.lambda_handler(appspec_request(wait=False), FakeLambdaContext())

    assert json.loads(json.dumps(result)) == result
    assert result["status"] == "Created"
    assert emf_metrics(capsys.readouterr().out)["DeploymentsStarted"] == [1.0]


def test_a_finished_deployment_through_the_handler_emits_end_metrics(
    codedeploy: Any, capsys: Any
) -> None:
    created = trigger.lambda_handler(appspec_request(wait=False), FakeLambdaContext())
    moto_codedeploy.set_status(created["deploymentId"], "Succeeded")
    capsys.readouterr()

    result = trigger.lambda_handler({"deploymentId": created["deploymentId"]}, FakeLambdaContext())

    assert json.loads(json.dumps(result)) == result
    assert (result["status"], result["detectedBy"]) == ("Succeeded", "poll")
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["DeploymentsSucceeded"] == [1.0]
    assert metrics["DetectedByPoll"] == [1.0]
    assert "WaitSeconds" in metrics
    assert "DeploymentsStarted" not in metrics  # attaching starts nothing


def test_skipped_result_is_json(moto: None) -> None:
    result = trigger.lambda_handler(
        {"tf": {"action": "delete", "prev_input": None}}, FakeLambdaContext()
    )
    assert json.loads(json.dumps(result)) == {"status": "Skipped", "reason": result["reason"]}
