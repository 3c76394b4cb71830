"""End to end: `terraform apply` of examples/terraform-lambda-canary as it is (a function that
publishes versions, an alias, validation hook functions, an errors alarm, a CodeDeploy Lambda
application and canary group, the trigger module and its aws_lambda_invocation), against the
local emulator, with the real release zip and the example's own src/ zipped as its README says.

The emulator runs Lambda deployments as CodeDeploy does (tests/e2e/platforms.py): it invokes
the AppSpec's BeforeAllowTraffic and AfterAllowTraffic hooks, which really invoke the new
version and report through PutLifecycleEventHookExecutionStatus, reads the group's alarm, and
moves the alias. One scenario fixture (in the background beside the other scenarios) applies
four times, in order:

1. the first apply: version 1, deployed onto itself all at once;
2. a new message: version 2, the canary shift succeeds, the alias serves version 2;
3. a message template naming an unknown field: version 3 raises, so the BeforeAllowTraffic
   hook reports Failed and the apply fails; the alias still serves version 2;
4. the alarm in ALARM and a new message: version 4's shift is stopped by the alarm and rolled
   back; the alias serves version 2 again.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .background import scenario
from .emulator import Emulator
from .example_roots import Applied, flat, provider_override, trigger_calls, zip_files
from .harness import REPO, Terraform

EXAMPLE = REPO / "examples" / "terraform-lambda-canary"
SERVICES = (
    "cloudwatch",
    "cloudwatchevents",
    "cloudwatchlogs",
    "deploy",
    "dynamodb",
    "iam",
    "lambda",
    "sqs",
    "sts",
)
BROKEN_TEMPLATE = "Hi from {versoin}"
"""A typo: the new version raises KeyError('versoin') on every call."""


@dataclass
class CanaryScenario:
    tf: Terraform
    applies: dict[str, Applied] = field(default_factory=dict)
    alias_versions: dict[str, str] = field(default_factory=dict)
    """The version the alias serves after each apply."""
    deployments: list[Any] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.tf.variables["name"]


def _function_zip(directory: Path) -> Path:
    source = EXAMPLE / "src"
    return zip_files(
        directory / "function.zip",
        {p.name: p.read_bytes() for p in sorted(source.glob("*.py"))},
    )


def _apply(emulator: Emulator, tf: Terraform, **variables: str) -> Applied:
    since = len(emulator.runner.invocations)
    run = tf.apply(**variables)
    emulator.wait_idle(prefix=tf.variables["name"])
    outputs = tf.outputs() if run.returncode == 0 else {}
    calls = trigger_calls(emulator, f"{tf.variables['name']}-trigger", since)
    return Applied(run, calls, outputs)


def _alias_version(emulator: Emulator, name: str) -> str:
    alias = emulator.client("lambda").get_alias(FunctionName=name, Name="live")
    return str(alias["FunctionVersion"])


@scenario
def canary(
    emulator: Emulator,
    lambda_zip: Path,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    tmp_path_factory: pytest.TempPathFactory,
) -> CanaryScenario:
    """The example's applies in order, run in the background beside the other scenarios."""
    tf = example_terraform(
        EXAMPLE,
        {
            "name": f"e2e-lc-{uuid.uuid4().hex[:6]}",
            "lambda_zip_path": str(lambda_zip),
            "lambda_architecture": "x86_64",
            "function_zip_path": str(_function_zip(tmp_path_factory.mktemp("canary"))),
        },
    )
    (tf.workdir / "e2e_provider_override.tf").write_text(
        provider_override(emulator.endpoint, SERVICES, written_by=Path(__file__).name),
        encoding="utf-8",
    )
    scenario = CanaryScenario(tf)
    steps: list[tuple[str, dict[str, str]]] = [
        ("first", {}),
        ("shift", {"message_template": "Hi from version {version}"}),
        ("broken", {"message_template": BROKEN_TEMPLATE}),
    ]
    for label, variables in steps:
        scenario.applies[label] = _apply(emulator, tf, **variables)
        scenario.alias_versions[label] = _alias_version(emulator, scenario.name)
        # Shown with `pytest -s`: what the README quotes as a failure.
        print(f"--- {label}: {scenario.applies[label].error_message or 'no error'}")
        if label == "first" and not scenario.applies[label].succeeded:
            break
    else:
        cloudwatch = emulator.client("cloudwatch")
        alarm = f"{scenario.name}-live-errors"
        cloudwatch.set_alarm_state(
            AlarmName=alarm, StateValue="ALARM", StateReason="e2e: errors during the canary"
        )
        try:
            scenario.applies["alarm"] = _apply(
                emulator, tf, message_template="Hey from version {version}"
            )
        finally:
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="e2e")
        scenario.alias_versions["alarm"] = _alias_version(emulator, scenario.name)
    scenario.deployments = [
        d for d in emulator.deployments() if d.application_name == scenario.name
    ]
    # No destroy: nothing checks it, and the emulator ends with the session.
    return scenario


