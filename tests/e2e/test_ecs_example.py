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
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .background import scenario
from .emulator import Emulator, Invocation
from .harness import MINUTE_SECONDS, REPO, Terraform, TerraformRun, provider_override

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


def _example_on_the_emulator(
    emulator: Emulator,
    lambda_zip: Path,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    prefix: str,
    **variables: str,
) -> Terraform:
    """A copy of the example pointed at the emulator, named ``prefix`` plus a random suffix."""
    # var.name: at most 20 characters (load balancer and target group names); it names the
    # CodeDeploy application and deployment group too.
    tf = example_terraform(
        EXAMPLE,
        {
            "name": f"{prefix}-{uuid.uuid4().hex[:6]}",
            "lambda_zip_path": str(lambda_zip),
            "lambda_architecture": "x86_64",
            **variables,
        },
    )
    (tf.workdir / "e2e_provider_override.tf").write_text(
        provider_override(emulator.endpoint), encoding="utf-8"
    )
    return tf


def _trigger_invocations(emulator: Emulator, name: str) -> list[Invocation]:
    return [i for i in emulator.runner.invocations if i.function_name == f"{name}-trigger"]


@scenario
def ecs(
    emulator: Emulator,
    lambda_zip: Path,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
) -> EcsScenario:
    """The example's apply, what it left in the emulator, a second plan, then the destroy."""
    tf = _example_on_the_emulator(emulator, lambda_zip, example_terraform, "e2e-ecs")
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
    # `deploy[0]` since the invocation has a count (none with ready_gate): any instance.
    assert "# aws_lambda_invocation.deploy" not in ecs.replan.stdout, ecs.replan.describe()


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


GATE_READY_WAIT_MINUTES = 20
"""The gated group's Ready wait: 60 s in the emulator. Long enough for the passing apply to go
from Ready through the check to the continue link on a loaded machine, short enough to watch
the group stop the deployment a failing check left in Ready."""
SECOND_IMAGE = "public.ecr.aws/nginx/nginx:mainline-alpine"


@dataclass
class GatedApply:
    """One `terraform apply` of the example with ready_gate = true."""

    run: TerraformRun
    trigger_calls: list[Invocation]
    outputs: dict[str, Any]
    new_deployments: list[str]
    """Ids of the deployments this apply created, in the emulator's order."""

    def describe(self) -> str:
        calls = "\n".join(
            f"  invocation {n}: {c.duration:.1f}s error={c.error} {c.payload.decode()[:300]}"
            for n, c in enumerate(self.trigger_calls, 1)
        )
        return f"{self.run.describe()}\n--- trigger invocations ---\n{calls}"


@dataclass
class GatedScenario:
    passed: GatedApply
    checked: list[str]
    """Deployment ids the smoke test was given (DEPLOYMENT_ID), one line per run of it."""
    failed: GatedApply | None = None
    left_in: dict[str, str] = field(default_factory=dict)
    """The failed apply's deployment, looked at right after the apply."""
    ended_by_group: dict[str, str] = field(default_factory=dict)
    """The same once the group's Ready wait ran out."""


def _gated_apply(tf: Terraform, emulator: Emulator, **variables: str) -> GatedApply:
    name = tf.variables["name"]
    calls_before = len(_trigger_invocations(emulator, name))
    known = {d for d, _ in _deployments(emulator, name)}
    run = tf.apply(**variables)
    calls = _trigger_invocations(emulator, name)[calls_before:]
    outputs = tf.outputs() if run.returncode == 0 else {}
    new = [d for d, _ in _deployments(emulator, name) if d not in known]
    return GatedApply(run, calls, outputs, new)


def _status_of(emulator: Emulator, application: str, deployment_id: str) -> str:
    return dict(_deployments(emulator, application)).get(deployment_id, "")


