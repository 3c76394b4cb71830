"""End to end: the chain module (examples/terraform/modules/deployment) waits for one
deployment across several invocations, with the real `terraform apply`, the real release zip
and a 15 s function timeout (5 s margin), so that a link waits about 7 s instead of 14.5
minutes.

The module's `deploy` link creates the deployment without waiting; waiting links 1..4 attach
to it. Five applies, each captured once; the tests assert on what each left behind. 1, 2-3
and 4-5 run in three working directories (no walk needs another's state), as three scenario
fixtures that run in the background beside each other and the other scenarios:

1. a deployment of about three links: the apply waits across links and ends Succeeded;
2. a deployment that fails after at least one hand-over between waiting links: the apply
   fails with its message (a 25 s function timeout here, so that a link waits ~17 s: the
   failure comes after link 1 ends even when cold starts on a loaded machine take seconds);
3. the same apply again: the link that failed attaches to the failed deployment and reports
   it at once, and nothing is deployed again (docs/long-deployments.md, retrying a failed
   chain);
4. `wait_until = "Ready"`: the apply returns at Ready;
5. only waiting options changed (wait_until, max_wait_minutes): the waiting links are
   replaced and attach again, the deploying link is kept, and nothing is deployed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.moto_codedeploy import error_information
from tests.support.simulator import HEALTH_FAILURE

from .background import scenario
from .emulator import Emulator, Invocation
from .harness import REPO, Terraform, TerraformRun

CHAIN_CONFIG = REPO / "tests" / "e2e" / "chain"
# tests/e2e/chain/main.tf defaults: a link waits until 5 s (margin) + 3 s (the shortest
# CodeDeploy call's worst case) remain, about 7 s; with start-up, links begin ~9 s apart.
TRIGGER_TIMEOUT_SECONDS = 15
LINK_WAIT_SECONDS = 7
LONG_DEPLOYMENT = "e2e chain simulate:seconds=22"
# With a 25 s timeout a link waits ~17 s, and 1.2 minutes make 4 links (72 / 20). The
# deployment fails 45 s after its creation: after link 1 ends (~21 s in when start-ups are
# quick, ~40 s when each takes 8 s on a loaded machine) and long before link 4 ends (~78 s).
FAILING_CHAIN = {"trigger_timeout": "25", "max_wait_minutes": "1.2"}
FAILING_DEPLOYMENT = "e2e chain simulate:fail simulate:seconds=45"
# InProgress after 2 s, Ready from 10 s to 18 s, then Succeeded (tests/support/simulator.py):
# the second link sees Ready.
READY_DEPLOYMENT = "e2e chain simulate:ready simulate:seconds=18"


@dataclass
class ChainApply:
    """One `terraform apply` of the chain configuration and what it did."""

    run: TerraformRun
    invocations: list[Invocation]
    """The trigger invocations of this apply, in order (one per link that ran)."""
    new_deployments: list[Any]
    """Deployments created during this apply (moto DeploymentInfo), after the emulator idled."""
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def results(self) -> list[dict[str, Any]]:
        return [json.loads(i.payload) for i in self.invocations]

    def describe(self) -> str:
        links = "\n".join(
            f"  link {n}: {i.duration:.1f}s (handler {i.handler_duration:.1f}s) "
            f"error={i.error} {i.payload.decode()[:300]}"
            for n, i in enumerate(self.invocations, 1)
        )
        return f"{self.run.describe()}\n--- trigger invocations ---\n{links}"


def _apply(tf: Terraform, emulator: Emulator, variables: Mapping[str, str]) -> ChainApply:
    function = f"{tf.variables['name_prefix']}-trigger"
    application = f"{tf.variables['name_prefix']}-app"
    calls_before = len(emulator.runner.invocations)
    known = {d.deployment_id for d in emulator.deployments()}
    run = tf.apply(**variables)
    invocations = [
        i for i in emulator.runner.invocations[calls_before:] if i.function_name == function
    ]
    outputs = tf.outputs() if run.returncode == 0 else {}
    emulator.wait_idle(prefix=tf.variables["name_prefix"])
    new = [
        d
        for d in emulator.deployments()
        if d.application_name == application and d.deployment_id not in known
    ]
    return ChainApply(run, invocations, new, outputs)


def _chain_root(
    emulator: Emulator,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    lambda_zip: Path,
) -> Terraform:
    return example_terraform(
        CHAIN_CONFIG,
        {
            "endpoint": emulator.endpoint,
            "lambda_zip_path": str(lambda_zip),
            "name_prefix": f"e2e-chain-{uuid.uuid4().hex[:6]}",
        },
    )


@scenario
def chain_succeeding(
    emulator: Emulator,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    lambda_zip: Path,
) -> dict[str, ChainApply]:
    """Apply 1 in its own working directory: long."""
    tf = _chain_root(emulator, example_terraform, lambda_zip)
    return {"long": _apply(tf, emulator, {"description": LONG_DEPLOYMENT})}


@scenario
def chain_failing(
    emulator: Emulator,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    lambda_zip: Path,
) -> dict[str, ChainApply]:
    """Applies 2-3 in another working directory, with 17 s links: failing, failing again."""
    tf = _chain_root(emulator, example_terraform, lambda_zip)
    tf.variables.update(FAILING_CHAIN)
    applies: dict[str, ChainApply] = {}
    applies["failing"] = _apply(tf, emulator, {"description": FAILING_DEPLOYMENT})
    applies["failing again"] = _apply(tf, emulator, {"description": FAILING_DEPLOYMENT})
    return applies


@scenario
def chain_ready_then_rewaited(
    emulator: Emulator,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    lambda_zip: Path,
) -> dict[str, ChainApply]:
    """Applies 4-5 in another working directory: ready, waiting changed."""
    tf = _chain_root(emulator, example_terraform, lambda_zip)
    applies: dict[str, ChainApply] = {}
    applies["ready"] = _apply(
        tf, emulator, {"description": READY_DEPLOYMENT, "wait_until": "Ready"}
    )
    # The same deployment request; only how to wait changes (3 links instead of 4).
    applies["waiting changed"] = _apply(
        tf,
        emulator,
        {"description": READY_DEPLOYMENT, "wait_until": "Succeeded", "max_wait_minutes": "0.45"},
    )
    return applies


@pytest.fixture(scope="module")
def chain(
    chain_succeeding: dict[str, ChainApply],
    chain_failing: dict[str, ChainApply],
    chain_ready_then_rewaited: dict[str, ChainApply],
) -> dict[str, ChainApply]:
    """The five applies by name."""
    return {**chain_succeeding, **chain_failing, **chain_ready_then_rewaited}


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.e2e
def test_the_apply_waits_across_links_and_ends_succeeded(
    chain: dict[str, ChainApply], explain: Callable[[str], str]
) -> None:
    long = chain["long"]
    assert long.run.returncode == 0, explain(long.describe())
    assert long.outputs["links"] == 4
    # One deployment, waited for by every link, Succeeded.
    assert [d.status for d in long.new_deployments] == ["Succeeded"], explain(long.describe())
    deployment = long.new_deployments[0]
    assert long.outputs["deployment_id"] == deployment.deployment_id
    assert long.outputs["status"] == "Succeeded"
    assert long.outputs["result"]["complete"] is True
    assert long.outputs["result"]["milestone"] == "Succeeded"
    # moto keeps createTime naive and completeTime aware, both UTC.
    lasted = deployment.complete_time.replace(tzinfo=None) - deployment.create_time.replace(
        tzinfo=None
    )
    assert lasted.total_seconds() > TRIGGER_TIMEOUT_SECONDS, (
        "the deployment must outlast one invocation for this test to mean anything"
    )

    # The deploying link created the deployment and returned at once (wait = false); four
    # waiting links ran without an error, all on that deployment; the first one(s) handed
    # over with complete: false, then one saw the end, and a link after the end returned at
    # once.
    assert len(long.invocations) == 5, explain(long.describe())
    assert not any(i.error for i in long.invocations), explain(long.describe())
    assert {r["deploymentId"] for r in long.results} == {deployment.deployment_id}
    created, links = long.results[0], long.results[1:]
    assert created["complete"] is False, explain(long.describe())
    # It did not wait: its answer is the status CreateDeployment left (a cold start on a
    # loaded machine can take seconds, so the proof is the answer, not the duration).
    assert created["status"] in {"Created", "Queued", "InProgress"}, explain(long.describe())
    assert "deployment ended" not in long.invocations[0].log, explain(long.describe())
    completes = [r["complete"] for r in links]
    assert completes[0] is False, explain(long.describe())
    first_complete = completes.index(True)
    assert completes[first_complete:] == [True] * (4 - first_complete)
    assert [r["status"] for r in links[:first_complete]] == ["InProgress"] * first_complete
    assert links[first_complete]["status"] == "Succeeded"
    # The handover happened near the deadline, not early.
    assert long.invocations[1].handler_duration > LINK_WAIT_SECONDS - 1, explain(long.describe())


@pytest.mark.e2e
def test_a_deployment_that_fails_after_a_hand_over_fails_the_apply(
    chain: dict[str, ChainApply], explain: Callable[[str], str]
) -> None:
    failing = chain["failing"]
    assert failing.run.returncode != 0, explain(failing.describe())
    # One deployment, which failed.
    assert [d.status for d in failing.new_deployments] == ["Failed"], explain(failing.describe())
    failed = failing.new_deployments[0]
    assert error_information(failed)["message"] == HEALTH_FAILURE["message"]
    # The deploying link created it; the waiting links before the failure handed over (at
    # least one, or the hand-over is not tested); the next one raised DeploymentFailed and
    # none ran after it.
    created, *handed_over, raised = failing.invocations
    assert handed_over, explain(failing.describe())
    assert not created.error and json.loads(created.payload)["complete"] is False
    for link in handed_over:
        assert not link.error and json.loads(link.payload)["complete"] is False
    assert raised.error and json.loads(raised.payload)["errorType"] == "DeploymentFailed"
    output = _flat(failing.run.output)
    assert failed.deployment_id in output, explain(failing.describe())
    assert _flat(HEALTH_FAILURE["message"]) in output, explain(failing.describe())


@pytest.mark.e2e
def test_applying_again_after_a_failed_link_reports_the_failure_and_deploys_nothing(
    chain: dict[str, ChainApply], explain: Callable[[str], str]
) -> None:
    """CREATE_ONLY keeps the deploying link and the links that handed over (they succeeded)
    and not the one that failed: the next apply re-creates that link only, which attaches to
    the deployment that already failed.
    Deploying again takes `-replace` of the deploying link or a changed input
    (docs/long-deployments.md: retrying a failed chain)."""
    failed = chain["failing"].new_deployments
    again = chain["failing again"]
    assert again.run.returncode != 0, explain(again.describe())
    assert again.new_deployments == [], explain(again.describe())
    assert len(again.invocations) == 1, explain(again.describe())
    payload = json.loads(again.invocations[0].payload)
    assert payload["errorType"] == "DeploymentFailed"
    assert failed and failed[0].deployment_id in payload["errorMessage"]
    # Attaching after the end is immediate: no waiting for a deadline.
    # (The handler's own time: a cold start on a loaded machine can take seconds.)
    assert again.invocations[0].handler_duration < TRIGGER_TIMEOUT_SECONDS / 2, explain(
        again.describe()
    )


@pytest.mark.e2e
def test_wait_until_ready_returns_at_ready(
    chain: dict[str, ChainApply], explain: Callable[[str], str]
) -> None:
    ready = chain["ready"]
    assert ready.run.returncode == 0, explain(ready.describe())
    assert ready.outputs["status"] == "Ready", explain(ready.describe())
    assert ready.outputs["result"]["milestone"] == "Ready"
    assert ready.outputs["result"]["complete"] is True
    # The link that met the milestone returned at Ready, before the end (a wait for the end
    # would have said Succeeded); the links after it did not wait (wait = false).
    completes = [r["complete"] for r in ready.results]
    met = completes.index(True)
    assert met > 0, "the deploying link never waits"
    assert ready.results[met]["status"] == "Ready", explain(ready.describe())
    assert all(
        i.handler_duration < TRIGGER_TIMEOUT_SECONDS / 2 for i in ready.invocations[met + 1 :]
    ), explain(ready.describe())
    assert [d.status for d in ready.new_deployments] == ["Succeeded"]


@pytest.mark.e2e
def test_changing_only_how_to_wait_deploys_nothing(
    chain: dict[str, ChainApply], explain: Callable[[str], str]
) -> None:
    """wait_until and max_wait_minutes live on the waiting links only: changing them replaces
    those links, which attach to the deployment that already succeeded and answer at once.
    The deploying link is kept, so no deployment starts."""
    ready = chain["ready"]
    changed = chain["waiting changed"]
    assert changed.run.returncode == 0, explain(changed.describe())
    assert changed.new_deployments == [], explain(changed.describe())
    output = changed.run.output
    assert "aws_lambda_invocation.deploy: Creating" not in output, explain(changed.describe())
    assert "aws_lambda_invocation.link_1: Creating" in output, explain(changed.describe())
    # Three waiting links now (0.45 * 60 / 10 = 2.7), each attaching to the same deployment.
    assert changed.outputs["links"] == 3
    assert len(changed.invocations) == 3, explain(changed.describe())
    deployment_id = ready.outputs["deployment_id"]
    assert changed.outputs["deployment_id"] == deployment_id
    assert {r["deploymentId"] for r in changed.results} == {deployment_id}
    assert changed.outputs["status"] == "Succeeded"
    assert all(i.handler_duration < TRIGGER_TIMEOUT_SECONDS / 2 for i in changed.invocations), (
        explain(changed.describe())
    )
