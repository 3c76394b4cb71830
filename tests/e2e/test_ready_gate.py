"""End to end: the chain module's Ready gate, `waitUntil: "TrafficShifted"` and
`onActiveDeployment: "supersede"`, with the real `terraform apply`, the real release zip and an
ECS blue/green group that holds a deployment at Ready (tests/e2e/ready_gate/main.tf).

Three scenarios, each in its own working directory (no walk needs another's state), run in the
background beside each other and the other scenarios (the gate passing, from Ready through the
check to continue_1 and Succeeded, is applied with the user-facing ECS example:
tests/e2e/test_ecs_example.py):

1. the gate's check failing (local-exec `false`): the apply fails, the deployment is left in
   Ready and nothing continued it; then the stop link (`{"deploymentId", "stop": {"rollback":
   true}}`, applied with -target as docs/long-deployments.md says) stops it with rollback;
2. the gate with `wait_until = "TrafficShifted"`: the apply returns when production traffic is
   on the replacement, with the deployment still InProgress in the group's termination wait;
3. supersede: a first deployment held at Ready (no gate, wait_until Ready), then a new request
   with `onActiveDeployment: "supersede"`: the first is stopped with rollback, the second is
   created.

The group holds Ready for 120 minutes of its clock (6 minutes in the emulator,
tests/e2e/harness.py MINUTE_SECONDS): longer than any scenario, so what ends Ready here is the
chain or a stop request. It waits 1 minute before terminating the original (3 s), except in the
TrafficShifted scenario: 120 minutes, which nothing ends while the scenario runs. The trigger
comes from the module (examples/terraform) with its status table: only a deployment the table
says this function created is continued, stopped or superseded.
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
from .harness import REPO, Terraform, TerraformRun

GATE_CONFIG = REPO / "tests" / "e2e" / "ready_gate"
TRIGGER_TIMEOUT_SECONDS = 25
PASSING_CHECK, FAILING_CHECK = "true", "false"
GROUP_WAIT_MINUTES = 120
"""The TrafficShifted scenario's termination wait (tests/e2e/ready_gate/main.tf)."""


@dataclass
class GateApply:
    """One `terraform apply` of the gate configuration and what it did."""

    run: TerraformRun
    invocations: list[Invocation]
    """The trigger invocations of this apply, in order."""
    new_deployments: list[Any]
    """Deployments created during this apply (moto DeploymentInfo), rollbacks included."""
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def results(self) -> list[dict[str, Any]]:
        return [json.loads(i.payload) for i in self.invocations]

    def describe(self) -> str:
        links = "\n".join(
            f"  invocation {n}: {i.duration:.1f}s error={i.error} {i.payload.decode()[:300]}"
            for n, i in enumerate(self.invocations, 1)
        )
        return f"{self.run.describe()}\n--- trigger invocations ---\n{links}"


def _status(emulator: Emulator, deployment_id: str) -> str:
    (found,) = [d for d in emulator.deployments() if d.deployment_id == deployment_id]
    return str(found.status)


def _settle(emulator: Emulator, deployment_id: str, statuses: set[str], seconds: float) -> str:
    """The deployment's status once it is one of `statuses` (or after `seconds`)."""
    deadline = time.monotonic() + seconds
    status = _status(emulator, deployment_id)
    while status not in statuses and time.monotonic() < deadline:
        time.sleep(0.5)
        status = _status(emulator, deployment_id)
    return status


def _apply(
    tf: Terraform, emulator: Emulator, variables: Mapping[str, str], *targets: str
) -> GateApply:
    function = f"{tf.variables['name_prefix']}-trigger"
    application = f"{tf.variables['name_prefix']}-app"
    calls_before = len(emulator.runner.invocations)
    known = {d.deployment_id for d in emulator.deployments()}
    if targets:
        run = tf.run(
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            *(f"-target={t}" for t in targets),
            *(f"-var={k}={v}" for k, v in {**tf.variables, **variables}.items()),
        )
    else:
        run = tf.apply(**variables)
    invocations = [
        i for i in emulator.runner.invocations[calls_before:] if i.function_name == function
    ]
    outputs = tf.outputs() if run.returncode == 0 else {}
    new = [
        d
        for d in emulator.deployments()
        if d.application_name == application and d.deployment_id not in known
    ]
    return GateApply(run, invocations, new, outputs)


def _gate_root(
    emulator: Emulator,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    lambda_zip: Path,
    name: str,
) -> Terraform:
    tf = example_terraform(
        GATE_CONFIG,
        {
            "endpoint": emulator.endpoint,
            "lambda_zip_path": str(lambda_zip),
            "name_prefix": f"e2e-{name}-{uuid.uuid4().hex[:6]}",
        },
    )
    tf.init()
    return tf


@scenario
def gate_failing_then_stopped(
    emulator: Emulator,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    lambda_zip: Path,
) -> dict[str, Any]:
    tf = _gate_root(emulator, example_terraform, lambda_zip, "gate-fail")
    variables = {"description": "e2e gate failing", "check_command": FAILING_CHECK}
    failed = _apply(tf, emulator, variables)
    deployment_ids = [d.deployment_id for d in failed.new_deployments]
    # Seen a few seconds after the failed apply: still Ready, nobody continued it.
    time.sleep(3)
    left_in = {d: _status(emulator, d) for d in deployment_ids}
    stopped = (
        _apply(
            tf,
            emulator,
            {**variables, "stop_deployment_id": deployment_ids[0]},
            "aws_lambda_invocation.stop",
        )
        if len(deployment_ids) == 1
        else None
    )
    if deployment_ids:
        emulator.wait_idle(prefix=tf.variables["name_prefix"])
    return {
        "failed": failed,
        "left_in": left_in,
        "stopped": stopped,
        "ended": {
            d.deployment_id: d
            for d in emulator.deployments()
            if d.application_name == f"{tf.variables['name_prefix']}-app"
        },
    }


