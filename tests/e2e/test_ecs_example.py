"""End to end: `terraform apply` of examples/terraform-ecs-blue-green as it is (VPC, load
balancer, ECS service under the CODE_DEPLOY controller, CodeDeploy blue/green group, the
trigger module and its aws_lambda_invocation), against the local emulator, with the real
release zip.

The only file added to the private copy is a provider override pointing every service the
example uses at the emulator. The apply runs once and so does the destroy (a scenario fixture,
run in the background beside the other scenarios, that captures what the tests look at, so
they do not depend on their order). About three minutes in all, most of it the provider's own
waits: ~60 s for the load balancer and ~25 s for SQS queue attributes to settle, on create and
again on destroy.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .background import scenario
from .emulator import Emulator, Invocation
from .harness import REPO, Terraform, TerraformRun, provider_override

EXAMPLE = REPO / "examples" / "terraform-ecs-blue-green"


@dataclass
class EcsScenario:
    """What the example's `terraform apply` did, captured right after it."""

    tf: Terraform
    apply: TerraformRun
    outputs: dict[str, Any] = field(default_factory=dict)
    deployments: list[tuple[str, str]] = field(default_factory=list)
    status_item: dict[str, Any] = field(default_factory=dict)
    appspec: dict[str, Any] = field(default_factory=dict)
    service_task_definition: str = ""
    replan: TerraformRun | None = None
    destroy: TerraformRun | None = None
    destroy_invocations: list[Invocation] = field(default_factory=list)
    deployments_after_destroy: list[tuple[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.tf.variables["name"]


def _deployments(emulator: Emulator, application: str) -> list[tuple[str, str]]:
    return [
        (d.deployment_id, d.status)
        for d in emulator.deployments()
        if d.application_name == application
    ]


def _trigger_invocations(emulator: Emulator, name: str) -> list[Invocation]:
    return [i for i in emulator.runner.invocations if i.function_name == f"{name}-trigger"]


@scenario
def ecs(
    emulator: Emulator,
    lambda_zip: Path,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
) -> EcsScenario:
    """The example's apply, what it left in the emulator, a second plan, then the destroy."""
    # var.name: at most 20 characters (load balancer and target group names); it names the
    # CodeDeploy application and deployment group too.
    tf = example_terraform(
        EXAMPLE,
        {
            "name": f"e2e-ecs-{uuid.uuid4().hex[:6]}",
            "lambda_zip_path": str(lambda_zip),
            "lambda_architecture": "x86_64",
        },
    )
    (tf.workdir / "e2e_provider_override.tf").write_text(
        provider_override(emulator.endpoint), encoding="utf-8"
    )
    scenario = EcsScenario(tf, tf.apply())
    if scenario.apply.returncode == 0:
        emulator.wait_idle(prefix=scenario.name)
        scenario.outputs = tf.outputs()
        deployment_id = scenario.outputs["deployment_id"]
        item = emulator.client("dynamodb").get_item(
            TableName=scenario.outputs["status_table_name"],
            Key={"deploymentId": {"S": deployment_id}},
            ConsistentRead=True,
        )
        scenario.status_item = {k: next(iter(v.values())) for k, v in item.get("Item", {}).items()}
        for d in emulator.deployments():
            if d.deployment_id == deployment_id:
                scenario.appspec = json.loads(d.revision["appSpecContent"]["content"])
        services = emulator.client("ecs").describe_services(
            cluster=scenario.name, services=[scenario.name]
        )["services"]
        scenario.service_task_definition = services[0]["taskDefinition"] if services else ""
        scenario.replan = tf.plan()
    scenario.deployments = _deployments(emulator, scenario.name)
    if scenario.apply.returncode == 0:
        calls_before = len(_trigger_invocations(emulator, scenario.name))
        scenario.destroy = tf.destroy()
        emulator.wait_idle(prefix=scenario.name)
        scenario.destroy_invocations = _trigger_invocations(emulator, scenario.name)[calls_before:]
        scenario.deployments_after_destroy = _deployments(emulator, scenario.name)
    return scenario


@pytest.mark.e2e
def test_ecs_example_apply_runs_one_successful_deployment(
    ecs: EcsScenario, explain: Callable[[str], str]
) -> None:
    assert ecs.apply.returncode == 0, explain(ecs.apply.describe())
    deployment_id = ecs.outputs["deployment_id"]
    assert ecs.outputs["status"] == "Succeeded"
    assert ecs.deployments == [(deployment_id, "Succeeded")]

    # The recorder (EventBridge -> Lambda) wrote the final status into the module's table.
    status = ecs.status_item
    assert status.get("status") == "Succeeded", explain(f"status item: {status}")
    assert status.get("source") == "event", explain(f"status item: {status}")

    # The deployment's appspec names the task definition the ECS service runs.
    target = ecs.appspec["Resources"][0]["TargetService"]["Properties"]
    assert ecs.service_task_definition.startswith("arn:aws:ecs:"), ecs.service_task_definition
    assert target["TaskDefinition"] == ecs.service_task_definition


@pytest.mark.e2e
def test_ecs_example_second_plan_does_not_redeploy(
    ecs: EcsScenario, explain: Callable[[str], str]
) -> None:
    """Nothing changed, so a second apply must not start another deployment.

    The plan is not empty: moto drops the ECS service's health_check_grace_period_seconds and
    availability_zone_rebalancing, so the provider wants to set them again (in place).
    """
    assert ecs.apply.returncode == 0, explain(ecs.apply.describe())
    assert ecs.replan is not None
    assert ecs.replan.returncode in (0, 2), ecs.replan.describe()
    assert "# aws_lambda_invocation.deploy " not in ecs.replan.stdout, ecs.replan.describe()


@pytest.mark.e2e
def test_ecs_example_destroy_creates_no_deployment(
    ecs: EcsScenario, explain: Callable[[str], str]
) -> None:
    assert ecs.apply.returncode == 0, explain(ecs.apply.describe())
    assert ecs.destroy is not None
    assert ecs.destroy.returncode == 0, explain(ecs.destroy.describe())

    assert ecs.deployments_after_destroy == ecs.deployments
    # lifecycle_scope = "CREATE_ONLY": the provider's delete invokes nothing at all.
    deletes = ecs.destroy_invocations
    assert deletes == [], explain(f"{len(deletes)} trigger invocations during destroy")
