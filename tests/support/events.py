"""EventBridge events as CodeDeploy sends them, for the recorder's tests."""

from __future__ import annotations

from typing import Any


def codedeploy_event(state: str | None = "SUCCESS", **detail: Any) -> dict[str, Any]:
    """A "CodeDeploy Deployment State-change Notification"; ``detail`` overrides its fields."""
    body: dict[str, Any] = {
        "region": "us-east-1",
        "deploymentId": "d-ABCDEFGHI",
        "instanceGroupId": "ig-1",
        "application": "app",
        "deploymentGroup": "group",
    }
    if state is not None:
        body["state"] = state
    body.update(detail)
    return {
        "version": "0",
        "id": "event-1",
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "source": "aws.codedeploy",
        "account": "123456789012",
        "time": "2026-05-09T10:05:30Z",
        "region": "us-east-1",
        "resources": [],
        "detail": body,
    }
