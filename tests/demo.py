"""`make demo`: the whole job on an embedded AWS emulator, in under a minute.

moto provides CodeDeploy and DynamoDB in process; a simulated CodeDeploy moves
each deployment through its states and sends the state-change events to the
real recorder handler, as the EventBridge rule would. The trigger handler is
invoked exactly as Terraform's ``aws_lambda_invocation`` invokes it: with the
recommended ``lifecycle_scope = "CREATE_ONLY"`` for the applies (the payload is
the input as written), and as ``"CRUD"`` does on destroy (``tf.action = delete``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import boto3
from moto import mock_aws

from shared.errors import CodeDeployTriggerError
from tests.support.lambda_context import FakeLambdaContext
from tests.support.provision import create_blue_green_group, create_status_table
from tests.support.simulator import SimulatedCodeDeploy, plan_from_description

REGION = "us-east-1"
APP, GROUP, TABLE = "demo-app", "demo-blue-green", "codedeploy-trigger-status"
ECS_SERVICE = ("demo-cluster", "web")
TASK_DEFINITION = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:42"
APPSPEC = json.dumps(
    {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": TASK_DEFINITION,
                        "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 80},
                    },
                }
            }
        ],
    }
)
DURATION_SECONDS = 6.0
EVENT_DELAY_SECONDS = 0.4


def main() -> int:
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "STATUS_TABLE_NAME": TABLE,
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        _provision()
        # Imported inside the emulator so their lazily made clients talk to it.
        from handlers import recorder, trigger

        simulator = SimulatedCodeDeploy(
            clock=time.monotonic,
            deliver=lambda event: recorder.lambda_handler(event, FakeLambdaContext(30, "recorder")),
            planner=lambda deployment: plan_from_description(deployment, DURATION_SECONDS),
            event_delay=lambda: EVENT_DELAY_SECONDS,
            create_rollbacks=True,
        )
        with simulator.running():
            ok = _successful_apply(trigger.lambda_handler, simulator)
            failed = _failing_apply(trigger.lambda_handler)
            destroyed = _destroy(trigger.lambda_handler)
    _section("Summary")
    print(
        f"success path: {'ok' if ok else 'UNEXPECTED'}; failure path: "
        f"{'ok' if failed else 'UNEXPECTED'}; destroy: {'ok' if destroyed else 'UNEXPECTED'}"
    )
    return 0 if ok and failed and destroyed else 1


def _provision() -> None:
    create_blue_green_group(
        boto3.client("codedeploy", region_name=REGION), APP, GROUP, ecs_service=ECS_SERVICE
    )
    create_status_table(boto3.client("dynamodb", region_name=REGION), TABLE)


def _terraform_input(description: str, action: str | None = None) -> dict[str, Any]:
    """What aws_lambda_invocation sends: the input as written with CREATE_ONLY (no action),
    plus ``tf: {action, prev_input}`` with lifecycle_scope = "CRUD"."""
    request = {
        "applicationName": APP,
        "deploymentGroupName": GROUP,
        "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": APPSPEC}},
        "description": description,
        "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
    }
    if action is None:
        return request
    previous = request if action == "delete" else None
    return {**request, "tf": {"action": action, "prev_input": previous}}


def _successful_apply(handler: Any, simulator: SimulatedCodeDeploy) -> bool:
    _section("1. terraform apply: a blue/green deployment that succeeds")
    print(
        f"simulated CodeDeploy: InProgress after 1 s, Succeeded after {DURATION_SECONDS:g} s; "
        f"events reach the recorder {EVENT_DELAY_SECONDS:g} s later"
    )
    started = time.monotonic()
    result = handler(_terraform_input("release 42"), FakeLambdaContext(900, "trigger"))
    returned = time.monotonic()
    print(json.dumps(result, indent=2))
    lag = returned - simulator.terminal_events[result["deploymentId"]]
    print(
        f"\ntrigger returned {returned - started:.1f} s after the invocation, {lag:.2f} s after "
        f"CodeDeploy reached {result['status']} (detectedBy: {result['detectedBy']})"
    )
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=TABLE, Key={"deploymentId": {"S": result["deploymentId"]}}, ConsistentRead=True
    )["Item"]
    print(
        "status table item:",
        json.dumps({k: next(iter(v.values())) for k, v in sorted(item.items())}),
    )
    return bool(result["status"] == "Succeeded" and result["detectedBy"] == "event")


def _failing_apply(handler: Any) -> bool:
    _section("2. terraform apply: a deployment that fails and rolls back")
    print(
        "simulated CodeDeploy: the AfterAllowTestTraffic hook fails, a replacement task exits, "
        f"CodeDeploy rolls back ({DURATION_SECONDS:g} s more); the trigger explains the failure "
        "and waits for the rollback (waitForRollback, default true)"
    )
    try:
        handler(_terraform_input("release 43 simulate:fail"), FakeLambdaContext(900, "trigger"))
    except CodeDeployTriggerError as error:
        payload = {"errorMessage": str(error), "errorType": type(error).__name__}
        print("What Terraform prints (the apply fails):\n")
        print(
            "Error: invoking Lambda Function (codedeploy-trigger-trigger): " + json.dumps(payload)
        )
        print("\nThe same message, one section per line:\n")
        for section in str(error).split(" | "):
            print(f"  {section}")
        message = str(error)
        explained = all(
            part in message
            for part in ("AfterAllowTestTraffic Failed", "log tail:", "stopped task", "Succeeded")
        )
        return type(error).__name__ == "DeploymentFailed" and explained
    print("the failing deployment did not raise")
    return False


def _destroy(handler: Any) -> bool:
    _section(
        "3. terraform destroy: CREATE_ONLY invokes nothing; CRUD sends action=delete, "
        "which creates nothing"
    )
    codedeploy = boto3.client("codedeploy", region_name=REGION)
    before = len(codedeploy.list_deployments()["deployments"])
    result = handler(_terraform_input("release 42", "delete"), FakeLambdaContext(900, "trigger"))
    after = len(codedeploy.list_deployments()["deployments"])
    print(json.dumps(result, indent=2))
    print(f"deployments before: {before}, after: {after}")
    return result["status"] == "Skipped" and before == after


def _section(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


if __name__ == "__main__":
    sys.exit(main())
