"""BeforeAllowTraffic validation hooks of the smoke test's deployments.

CodeDeploy invokes a hook with ``DeploymentId`` and ``LifecycleEventHookExecutionId`` and waits
for the hook to report (PutLifecycleEventHookExecutionStatus): ``succeed`` reports Succeeded,
``fail`` reports Failed, which fails the deployment at BeforeAllowTraffic.
"""

from __future__ import annotations

from typing import Any

import boto3


def _report(event: dict[str, Any], status: str) -> dict[str, str]:
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    print(f"reported {status} for {event['DeploymentId']}")
    return {"status": status}


def succeed(event: dict[str, Any], context: Any) -> dict[str, str]:
    return _report(event, "Succeeded")


def fail(event: dict[str, Any], context: Any) -> dict[str, str]:
    return _report(event, "Failed")
