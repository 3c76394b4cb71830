"""End to end: `terraform apply` of examples/terraform-ec2-inplace as it is (a launch template
and an Auto Scaling group, a versioned bucket with the revision bundle, a CodeDeploy Server
application and in-place group on the Auto Scaling group, the trigger module and its
aws_lambda_invocation), against the local emulator, with the real release zip and the
example's bundle/ zipped as its README says.

The emulator runs EC2/on-premises deployments from what is really there (tests/e2e/
platforms.py): the instances of the Auto Scaling group, the bundle's appspec.yml read from S3.
There is no agent to run the scripts, so the test says which script fails
(:func:`platforms.script_failure`). One scenario fixture (in the background beside the
other scenarios) applies four times, in order:

1. the bundle on two instances: Succeeded;
2. a new bundle whose ApplicationStart script fails: the apply fails, naming the instance,
   the script and its log tail; CodeDeploy rolls back to the first bundle;
3. ``deployment_mode = RESTART``: no revision is sent; CodeDeploy restarts the last
   successful one;
4. 30 instances, all at once, ApplicationStart failing on each: the explanation details three
   and counts the others ("and 27 more").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import platforms
from .background import scenario
from .emulator import Emulator
from .example_roots import Applied, flat, provider_override, trigger_calls, zip_files
from .harness import REPO, Terraform

EXAMPLE = REPO / "examples" / "terraform-ec2-inplace"
SERVICES = (
    "autoscaling",
    "cloudwatchevents",
    "cloudwatchlogs",
    "deploy",
    "dynamodb",
    "ec2",
    "iam",
    "lambda",
    "s3",
    "sqs",
    "ssm",
    "sts",
)
START_SCRIPT = "scripts/start_server.sh"
START_OUTPUT = "\n".join(
    [
        "[stdout]Created symlink /etc/systemd/system/multi-user.target.wants/"
        "codedeploy-demo.service",
        "[stderr]Job for codedeploy-demo.service failed because the control process exited "
        "with error code.",
        '[stderr]See "systemctl status codedeploy-demo.service" and "journalctl -xeu '
        'codedeploy-demo.service" for details.',
    ]
)
MANY = 30


@dataclass
class FleetScenario:
    tf: Terraform
    applies: dict[str, Applied] = field(default_factory=dict)
    deployments: dict[str, Any] = field(default_factory=dict)
    """deploymentId -> GetDeployment's deploymentInfo, for every deployment of the example."""
    instances: dict[str, list[str]] = field(default_factory=dict)
    """The Auto Scaling group's instances after each apply."""

    @property
    def name(self) -> str:
        return self.tf.variables["name"]


def _bundle(directory: Path, label: str) -> Path:
    source = EXAMPLE / "bundle"
    files = {
        str(p.relative_to(source)): p.read_bytes() for p in sorted(source.rglob("*")) if p.is_file()
    }
    # Each bundle differs (a new object version), as a new release would.
    files["app/release.txt"] = f"{label}\n".encode()
    return zip_files(directory / f"bundle-{label}.zip", files)


def _apply(emulator: Emulator, tf: Terraform, **variables: str) -> Applied:
    since = len(emulator.runner.invocations)
    run = tf.apply(**variables)
    emulator.wait_idle(prefix=tf.variables["name"])
    outputs = tf.outputs() if run.returncode == 0 else {}
    return Applied(run, trigger_calls(emulator, f"{tf.variables['name']}-trigger", since), outputs)


