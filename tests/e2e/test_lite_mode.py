"""End to end: the module's trigger alone (``status_tracking = false``), then status tracking
switched on in the same state, with the real release zip, the real aws provider and `terraform
apply` against the local emulator.

One working directory (tests/e2e/lite_mode), one command after the other (a scenario fixture,
run in the background beside the other scenarios, so the tests do not depend on their order):
a failing deployment and a successful one with the trigger alone; `terraform plan -out` with
tracking switched on, read with `terraform show -json`; that saved plan applied; one more
deployment, now seen through the table.

The plan is the proof a mocked provider cannot give (examples/terraform/tests): the real
provider's diff, with its ForceNew arguments and CustomizeDiff, says what switching on does to
the trigger's function, role, policy and log group, and to the caller's aws_lambda_invocation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.simulator import HEALTH_FAILURE

from .background import scenario
from .emulator import Emulator, Invocation
from .harness import Terraform, TerraformRun

LITE_CONFIG = Path(__file__).resolve().parent / "lite_mode"
PLAN_FILE = "switch-on.tfplan"

TRIGGER_ADDRESSES = {
    "module.trigger.aws_lambda_function.trigger",
    "module.trigger.aws_iam_role.trigger[0]",
    "module.trigger.aws_iam_role_policy.trigger[0]",
    "module.trigger.aws_cloudwatch_log_group.trigger",
}
TRACKING_ADDRESSES = {
    f"module.trigger.{resource}[0]"
    for resource in (
        "aws_dynamodb_table.status",
        "aws_lambda_function.recorder",
        "aws_iam_role.recorder",
        "aws_iam_role_policy.recorder",
        "aws_cloudwatch_log_group.recorder",
        "aws_cloudwatch_event_rule.codedeploy",
        "aws_cloudwatch_event_target.recorder",
        "aws_lambda_permission.events",
        "aws_sqs_queue.dlq",
        "aws_sqs_queue_policy.dlq",
    )
}
INVOCATION = "aws_lambda_invocation.deploy"

FAILING = "e2e lite simulate:fail"
SUCCEEDING = "e2e lite: the trigger alone"
TRACKED = "e2e lite: with status tracking"


@dataclass
class Step:
    """One terraform command and what it changed in the emulator."""

    run: TerraformRun
    new_deployments: list[tuple[str, str]]
    trigger_invocations: list[Invocation]
    state: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    account: dict[str, list[str]] = field(default_factory=dict)
    """What the emulator holds under the scenario's prefix right after the step, by kind."""


@dataclass
class LiteScenario:
    tf: Terraform
    steps: dict[str, Step] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    """`terraform show -json` of the saved plan that switches tracking on."""
    environment: dict[str, dict[str, str]] = field(default_factory=dict)
    """The trigger's environment as Lambda holds it, after the step of that name."""

    @property
    def prefix(self) -> str:
        return self.tf.variables["name_prefix"]

    def change(self, address: str) -> dict[str, Any]:
        found = [c for c in self.plan.get("resource_changes", []) if c["address"] == address]
        assert len(found) <= 1, found
        return found[0]["change"] if found else {}


def _var_args(tf: Terraform, overrides: Mapping[str, str]) -> list[str]:
    return [f"-var={k}={v}" for k, v in {**tf.variables, **overrides}.items()]


def _account(emulator: Emulator, prefix: str) -> dict[str, list[str]]:
    """The functions, tables, rules, queues and roles named with the prefix."""
    iam_roles = emulator.client("iam").list_roles()["Roles"]
    return {
        "functions": sorted(
            f["FunctionName"]
            for f in emulator.client("lambda").list_functions()["Functions"]
            if f["FunctionName"].startswith(prefix)
        ),
        "tables": sorted(
            t
            for t in emulator.client("dynamodb").list_tables()["TableNames"]
            if t.startswith(prefix)
        ),
        "rules": sorted(
            r["Name"] for r in emulator.client("events").list_rules(NamePrefix=prefix)["Rules"]
        ),
        "queues": sorted(
            emulator.client("sqs").list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
        ),
        "roles": sorted(r["RoleName"] for r in iam_roles if r["RoleName"].startswith(prefix)),
    }


