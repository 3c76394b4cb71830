"""Names shared by the emulated world and the memory probe (no moto import here: the probe's
trigger process must not load it)."""

from __future__ import annotations

REGION = "us-east-1"
APPLICATION = "bench-app"
TABLE = "codedeploy-trigger-status"
DESCRIPTION = "bench deployment {index}"


def group_name(index: int) -> str:
    # One deployment group per deployment: CodeDeploy runs one deployment per group.
    return f"bench-group-{index:03d}"


def request_for(index: int) -> dict[str, object]:
    """The trigger's input for workload deployment ``index`` (aws_lambda_invocation's)."""
    return {
        "applicationName": APPLICATION,
        "deploymentGroupName": group_name(index),
        "revision": {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": '{"version": 0.0, "Resources": []}'},
        },
        "description": DESCRIPTION.format(index=index),
    }
