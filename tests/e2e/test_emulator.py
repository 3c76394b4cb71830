"""The emulator's CodeDeploy simulation itself (no Terraform, a few seconds)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.moto_codedeploy import error_information

from .emulator import Emulator


def _group(emulator: Emulator) -> tuple[Any, str]:
    cd = emulator.client("codedeploy")
    app = f"e2e-sim-{uuid.uuid4().hex[:8]}"
    cd.create_application(applicationName=app, computePlatform="Server")
    cd.create_deployment_group(
        applicationName=app,
        deploymentGroupName="g",
        serviceRoleArn="arn:aws:iam::123456789012:role/e2e-sim",
    )
    return cd, app


@pytest.mark.e2e
def test_one_active_deployment_per_group_and_stop(emulator: Emulator) -> None:
    cd, app = _group(emulator)
    first = cd.create_deployment(
        applicationName=app, deploymentGroupName="g", description="simulate:no-events"
    )["deploymentId"]
    with pytest.raises(cd.exceptions.DeploymentLimitExceededException) as raised:
        cd.create_deployment(applicationName=app, deploymentGroupName="g")
    assert first in str(raised.value)

    cd.stop_deployment(deploymentId=first)
    info = cd.get_deployment(deploymentId=first)["deploymentInfo"]
    assert info["status"] == "Stopped"
    assert info["errorInformation"]["code"] == "MANUAL_STOP"
    assert "completeTime" in info
    # The group is free again.
    second = cd.create_deployment(
        applicationName=app, deploymentGroupName="g", description="simulate:fail"
    )["deploymentId"]
    emulator.wait_idle(prefix=app)
    info = cd.get_deployment(deploymentId=second)["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "HEALTH_CONSTRAINTS"
    events = [e["detail"] for e in emulator.simulator.events]
    assert [e["state"] for e in events if e["deploymentId"] == second] == ["START", "FAILURE"]
    assert not [e for e in events if e["deploymentId"] == first]
    assert error_information(next(d for d in emulator.deployments() if d.deployment_id == second))


@pytest.mark.e2e
def test_wait_idle_waits_for_what_is_under_way_not_for_other_scenarios(
    emulator: Emulator,
) -> None:
    """Scenarios run side by side: one's wait_idle must not wait for another's deployment,
    yet must wait for its own, CodeDeploy's rollback of it included (same application)."""
    cd, other = _group(emulator)
    # Another scenario's deployment, still running long after this test's has ended.
    running = cd.create_deployment(
        applicationName=other, deploymentGroupName="g", description="simulate:seconds=120"
    )["deploymentId"]
    cd, mine = _group(emulator)
    failing = cd.create_deployment(
        applicationName=mine,
        deploymentGroupName="g",
        description="simulate:fail",
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
    )["deploymentId"]
    try:
        emulator.wait_idle(timeout=60, prefix=mine)
        statuses = {
            d.deployment_id: d.status
            for d in emulator.deployments()
            if d.application_name in (mine, other)
        }
        rollbacks = [
            d
            for d in emulator.deployments()
            if d.application_name == mine and d.deployment_id != failing
        ]
        assert statuses[failing] == "Failed"
        assert [d.status for d in rollbacks] == ["Succeeded"], statuses
        assert statuses[running] == "InProgress", statuses
    finally:
        cd.stop_deployment(deploymentId=running)
