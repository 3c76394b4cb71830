"""CodeDeploy validation hooks of the Lambda canary example.

CodeDeploy invokes a hook with ``DeploymentId`` and ``LifecycleEventHookExecutionId`` and waits
for it to report ``Succeeded`` or ``Failed`` with PutLifecycleEventHookExecutionStatus; a hook
that reports ``Failed`` (or never reports) fails the deployment, and CodeDeploy rolls it back.

- ``before_allow_traffic``: invokes the version being deployed (TARGET_VERSION) with a test
  event, before any traffic reaches it.
- ``after_allow_traffic``: invokes the alias, now serving the new version.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3


def _check(qualifier: str) -> tuple[bool, str]:
    """Invoke the function at ``qualifier``; whether it answered, and what."""
    answer = boto3.client("lambda").invoke(
        FunctionName=os.environ["FUNCTION_NAME"],
        Qualifier=qualifier,
        Payload=json.dumps({"source": "codedeploy-validation-hook"}).encode(),
    )
    body = answer["Payload"].read().decode(errors="replace")
    where = f"{os.environ['FUNCTION_NAME']}:{qualifier}"
    if "FunctionError" in answer:
        error = json.loads(body) if body.startswith("{") else {}
        said = f"{error.get('errorType', 'error')}: {error.get('errorMessage', body)}"
        return False, f"{where} failed the test event with {said}"
    return True, f"{where} answered the test event: {body}"


def _report(event: dict[str, Any], passed: bool, said: str) -> dict[str, str]:
    status = "Succeeded" if passed else "Failed"
    print(said)
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    print(f"reported {status} to CodeDeploy for deployment {event['DeploymentId']}")
    return {"status": status}


def before_allow_traffic(event: dict[str, Any], context: Any) -> dict[str, str]:
    passed, said = _check(os.environ["TARGET_VERSION"])
    return _report(event, passed, said)


def after_allow_traffic(event: dict[str, Any], context: Any) -> dict[str, str]:
    passed, said = _check(os.environ["ALIAS_NAME"])
    return _report(event, passed, said)