@scenario
def lite(
    emulator: Emulator,
    lambda_zip: Path,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
) -> LiteScenario:
    """The trigger alone, then status tracking switched on in the same state."""
    prefix = f"e2e-lite-{uuid.uuid4().hex[:6]}"
    tf = example_terraform(
        LITE_CONFIG,
        {
            "endpoint": emulator.endpoint,
            "lambda_zip_path": str(lambda_zip),
            "name_prefix": prefix,
            "status_tracking": "false",
            "description": SUCCEEDING,
        },
    )
    scenario = LiteScenario(tf)
    application = f"{prefix}-app"
    trigger = f"{prefix}-trigger"
    lambda_client = emulator.client("lambda")

    def deployments() -> list[tuple[str, str]]:
        return [
            (d.deployment_id, d.status)
            for d in emulator.deployments()
            if d.application_name == application
        ]

    def invocations() -> list[Invocation]:
        return [i for i in emulator.runner.invocations if i.function_name == trigger]

    def step(name: str, command: Callable[[], TerraformRun]) -> bool:
        deployments_before, calls_before = len(deployments()), len(invocations())
        run = command()
        emulator.wait_idle(prefix=prefix)
        done = Step(run, deployments()[deployments_before:], invocations()[calls_before:])
        scenario.steps[name] = done
        if run.returncode == 0:
            done.state = tf.state_list()
            done.outputs = tf.outputs()
            done.account = _account(emulator, prefix)
            configuration = lambda_client.get_function_configuration(FunctionName=trigger)
            scenario.environment[name] = configuration["Environment"]["Variables"]
        return run.returncode == 0

    step("fail", lambda: tf.apply(description=FAILING))
    if step("succeed", lambda: tf.apply()):
        planned = tf.run(
            "plan",
            f"-out={PLAN_FILE}",
            "-input=false",
            "-no-color",
            *_var_args(tf, {"status_tracking": "true"}),
        )
        scenario.steps["plan"] = Step(planned, [], [])
        if planned.returncode == 0:
            shown = tf.run("show", "-json", "-no-color", PLAN_FILE)
            assert shown.returncode == 0, shown.describe()
            scenario.plan = json.loads(shown.stdout)
            applied = step(
                "switch_on",
                lambda: tf.run("apply", "-auto-approve", "-input=false", "-no-color", PLAN_FILE),
            )
            if applied:
                step("tracked", lambda: tf.apply(status_tracking="true", description=TRACKED))
    return scenario


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.e2e
def test_the_trigger_alone_is_three_resources_and_a_policy(
    lite: LiteScenario, explain: Callable[[str], str]
) -> None:
    succeed = lite.steps["succeed"]
    assert succeed.run.returncode == 0, explain(succeed.run.describe())
    module = {a for a in succeed.state if a.startswith("module.trigger.") and ".data." not in a}
    assert module == TRIGGER_ADDRESSES, module
    # Nothing of status tracking in the account either (the CodeDeploy role is the test's).
    prefix = lite.prefix
    assert succeed.account == {
        "functions": [f"{prefix}-trigger"],
        "tables": [],
        "rules": [],
        "queues": [],
        "roles": [f"{prefix}-codedeploy", f"{prefix}-trigger"],
    }
    assert "STATUS_TABLE_NAME" not in lite.environment["succeed"]
    # A null output is left out of `terraform output -json`.
    assert "status_table_name" not in succeed.outputs, succeed.outputs


@pytest.mark.e2e
def test_the_trigger_alone_deploys_and_waits_by_polling(
    lite: LiteScenario, explain: Callable[[str], str]
) -> None:
    succeed = lite.steps["succeed"]
    assert succeed.run.returncode == 0, explain(succeed.run.describe())
    result = succeed.outputs["result"]
    assert succeed.new_deployments == [(result["deploymentId"], "Succeeded")]
    assert result["status"] == "Succeeded"
    # No table: the outcome came from GetDeployment polling.
    assert result["detectedBy"] == "poll", explain(f"trigger result: {result}")
    assert [i.error for i in succeed.trigger_invocations] == [False]