@scenario
def ecs_ready_gate(
    emulator: Emulator,
    lambda_zip: Path,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
) -> GatedScenario:
    """The example with the Ready gate: a passing check, then a failing one for a new image."""
    tf = _example_on_the_emulator(
        emulator,
        lambda_zip,
        example_terraform,
        "e2e-ecsg",
        ready_gate="true",
        ready_wait_minutes=str(GATE_READY_WAIT_MINUTES),
    )
    checked = tf.workdir / "checked-deployments.txt"
    # What the check was given, kept by the check itself; `true` and `false` decide.
    record = f'echo "$DEPLOYMENT_ID" >> {checked}'
    passed = _gated_apply(tf, emulator, ready_check_command=f"{record} && true")
    scenario = GatedScenario(passed, [])
    if passed.run.returncode == 0:
        failed = _gated_apply(
            tf, emulator, ready_check_command=f"{record} && false", image=SECOND_IMAGE
        )
        scenario.failed = failed
        name = tf.variables["name"]
        scenario.left_in = {d: _status_of(emulator, name, d) for d in failed.new_deployments}
        deadline = time.monotonic() + GATE_READY_WAIT_MINUTES * MINUTE_SECONDS + 60
        while time.monotonic() < deadline and any(
            _status_of(emulator, name, d) == "Ready" for d in failed.new_deployments
        ):
            time.sleep(1)
        scenario.ended_by_group = {d: _status_of(emulator, name, d) for d in failed.new_deployments}
    if checked.is_file():
        scenario.checked = checked.read_text(encoding="utf-8").split()
    return scenario


GATE_LINK = "module.deployment[0].aws_lambda_invocation"


@pytest.mark.e2e
def test_ecs_example_ready_gate_checks_at_ready_then_continues_to_succeeded(
    ecs_ready_gate: GatedScenario, explain: Callable[[str], str]
) -> None:
    applied = ecs_ready_gate.passed
    assert applied.run.returncode == 0, explain(applied.describe())
    (deployment_id,) = applied.new_deployments
    outputs = applied.outputs
    assert outputs["deployment_id"] == deployment_id
    # The chain's link saw the deployment Ready; the check got that deployment's id.
    assert outputs["ready"]["status"] == "Ready", explain(applied.describe())
    assert outputs["ready"]["deploymentId"] == deployment_id
    assert ecs_ready_gate.checked[:1] == [deployment_id], explain(applied.describe())
    # The continue link took it from Ready to the end.
    assert outputs["status"] == "Succeeded", explain(applied.describe())
    assert outputs["result"]["milestone"] == "Succeeded"
    assert outputs["result"]["deploymentId"] == deployment_id
    # Order, from Terraform's own log: Ready seen, then the check, then the continue link.
    output = applied.run.output
    ready_at = output.index(f"{GATE_LINK}.link_1: Creation complete")
    check_at = output.index("terraform_data.smoke_test[0]: Creation complete")
    continue_at = output.index(f"{GATE_LINK}.continue_1[0]: Creating")
    assert ready_at < check_at < continue_at, explain(applied.describe())
    # The plain invocation deploys nothing with the gate: one deployment, no failed call.
    assert "aws_lambda_invocation.deploy[0]" not in output, explain(applied.describe())
    assert not any(c.error for c in applied.trigger_calls), explain(applied.describe())


@pytest.mark.e2e
def test_ecs_example_ready_gate_failing_check_leaves_the_deployment_ready(
    ecs_ready_gate: GatedScenario, explain: Callable[[str], str]
) -> None:
    failed = ecs_ready_gate.failed
    assert failed is not None, explain(ecs_ready_gate.passed.describe())
    assert failed.run.returncode != 0, explain(failed.describe())
    (deployment_id,) = failed.new_deployments
    # A new deployment replaced the smoke test, so the check ran again, for it (an in-place
    # update of terraform_data would have run no provisioner and continued unchecked).
    assert ecs_ready_gate.checked[1:] == [deployment_id], explain(failed.describe())
    output = failed.run.output
    assert "terraform_data.smoke_test[0]" in output and "local-exec" in output, explain(
        failed.describe()
    )
    assert f"{GATE_LINK}.continue_1[0]: Creating" not in output, explain(failed.describe())
    # Left in Ready (production traffic untouched), until the group's own Ready wait ran out.
    assert ecs_ready_gate.left_in == {deployment_id: "Ready"}, explain(failed.describe())
    assert ecs_ready_gate.ended_by_group == {deployment_id: "Stopped"}, explain(failed.describe())
