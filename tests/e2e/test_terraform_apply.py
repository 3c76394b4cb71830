"""End to end: `terraform apply` of examples/terraform plus an aws_lambda_invocation that
starts a CodeDeploy deployment, against the local emulator, with the real release zip.

Each Terraform scenario runs once (a scenario fixture, in the background beside the other
scenarios: tests/e2e/background.py) and the tests assert on what it left behind, so the slow
parts (the provider waits ~25 s for SQS attributes to settle, on create and on destroy) are
paid as few times as possible, overlap with the other scenarios' waits, and the tests do not
depend on their order.

Two working directories, one module apply each: `lifecycle` walks the recommended
lifecycle_scope = "CREATE_ONLY" through a failing deployment, its retry, a revert and a
destroy; `deployed` keeps one lifecycle_scope = "CRUD" apply and destroy.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.deployment_targets import ECS_HOOK_FAILURE
from tests.support.moto_codedeploy import error_information
from tests.support.simulator import HEALTH_FAILURE

from .background import scenario
from .emulator import Emulator, Invocation
from .harness import REPO, STEP_SECONDS, Terraform, TerraformRun, provider_override

# Created -> InProgress -> final: two simulated steps.
SIMULATED_SECONDS = 2 * STEP_SECONDS
HEALTH_CONSTRAINTS_MESSAGE = HEALTH_FAILURE["message"]
DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{9}$")
HISTORY_EXAMPLE = REPO / "examples" / "terraform-deployment-history"


@dataclass
class Deployment:
    deployment_id: str
    status: str
    create_time: datetime
    complete_time: datetime | None
    error_information: dict[str, Any]


@dataclass
class Scenario:
    """What one `terraform apply` did, captured right after it."""

    tf: Terraform
    apply: TerraformRun
    deployments: list[Deployment]
    outputs: dict[str, Any] = field(default_factory=dict)
    status_items: list[dict[str, Any]] = field(default_factory=list)
    trigger_invocations: list[Invocation] = field(default_factory=list)
    replan: TerraformRun | None = None
    history: HistoryRead | None = None
    destroy: Step | None = None

    @property
    def application(self) -> str:
        return f"{self.tf.variables['name_prefix']}-app"


@dataclass
class HistoryRead:
    """examples/terraform-deployment-history applied after the deployment.

    Not planned again (that it reads on every plan is Terraform's data source semantics):
    each run of the configuration costs about 12 s of CI time.
    """

    apply: TerraformRun
    outputs: dict[str, Any] = field(default_factory=dict)
    invocations_during_apply: list[Invocation] = field(default_factory=list)
    deployments_after: list[Deployment] = field(default_factory=list)


@dataclass
class Step:
    """One terraform command of a scenario and what it changed in the emulator."""

    run: TerraformRun
    new_deployments: list[Deployment]
    trigger_invocations: list[Invocation]
    state: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


def _deployments(emulator: Emulator, application: str) -> list[Deployment]:
    return [
        Deployment(
            d.deployment_id,
            d.status,
            d.create_time,
            d.complete_time,
            error_information(d),
        )
        for d in emulator.deployments()
        if d.application_name == application
    ]


def _status_items(emulator: Emulator, table: str) -> list[dict[str, Any]]:
    """The status table's deployment items (idempotency records have no `status`)."""
    ddb = emulator.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = ddb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [
        {k: next(iter(v.values())) for k, v in item.items()}
        for item in items
        if "status" in item and DEPLOYMENT_ID.match(item["deploymentId"]["S"])
    ]


def _trigger_invocations(emulator: Emulator, tf: Terraform) -> list[Invocation]:
    name = f"{tf.variables['name_prefix']}-trigger"
    return [i for i in emulator.runner.invocations if i.function_name == name]


def _step(
    emulator: Emulator,
    tf: Terraform,
    command: Callable[[], TerraformRun],
    *,
    state: bool = False,
    outputs: bool = False,
) -> Step:
    """Runs one terraform command and captures what it changed in the emulator."""
    application = f"{tf.variables['name_prefix']}-app"
    deployments_before = len(_deployments(emulator, application))
    calls_before = len(_trigger_invocations(emulator, tf))
    run = command()
    emulator.wait_idle(prefix=tf.variables["name_prefix"])
    step = Step(
        run,
        _deployments(emulator, application)[deployments_before:],
        _trigger_invocations(emulator, tf)[calls_before:],
    )
    if state:
        step.state = tf.state_list()
    if outputs and run.returncode == 0:
        step.outputs = tf.outputs()
    return step


def _flat(text: str) -> str:
    # Terraform wraps long diagnostics; compare with all whitespace runs collapsed.
    return " ".join(text.split())


def _read_history(
    emulator: Emulator,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    deployed: Scenario,
) -> HistoryRead:
    """Another root configuration reads the group's latest deployment back (a data source)."""
    tf = example_terraform(
        HISTORY_EXAMPLE,
        {
            "region": "us-east-1",
            "trigger_function_name": deployed.outputs["trigger_function_name"],
            "application_name": deployed.application,
            "deployment_group_name": f"{deployed.tf.variables['name_prefix']}-group",
        },
    )
    (tf.workdir / "e2e_provider_override.tf").write_text(
        provider_override(emulator.endpoint), encoding="utf-8"
    )
    before = len(_trigger_invocations(emulator, deployed.tf))
    read = HistoryRead(tf.apply())
    read.invocations_during_apply = _trigger_invocations(emulator, deployed.tf)[before:]
    if read.apply.returncode == 0:
        read.outputs = tf.outputs()
    read.deployments_after = _deployments(emulator, deployed.application)
    return read


@scenario
def deployed(
    emulator: Emulator,
    terraform_factory: Callable[[str], Terraform],
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
) -> Scenario:
    """A successful apply with lifecycle_scope = "CRUD", what it left in the emulator, a
    second plan, the history example reading it back, and then the destroy."""
    tf = terraform_factory("deployed")
    tf.variables["lifecycle_scope"] = "CRUD"
    apply = tf.apply(description="e2e: deploy and wait")
    scenario = Scenario(tf, apply, [])
    if apply.returncode == 0:
        emulator.wait_idle(prefix=tf.variables["name_prefix"])
        scenario.outputs = tf.outputs()
        scenario.status_items = _status_items(emulator, scenario.outputs["status_table_name"])
        scenario.replan = tf.plan(description="e2e: deploy and wait")
        scenario.history = _read_history(emulator, example_terraform, scenario)
    scenario.deployments = _deployments(emulator, scenario.application)
    scenario.trigger_invocations = _trigger_invocations(emulator, tf)
    if apply.returncode == 0:
        # Last: the whole destroy, so the invocation's delete runs while the function exists.
        scenario.destroy = _step(
            emulator, tf, lambda: tf.destroy(description="e2e: deploy and wait")
        )
    return scenario


@pytest.mark.e2e
def test_apply_blocks_until_the_deployment_succeeds(
    deployed: Scenario, explain: Callable[[str], str]
) -> None:
    assert deployed.apply.returncode == 0, explain(deployed.apply.describe())
    deployment_id = deployed.outputs["deployment_id"]
    assert deployed.outputs["status"] == "Succeeded"
    assert DEPLOYMENT_ID.match(deployment_id), deployment_id

    # CodeDeploy has exactly this one deployment, and it ended before the apply did.
    assert [(d.deployment_id, d.status) for d in deployed.deployments] == [
        (deployment_id, "Succeeded")
    ]
    # The recorder (EventBridge -> Lambda) wrote the final status into the table...
    succeeded = [i for i in deployed.status_items if i["status"] == "Succeeded"]
    assert [i["deploymentId"] for i in succeeded] == [deployment_id], explain(
        f"status items: {deployed.status_items}"
    )
    assert succeeded[0].get("source") == "event", explain(f"status item: {succeeded[0]}")

    # The apply waited for the deployment: the invocation lasted the simulated duration.
    assert deployed.apply.seconds >= SIMULATED_SECONDS
    creates = [i for i in deployed.trigger_invocations if not i.error]
    assert creates, explain("no successful trigger invocation")
    assert creates[0].duration >= SIMULATED_SECONDS, explain(
        f"the trigger returned after {creates[0].duration:.1f}s, before the deployment "
        f"could end ({SIMULATED_SECONDS:.1f}s)"
    )
    result = json.loads(creates[0].payload)
    assert result["deploymentId"] == deployment_id
    # ...and the trigger learnt the outcome from it, not from its fallback polling.
    assert result.get("detectedBy") == "event", explain(f"trigger result: {result}")


@pytest.mark.e2e
def test_second_plan_has_no_changes(deployed: Scenario, explain: Callable[[str], str]) -> None:
    """No drift after the apply: a second apply would neither change nor redeploy anything."""
    assert deployed.apply.returncode == 0, explain(deployed.apply.describe())
    assert deployed.replan is not None
    assert deployed.replan.returncode == 0, deployed.replan.describe()


@pytest.mark.e2e
def test_a_data_source_reads_the_deployment_back_from_the_table(
    deployed: Scenario, emulator: Emulator, explain: Callable[[str], str]
) -> None:
    """examples/terraform-deployment-history: the group's latest deployment as outputs."""
    assert deployed.apply.returncode == 0, explain(deployed.apply.describe())
    read = deployed.history
    assert read is not None
    assert read.apply.returncode == 0, explain(read.apply.describe())
    deployment_id = deployed.outputs["deployment_id"]
    assert read.outputs["latest_deployment_id"] == deployment_id, explain(str(read.outputs))
    assert read.outputs["latest_status"] == "Succeeded"
    assert read.outputs["latest_succeeded"] is True
    assert read.outputs["latest_completed_at"] is not None
    assert [d["deploymentId"] for d in read.outputs["deployments"]] == [deployment_id]
    # The query was one trigger invocation and deployed nothing.
    assert len(read.invocations_during_apply) == 1, explain(f"{read.invocations_during_apply}")
    assert not read.invocations_during_apply[0].error
    assert [d.deployment_id for d in read.deployments_after] == [deployment_id]


@pytest.mark.e2e
def test_crud_destroy_is_skipped_and_creates_no_deployment(
    deployed: Scenario, explain: Callable[[str], str]
) -> None:
    assert deployed.apply.returncode == 0, explain(deployed.apply.describe())
    destroy = deployed.destroy
    assert destroy is not None
    assert destroy.run.returncode == 0, explain(destroy.run.describe())
    assert destroy.new_deployments == [], explain(f"{destroy.new_deployments}")
    # The delete did reach the function (lifecycle_scope = "CRUD") and was a no-op there.
    deletes = destroy.trigger_invocations
    assert len(deletes) == 1, explain(f"{len(deletes)} trigger invocations during destroy")
    assert not deletes[0].error, explain(deletes[0].payload.decode())
    assert json.loads(deletes[0].payload)["status"] == "Skipped"


# --- lifecycle_scope = "CREATE_ONLY": what a user of the README's recommendation lives through


FAILING = "e2e lifecycle simulate:fail"
INPUT_A = "e2e lifecycle: revision A"
INPUT_B = "e2e lifecycle: revision B"


@scenario
def lifecycle(emulator: Emulator, terraform_factory: Callable[[str], Terraform]) -> dict[str, Step]:
    """One working directory (one module apply), six commands in a row:

    fail: apply an input whose deployment fails; retry: apply it again, unchanged;
    a, b, revert: apply A, then B, then A again; destroy: terraform destroy of the invocation.
    (No plan after the revert: the `deployed` scenario checks for drift, and each
    terraform command costs 15-60 s here.)

    The destroy targets aws_lambda_invocation.deploy: what CREATE_ONLY promises is about the
    provider's delete of that resource, the only step of a destroy that could invoke the
    function, and `-target` runs exactly that delete. The rest (the module's own resources,
    ~70 s of SQS waits) invokes nothing whatever the lifecycle_scope, and `deployed` destroys
    the same configuration whole.
    """
    tf = terraform_factory("lifecycle")  # lifecycle_scope: the configuration's CREATE_ONLY

    def apply(description: str, *, outputs: bool = False) -> Step:
        return _step(
            emulator, tf, lambda: tf.apply(description=description), state=True, outputs=outputs
        )

    return {
        "fail": apply(FAILING),
        "retry": apply(FAILING),
        "a": apply(INPUT_A, outputs=True),
        "b": apply(INPUT_B, outputs=True),
        "revert": apply(INPUT_A, outputs=True),
        "destroy": _step(
            emulator,
            tf,
            lambda: tf.destroy_only("aws_lambda_invocation.deploy", description=INPUT_A),
            state=True,
        ),
    }


@pytest.mark.e2e
def test_create_only_a_failing_deployment_fails_the_apply(
    lifecycle: dict[str, Step], explain: Callable[[str], str]
) -> None:
    fail = lifecycle["fail"]
    apply = fail.run
    assert apply.returncode != 0, explain(apply.describe())
    # Ours failed; CodeDeploy's automatic rollback (a deployment of its own) succeeded.
    assert [d.status for d in fail.new_deployments] == ["Failed", "Succeeded"], explain(
        apply.describe()
    )
    failed, rollback = fail.new_deployments
    assert failed.error_information["message"] == HEALTH_CONSTRAINTS_MESSAGE
    output = _flat(apply.output)
    assert failed.deployment_id in output, explain(apply.describe())
    assert _flat(HEALTH_CONSTRAINTS_MESSAGE) in output, explain(apply.describe())
    # The explanation: the failing hook, what it logged, the replacement task's end, and
    # whether the rollback restored the previous version (waitForRollback, default true).
    hook = ECS_HOOK_FAILURE
    named = f"{hook.event} Failed, hook function {hook.script_name}: ScriptFailed"
    assert named in output, explain(apply.describe())
    last_log_line = hook.log_tail.splitlines()[-1]
    assert f"log tail: {hook.log_tail.splitlines()[0]}" in output
    assert last_log_line in output, explain(apply.describe())
    assert "Essential container in task exited (container app exit code 1" in output
    assert (
        f"Rolled back by deployment {rollback.deployment_id}: Succeeded, the previous version "
        "is serving again" in output
    ), explain(apply.describe())
    print("\n" + apply.output)  # the README quotes this output
    # A failed create leaves no invocation in the state (the module itself is there).
    assert "aws_lambda_invocation.deploy" not in fail.state, fail.state
    assert "module.trigger.aws_lambda_function.trigger" in fail.state, fail.state


@pytest.mark.e2e
def test_create_only_the_next_unchanged_apply_deploys_again(
    lifecycle: dict[str, Step], explain: Callable[[str], str]
) -> None:
    """Nothing changed in the configuration, yet the apply invokes again: the failed create
    was never saved. (With CRUD a failed update is saved: terraform-provider-aws #43447.)"""
    fail, retry = lifecycle["fail"], lifecycle["retry"]
    assert len(retry.trigger_invocations) == 1, explain(retry.run.describe())
    # A new deployment (and, as it fails the same way, CodeDeploy's rollback of it).
    assert [d.status for d in retry.new_deployments] == ["Failed", "Succeeded"], explain(
        retry.run.describe()
    )
    again = retry.new_deployments[0]
    assert again.deployment_id != fail.new_deployments[0].deployment_id
    assert retry.run.returncode != 0, explain(retry.run.describe())
    assert again.deployment_id in _flat(retry.run.output), explain(retry.run.describe())
    assert "aws_lambda_invocation.deploy" not in retry.state


@pytest.mark.e2e
def test_create_only_a_revert_deploys_again(
    lifecycle: dict[str, Step], explain: Callable[[str], str]
) -> None:
    """A -> B -> A: three applies, three deployments; the service ends on A, not on B."""
    applied = [lifecycle[name] for name in ("a", "b", "revert")]
    for step in applied:
        assert step.run.returncode == 0, explain(step.run.describe())
    created = [[(d.deployment_id, d.status) for d in step.new_deployments] for step in applied]
    assert [len(ids) for ids in created] == [1, 1, 1], explain(
        f"new deployments per apply (A, B, A): {created}; trigger results: "
        f"{[[i.payload.decode() for i in step.trigger_invocations] for step in applied]}"
    )
    ids = [ids[0][0] for ids in created]
    assert len(set(ids)) == 3, ids
    assert [ids[0][1] for ids in created] == ["Succeeded"] * 3
    # Each apply's output is its own deployment: the revert did not replay A's first one.
    assert [step.outputs["deployment_id"] for step in applied] == ids


@pytest.mark.e2e
def test_create_only_destroy_invokes_nothing(
    lifecycle: dict[str, Step], explain: Callable[[str], str]
) -> None:
    destroy = lifecycle["destroy"]
    assert destroy.run.returncode == 0, explain(destroy.run.describe())
    # The invocation was in the state and the destroy deleted it...
    assert "aws_lambda_invocation.deploy" in lifecycle["revert"].state
    assert "aws_lambda_invocation.deploy" not in destroy.state, destroy.state
    # ...without invoking the function, so without deploying.
    assert destroy.trigger_invocations == [], [i.payload for i in destroy.trigger_invocations]
    assert destroy.new_deployments == []


@pytest.mark.e2e
def test_emulator_returns_codedeploy_times_as_epoch_numbers(emulator: Emulator) -> None:
    """The Go SDK (Terraform) rejects ISO strings in CodeDeploy's JSON timestamps."""
    cd = emulator.client("codedeploy")
    cd.create_application(applicationName="e2e-epoch", computePlatform="Server")
    cd.create_deployment_group(
        applicationName="e2e-epoch",
        deploymentGroupName="g",
        serviceRoleArn="arn:aws:iam::123456789012:role/e2e-epoch",
    )
    deployment_id = cd.create_deployment(
        applicationName="e2e-epoch", deploymentGroupName="g", description="simulate:no-events"
    )["deploymentId"]
    request = urllib.request.Request(
        emulator.endpoint,
        data=json.dumps({"deploymentId": deployment_id}).encode(),
        headers={
            "X-Amz-Target": "CodeDeploy_20141006.GetDeployment",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/codedeploy/"
            "aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        info = json.loads(response.read())["deploymentInfo"]
    assert isinstance(info["createTime"], int | float), info
    emulator.wait_idle(prefix="e2e-epoch")
    with urllib.request.urlopen(request, timeout=30) as response:
        info = json.loads(response.read())["deploymentInfo"]
    assert info["status"] == "Succeeded"
    assert isinstance(info["completeTime"], int | float), info