@scenario
def gate_traffic_shifted(
    emulator: Emulator,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    lambda_zip: Path,
) -> dict[str, Any]:
    tf = _gate_root(emulator, example_terraform, lambda_zip, "gate-shift")
    applied = _apply(
        tf,
        emulator,
        {
            "description": "e2e gate then traffic shifted",
            "check_command": PASSING_CHECK,
            "wait_until": "TrafficShifted",
            "termination_wait_minutes": str(GROUP_WAIT_MINUTES),
        },
    )
    after = {d.deployment_id: str(d.status) for d in applied.new_deployments}
    return {"applied": applied, "status_after": after}


@scenario
def superseding(
    emulator: Emulator,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    lambda_zip: Path,
) -> dict[str, Any]:
    tf = _gate_root(emulator, example_terraform, lambda_zip, "supersede")
    held = {"ready_gate": "false", "wait_until": "Ready"}
    first = _apply(tf, emulator, {**held, "description": "e2e supersede: first"})
    second = _apply(
        tf,
        emulator,
        {**held, "description": "e2e supersede: second", "on_active_deployment": "supersede"},
    )
    first_ids = [d.deployment_id for d in first.new_deployments]
    first_status = {
        d: _settle(emulator, d, {"Stopped", "Failed", "Succeeded"}, 30) for d in first_ids
    }
    return {"first": first, "second": second, "first_status": first_status}


@pytest.mark.e2e
def test_a_failing_check_leaves_the_deployment_ready_and_a_stop_link_rolls_it_back(
    gate_failing_then_stopped: dict[str, Any], explain: Callable[[str], str]
) -> None:
    failed: GateApply = gate_failing_then_stopped["failed"]
    assert failed.run.returncode != 0, explain(failed.describe())
    assert "terraform_data.smoke_test" in failed.run.output, explain(failed.describe())
    # The deploying link and the links to Ready ran; the continuing link never started (the
    # plan lists it; Terraform did not create it after the check failed).
    output = failed.run.output
    assert "module.deployment.aws_lambda_invocation.link_1: Creation complete" in output
    assert "aws_lambda_invocation.continue_1[0]: Creating" not in output, explain(failed.describe())
    (deployment,) = [d for d in failed.new_deployments if d.creator != "codeDeployRollback"]
    assert gate_failing_then_stopped["left_in"] == {deployment.deployment_id: "Ready"}, explain(
        failed.describe()
    )

    stopped: GateApply | None = gate_failing_then_stopped["stopped"]
    assert stopped is not None, explain(failed.describe())
    assert stopped.run.returncode == 0, explain(stopped.describe())
    (stop_call,) = stopped.invocations
    assert not stop_call.error, explain(stopped.describe())
    stop_result = json.loads(stopped.outputs["stop_result"])
    assert stop_result["deploymentId"] == deployment.deployment_id
    assert stop_result["status"] == "Stopped", explain(stopped.describe())
    # CodeDeploy rolled it back: the stopped deployment names its rollback deployment.
    ended = gate_failing_then_stopped["ended"]
    assert str(ended[deployment.deployment_id].status) == "Stopped"
    rollback_id = stop_result.get("rollbackInfo", {}).get("rollbackDeploymentId")
    assert rollback_id in ended, explain(stopped.describe())


@pytest.mark.e2e
def test_traffic_shifted_returns_before_the_termination_wait_ends(
    gate_traffic_shifted: dict[str, Any], explain: Callable[[str], str]
) -> None:
    applied: GateApply = gate_traffic_shifted["applied"]
    assert applied.run.returncode == 0, explain(applied.describe())
    result = applied.outputs["result"]
    assert result["milestone"] == "TrafficShifted", explain(applied.describe())
    assert result["complete"] is True
    # The original still waits for the group's termination wait (120 minutes of its clock).
    assert result["status"] == "InProgress", explain(applied.describe())
    assert gate_traffic_shifted["status_after"] == {result["deploymentId"]: "InProgress"}
    assert "TERMINATION_WAIT" in result["nextStep"]
    assert result["deploymentId"] in result["nextStep"]


@pytest.mark.e2e
def test_supersede_stops_the_deployment_this_function_created_then_creates(
    superseding: dict[str, Any], explain: Callable[[str], str]
) -> None:
    first: GateApply = superseding["first"]
    second: GateApply = superseding["second"]
    assert first.run.returncode == 0, explain(first.describe())
    assert first.outputs["status"] == "Ready", explain(first.describe())
    first_id = first.outputs["deployment_id"]
    assert second.run.returncode == 0, explain(second.describe())
    # The held deployment was stopped (with rollback) and a new one created for the request.
    assert superseding["first_status"][first_id] == "Stopped", explain(second.describe())
    second_id = second.outputs["deployment_id"]
    assert second_id != first_id
    assert second_id in {d.deployment_id for d in second.new_deployments}
    assert second.outputs["status"] == "Ready", explain(second.describe())