@pytest.mark.e2e
def test_the_trigger_alone_fails_the_apply_with_the_reason(
    lite: LiteScenario, explain: Callable[[str], str]
) -> None:
    fail = lite.steps["fail"]
    assert fail.run.returncode != 0, explain(fail.run.describe())
    # Ours failed; CodeDeploy's automatic rollback (a deployment of its own) succeeded.
    assert [status for _, status in fail.new_deployments] == ["Failed", "Succeeded"]
    failed_id = fail.new_deployments[0][0]
    output = _flat(fail.run.output)
    assert failed_id in output, explain(fail.run.describe())
    assert _flat(HEALTH_FAILURE["message"]) in output, explain(fail.run.describe())
    assert [i.error for i in fail.trigger_invocations] == [True]


@pytest.mark.e2e
def test_switching_tracking_on_replaces_nothing(
    lite: LiteScenario, explain: Callable[[str], str]
) -> None:
    planned = lite.steps.get("plan")
    assert planned is not None, explain(lite.steps["succeed"].run.describe())
    assert planned.run.returncode == 0, planned.run.describe()
    changes = {c["address"]: c["change"]["actions"] for c in lite.plan["resource_changes"]}
    # Nothing is deleted (a replacement is a delete and a create of one address).
    assert not {a: acts for a, acts in changes.items() if "delete" in acts}, changes
    # What is created is status tracking, and only that.
    created = {a for a, acts in changes.items() if acts == ["create"]}
    assert created == TRACKING_ADDRESSES, changes
    # The trigger is updated in place: its environment and its policy; role and log group kept.
    assert changes["module.trigger.aws_lambda_function.trigger"] == ["update"]
    assert changes["module.trigger.aws_iam_role_policy.trigger[0]"] == ["update"]
    assert changes["module.trigger.aws_iam_role.trigger[0]"] == ["no-op"]
    assert changes["module.trigger.aws_cloudwatch_log_group.trigger"] == ["no-op"]
    # The caller's deployment is not touched: no new invocation, no redeployment.
    assert changes[INVOCATION] == ["no-op"], changes

    function = lite.change("module.trigger.aws_lambda_function.trigger")
    before, after = function["before"], function["after"]
    changed = {k for k in after if k in before and after[k] != before[k]}
    assert changed == {"environment"}, {k: (before[k], after[k]) for k in changed}
    old_env = before["environment"][0]["variables"]
    new_env = after["environment"][0]["variables"]
    assert new_env == {**old_env, "STATUS_TABLE_NAME": f"{lite.prefix}-status"}


@pytest.mark.e2e
def test_the_switch_on_apply_invokes_nothing_and_deploys_nothing(
    lite: LiteScenario, explain: Callable[[str], str]
) -> None:
    switch_on = lite.steps.get("switch_on")
    assert switch_on is not None, "the switch-on plan failed; see its test"
    assert switch_on.run.returncode == 0, explain(switch_on.run.describe())
    assert switch_on.new_deployments == []
    assert switch_on.trigger_invocations == []
    assert lite.environment["switch_on"]["STATUS_TABLE_NAME"] == f"{lite.prefix}-status"
    assert switch_on.outputs["status_table_name"] == f"{lite.prefix}-status"
    prefix = lite.prefix
    assert switch_on.account["functions"] == [f"{prefix}-recorder", f"{prefix}-trigger"]
    assert switch_on.account["tables"] == [f"{prefix}-status"]
    assert switch_on.account["rules"] == [f"{prefix}-deployment-state"]
    assert len(switch_on.account["queues"]) == 1
    # The deployment output is the lite mode's, untouched.
    assert switch_on.outputs["result"] == lite.steps["succeed"].outputs["result"]
    assert set(switch_on.state) >= TRACKING_ADDRESSES


@pytest.mark.e2e
def test_after_switching_on_the_trigger_hears_of_the_end_from_the_table(
    lite: LiteScenario, explain: Callable[[str], str]
) -> None:
    tracked = lite.steps.get("tracked")
    assert tracked is not None, "switching tracking on failed; see its tests"
    assert tracked.run.returncode == 0, explain(tracked.run.describe())
    result = tracked.outputs["result"]
    assert tracked.new_deployments == [(result["deploymentId"], "Succeeded")]
    assert result["detectedBy"] == "event", explain(f"trigger result: {result}")