@scenario
def fleet(
    emulator: Emulator,
    lambda_zip: Path,
    example_terraform: Callable[[Path, Mapping[str, str]], Terraform],
    tmp_path_factory: pytest.TempPathFactory,
) -> FleetScenario:
    """The example's applies in order, run in the background beside the other scenarios."""
    ec2 = emulator.client("ec2")
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
        "Subnets"
    ][0]["SubnetId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    bundles = tmp_path_factory.mktemp("bundles")
    tf = example_terraform(
        EXAMPLE,
        {
            "name": f"e2e-ec2-{uuid.uuid4().hex[:6]}",
            "lambda_zip_path": str(lambda_zip),
            "lambda_architecture": "x86_64",
            "subnet_ids": f'["{subnet}"]',
            "ami_id": image,
            "bundle_path": str(_bundle(bundles, "v1")),
        },
    )
    (tf.workdir / "e2e_provider_override.tf").write_text(
        provider_override(emulator.endpoint, SERVICES, written_by=Path(__file__).name),
        encoding="utf-8",
    )
    scenario = FleetScenario(tf)
    name = scenario.name
    asg = emulator.client("autoscaling")

    def record(label: str, applied: Applied) -> None:
        scenario.applies[label] = applied
        # Shown with `pytest -s`: what the README quotes as a failure.
        print(f"--- {label}: {applied.error_message or 'no error'}")
        groups = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
        scenario.instances[label] = sorted(
            i["InstanceId"] for g in groups["AutoScalingGroups"] for i in g["Instances"]
        )

    record("first", _apply(emulator, tf))
    if scenario.applies["first"].succeeded:
        with platforms.script_failure(name, "ApplicationStart", output=START_OUTPUT):
            record("failing", _apply(emulator, tf, bundle_path=str(_bundle(bundles, "v2"))))
        record("restart", _apply(emulator, tf, deployment_mode="RESTART"))
        with platforms.script_failure(name, "ApplicationStart", output=START_OUTPUT):
            record(
                "many",
                _apply(
                    emulator,
                    tf,
                    bundle_path=str(_bundle(bundles, "v3")),
                    instance_count=str(MANY),
                    deployment_config_name="CodeDeployDefault.AllAtOnce",
                ),
            )
    codedeploy = emulator.client("codedeploy")
    for d in emulator.deployments():
        if d.application_name == name:
            info = codedeploy.get_deployment(deploymentId=d.deployment_id)["deploymentInfo"]
            scenario.deployments[d.deployment_id] = info
    # No destroy: nothing checks it, and the emulator ends with the session.
    return scenario


@pytest.mark.e2e
def test_ec2_example_deploys_the_bundle_to_the_auto_scaling_group(
    fleet: FleetScenario, explain: Callable[[str], str]
) -> None:
    first = fleet.applies["first"]
    assert first.succeeded, explain(first.describe())
    assert first.outputs["status"] == "Succeeded"
    info = fleet.deployments[first.outputs["deployment_id"]]
    # The exact object version of the bundle, and the options passed through.
    location = info["revision"]["s3Location"]
    assert location["version"] == first.outputs["bundle"]["version"], location
    assert location["bundleType"] == "zip" and location["eTag"], location
    assert info["deploymentMode"] == "STANDARD", info
    assert info["ec2DeploymentOptions"] == {
        "autoScalingGroupProcessesToSuspend": ["AZRebalance", "ScheduledActions"]
    }, info
    assert info["computePlatform"] == "Server"
    # The timeline: the first instance's EC2/on-premises lifecycle events, and the fleet size.
    lifecycle = first.outputs["lifecycle"]
    assert lifecycle["targetCount"] == 2, lifecycle
    assert lifecycle["targetId"] in fleet.instances["first"], lifecycle
    assert [e["name"] for e in lifecycle["events"]] == [
        "ApplicationStop",
        "DownloadBundle",
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "ApplicationStart",
        "ValidateService",
    ], lifecycle


@pytest.mark.e2e
def test_ec2_example_failing_application_start_names_instance_script_and_log(
    fleet: FleetScenario, explain: Callable[[str], str]
) -> None:
    failing = fleet.applies["failing"]
    assert not failing.succeeded, explain(failing.describe())
    message = failing.error_message
    assert "HEALTH_CONSTRAINTS" in message, message
    # HalfAtATime on two instances: the first batch is one instance; the other is skipped.
    failed = [i for i in fleet.instances["failing"] if f"instance {i}" in message]
    assert len(failed) == 1, message
    assert f"ApplicationStart Failed, script {START_SCRIPT}" in message, message
    assert (
        f"Script at specified location: {START_SCRIPT} run as user root failed with exit code 1"
        in message
    )
    assert "journalctl -xeu codedeploy-demo.service" in message, message
    assert "the previous version is serving again" in message, message
    assert failed[0] in flat(failing.run.output), explain(failing.describe())


@pytest.mark.e2e
def test_ec2_example_restart_sends_no_revision_and_restarts_the_last_good_one(
    fleet: FleetScenario, explain: Callable[[str], str]
) -> None:
    restart = fleet.applies["restart"]
    assert restart.succeeded, explain(restart.describe())
    assert restart.outputs["status"] == "Succeeded"
    info = fleet.deployments[restart.outputs["deployment_id"]]
    assert info["deploymentMode"] == "RESTART", info
    # The failed v2 was rolled back; the last successful revision is v1's object version.
    first = fleet.deployments[fleet.applies["first"].outputs["deployment_id"]]
    # (The trigger refuses a revision with RESTART, as CodeDeploy does: the apply succeeding
    # says the example sent none.)
    assert info["revision"] == first["revision"], info


@pytest.mark.e2e
def test_ec2_example_many_failing_instances_are_counted(
    fleet: FleetScenario, explain: Callable[[str], str]
) -> None:
    many = fleet.applies["many"]
    assert not many.succeeded, explain(many.describe())
    assert len(fleet.instances["many"]) == MANY
    message = many.error_message
    named = [i for i in fleet.instances["many"] if f"instance {i}" in message]
    assert len(named) == 3, message
    assert f"and {MANY - 3} more failing targets" in message, message
    assert len(message.encode()) <= 4096