@pytest.mark.e2e
def test_lambda_example_first_apply_deploys_version_one(
    canary: CanaryScenario, explain: Callable[[str], str]
) -> None:
    first = canary.applies["first"]
    assert first.succeeded, explain(first.describe())
    assert first.outputs["status"] == "Succeeded"
    assert first.outputs["published_version"] == "1"
    assert canary.alias_versions["first"] == "1"


@pytest.mark.e2e
def test_lambda_example_new_version_shifts_the_alias_through_the_hooks(
    canary: CanaryScenario, emulator: Emulator, explain: Callable[[str], str]
) -> None:
    shift = canary.applies["shift"]
    assert shift.succeeded, explain(shift.describe())
    assert shift.outputs["status"] == "Succeeded"
    assert shift.outputs["published_version"] == "2"
    assert canary.alias_versions["shift"] == "2"
    # The success result's timeline is the Lambda traffic steps.
    lifecycle = shift.outputs["lifecycle"]
    assert lifecycle["targetId"] == canary.name, lifecycle
    assert [e["name"] for e in lifecycle["events"]] == [
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ], lifecycle
    assert {e["status"] for e in lifecycle["events"]} == {"Succeeded"}, lifecycle
    # Both hooks really ran against the new version and reported.
    deployment = next(
        d for d in canary.deployments if d.deployment_id == shift.result["deploymentId"]
    )
    assert deployment.deployment_config_name == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    hooks = [
        i for i in emulator.runner.invocations if i.function_name.startswith("CodeDeployHook_")
    ]
    logs = "\n".join(i.log for i in hooks)
    assert logs.count(f"{canary.name}:2 answered the test event") == 1, explain(logs)
    assert f"{canary.name}:live answered the test event" in logs, explain(logs)


@pytest.mark.e2e
def test_lambda_example_failing_before_allow_traffic_hook_fails_the_apply(
    canary: CanaryScenario, explain: Callable[[str], str]
) -> None:
    broken = canary.applies["broken"]
    assert not broken.succeeded, explain(broken.describe())
    message = broken.error_message
    hook = f"CodeDeployHook_{canary.name}-before-allow-traffic"
    # The explanation names the failed lifecycle event, the hook function and what it reported
    # (its log: the new version's KeyError).
    assert "BeforeAllowTraffic Failed" in message, message
    assert hook in message, message
    assert "reported Failed" in message, message
    assert "KeyError" in message and "versoin" in message, message
    assert "HOOK_EXECUTION_FAILURE" in message, message
    # CodeDeploy rolled back; the alias never left version 2, and the message names it.
    serving = r"Succeeded, Lambda function \S+ alias live version 2 is serving again"
    assert re.search(serving, message), message
    assert canary.alias_versions["broken"] == "2"
    # Terraform shows the same explanation.
    assert hook in flat(broken.run.output), explain(broken.describe())


@pytest.mark.e2e
def test_lambda_example_alarm_stops_the_shift_and_rolls_back(
    canary: CanaryScenario, explain: Callable[[str], str]
) -> None:
    alarmed = canary.applies["alarm"]
    assert not alarmed.succeeded, explain(alarmed.describe())
    message = alarmed.error_message
    alarm = f"{canary.name}-live-errors"
    assert "Stopped" in message and "ALARM_ACTIVE" in message, message
    assert f"alarms watched by the deployment: {alarm}" in message, message
    assert "Rolled back by deployment" in message, message
    assert "Succeeded, the previous version is serving again" in message, message
    # The version serving again: the alias is back on version 2.
    assert canary.alias_versions["alarm"] == "2"
    rollbacks = [d for d in canary.deployments if d.creator == "codeDeployRollback"]
    assert len(rollbacks) == 2 and {d.status for d in rollbacks} == {"Succeeded"}, rollbacks
