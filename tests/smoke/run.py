"""The smoke test for a real AWS account (`make aws-smoke`), and for the local emulator in CI.

It applies tests/smoke/main.tf (the examples/terraform module, a Lambda compute platform
CodeDeploy application and group, a tiny function with an alias and two validation hooks) in
the account and region of the environment's credentials, then drives three deployments
through the trigger function, as `aws_lambda_invocation` would:

1. version 2 of the function, with a hook that reports Succeeded: the trigger returns
   Succeeded;
2. back to version 1, with a hook that reports Failed: the trigger raises DeploymentFailed, and
   its explanation names the failing lifecycle event. Proves the module's IAM allows the
   diagnostics calls (the explanation would say "diagnostics unavailable" otherwise);
3. a 100-minute linear shift with ``stopOnTimeout`` and one short invocation: the trigger stops
   the deployment it created, and CodeDeploy reports it Stopped. Proves StopDeployment is
   allowed;
4. another long shift, then an identical group's request with ``onActiveDeployment:
   "supersede"``: the trigger stops the first (it created it), waits for it and its rollback,
   and creates the second; then ``{"deploymentId": ..., "stop": {"rollback": true}}`` stops
   the second. Proves the control requests' proof of ownership and stop path on AWS.

Then it destroys everything (also after a failure or Ctrl-C) and checks that nothing it
created is left. With ``--emulator`` it runs the same steps against the local e2e emulator
(tests/e2e/emulator.py) with an endpoint override: that is how CI tests this script without
AWS. The emulator moves deployments by markers in their description (``simulate:fail``,
``simulate:seconds=N``); AWS ignores them, and there the hooks and the deployment
configuration decide.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.harness import (
    REPO,
    HarnessError,
    find_provider_mirror,
    find_terraform,
    package_zip,
    write_cli_config,
)

SMOKE_DIR = REPO / "tests" / "smoke"
MODULE_DIR = REPO / "examples" / "terraform"
TRIGGER_TIMEOUT_SECONDS = 60
"""tests/smoke/main.tf trigger_timeout: one invocation waits 30 s (60 - the 30 s margin)."""
MAX_ATTACHES = 40
"""A deployment that runs longer than this many invocations (20 minutes) fails the smoke."""
STOP_CONFIG = "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"
"""100 minutes of traffic shifting: the stopOnTimeout run is sure to outlast its invocation."""
ACTIVE_STATUSES = frozenset({"Created", "Queued", "InProgress", "Baking", "Ready"})
DEPLOYMENT_ID = re.compile(r"\bd-[A-Z0-9]{9}\b")
TERRAFORM_TIMEOUT_SECONDS = 1800


class SmokeFailure(Exception):
    """A check failed; the message says which and what was seen."""


@dataclass(frozen=True)
class Target:
    """Where the smoke runs: an AWS region with the environment's credentials, or an emulator."""

    region: str
    endpoint: str | None = None

    def client(self, service: str, **config: Any) -> Any:
        extra: dict[str, Any] = {}
        if self.endpoint is not None:
            extra = {
                "endpoint_url": self.endpoint,
                "aws_access_key_id": "test",
                "aws_secret_access_key": "test",
            }
        return boto3.client(
            service, region_name=self.region, config=Config(**config) if config else None, **extra
        )


@dataclass(frozen=True)
class Invocation:
    """One synchronous invocation of the trigger: its answer, and whether it raised."""

    error: bool
    body: dict[str, Any]

    @property
    def error_type(self) -> str | None:
        return str(self.body.get("errorType")) if self.error else None

    @property
    def message(self) -> str:
        return str(self.body.get("errorMessage", ""))


# --- Terraform ---------------------------------------------------------------------------------


class Terraform:
    """terraform on a private copy of tests/smoke and examples/terraform (same relative layout)."""

    def __init__(self, root: Path, target: Target, variables: Mapping[str, str]) -> None:
        self.binary = find_terraform()
        self.workdir = root / "tests" / "smoke"
        ignore = shutil.ignore_patterns(".terraform*", "terraform.tfstate*", "__pycache__")
        shutil.copytree(SMOKE_DIR, self.workdir, ignore=ignore)
        shutil.copytree(MODULE_DIR, root / "examples" / "terraform", ignore=ignore)
        self.variables = dict(variables)
        self.env = dict(os.environ)
        self.env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"})
        try:
            mirror = find_provider_mirror()
        except HarnessError as missing:
            if target.endpoint is not None:
                raise  # CI: never the registry
            print(f"smoke: no local provider mirror ({missing}); terraform init uses the registry")
        else:
            self.env["TF_CLI_CONFIG_FILE"] = str(write_cli_config(root / "terraformrc", mirror))
        if target.endpoint is not None:
            # The emulator takes any credentials; the developer's own must not reach it.
            for name in [n for n in self.env if n.startswith("AWS_")]:
                del self.env[name]
            self.env.update(
                {
                    "AWS_ACCESS_KEY_ID": "test",
                    "AWS_SECRET_ACCESS_KEY": "test",
                    "AWS_EC2_METADATA_DISABLED": "true",
                    "AWS_CONFIG_FILE": os.devnull,
                    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                }
            )

    def run(self, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, *args],
            cwd=self.workdir,
            env=self.env,
            text=True,
            capture_output=capture,
            timeout=TERRAFORM_TIMEOUT_SECONDS,
            check=False,
        )

    def var_args(self) -> list[str]:
        return [f"-var={name}={value}" for name, value in self.variables.items()]

    def apply(self) -> None:
        if self.run("init", "-input=false", "-no-color").returncode != 0:
            raise SmokeFailure("terraform init failed (output above)")
        if self.run("apply", "-auto-approve", "-no-color", *self.var_args()).returncode != 0:
            raise SmokeFailure("terraform apply failed (output above)")

    def outputs(self) -> dict[str, Any]:
        done = self.run("output", "-json", "-no-color", capture=True)
        if done.returncode != 0:
            raise SmokeFailure(f"terraform output failed: {done.stderr}")
        return {name: value["value"] for name, value in json.loads(done.stdout).items()}

    def destroy(self) -> bool:
        done = self.run("destroy", "-auto-approve", "-no-color", *self.var_args())
        return done.returncode == 0

    def state_is_empty(self) -> bool:
        done = self.run("state", "list", "-no-color", capture=True)
        return done.returncode == 0 and not done.stdout.strip()


# --- the deployments -------------------------------------------------------------------------


def build_functions_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in sorted((SMOKE_DIR / "functions").glob("*.py")):
            archive.write(source, source.name)
    return path


def appspec(function: str, alias: str, current: str, target: str, hook: str) -> str:
    """A Lambda AppSpec (JSON is valid YAML): shift `alias` from `current` to `target`."""
    return json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {
                    "app": {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {
                            "Name": function,
                            "Alias": alias,
                            "CurrentVersion": current,
                            "TargetVersion": target,
                        },
                    }
                }
            ],
            "Hooks": [{"BeforeAllowTraffic": hook}],
        }
    )


class Smoke:
    """The deployments and their checks, on an applied configuration."""

    def __init__(self, target: Target, outputs: Mapping[str, Any]) -> None:
        self.target = target
        self.outputs = outputs
        # One attempt per Invoke (a resend could start a second deployment), and a read
        # timeout longer than the function's.
        self.lambda_ = target.client(
            "lambda",
            read_timeout=TRIGGER_TIMEOUT_SECONDS + 60,
            retries={"total_max_attempts": 1},
        )
        self.codedeploy = target.client("codedeploy")

    def invoke(self, payload: Mapping[str, Any]) -> Invocation:
        response = self.lambda_.invoke(
            FunctionName=self.outputs["trigger_function_name"],
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        body = json.loads(response["Payload"].read() or b"{}")
        return Invocation("FunctionError" in response, body)

    def until_the_end(self, request: Mapping[str, Any]) -> Invocation:
        """Create, then attach again while an invocation hands over (complete: false)."""
        answer = self.invoke({**request, "onDeadline": "return"})
        for _ in range(MAX_ATTACHES):
            if answer.error or answer.body.get("complete", True):
                return answer
            print(f"  {answer.body['deploymentId']} is {answer.body['status']}; attaching again")
            answer = self.invoke(
                {"deploymentId": answer.body["deploymentId"], "onDeadline": "return"}
            )
        raise SmokeFailure(f"the deployment did not end within {MAX_ATTACHES} invocations")

    def request(self, current: str, target: str, hook: str, description: str) -> dict[str, Any]:
        function, alias = self.outputs["app_function_name"], self.outputs["alias_name"]
        return {
            "applicationName": self.outputs["application_name"],
            "deploymentGroupName": self.outputs["deployment_group_name"],
            "revision": {
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": appspec(function, alias, current, target, hook)},
            },
            "description": description,
        }

    def publish_second_version(self) -> str:
        """Version 1 comes from Terraform (publish = true); a changed description makes 2."""
        name = self.outputs["app_function_name"]
        self.lambda_.update_function_configuration(FunctionName=name, Description="version 2")
        self.lambda_.get_waiter("function_updated").wait(FunctionName=name)
        return str(self.lambda_.publish_version(FunctionName=name)["Version"])

    def succeeds(self, current: str, target: str) -> str:
        hook = self.outputs["hook_function_names"]["succeed"]
        print(f"\n==> deployment 1: version {current} -> {target}, {hook} reports Succeeded")
        answer = self.until_the_end(
            self.request(current, target, hook, "codedeploy-trigger smoke: deploy version 2")
        )
        print(json.dumps(answer.body, indent=2))
        if answer.error or answer.body.get("status") != "Succeeded":
            raise SmokeFailure(f"deployment 1 should have Succeeded: {answer.body}")
        return str(answer.body["deploymentId"])

    def fails(self, current: str, target: str) -> str:
        hook = self.outputs["hook_function_names"]["fail"]
        print(f"\n==> deployment 2: version {current} -> {target}, {hook} reports Failed")
        # simulate:fail steers the emulator; on AWS the hook fails the deployment.
        description = "codedeploy-trigger smoke: the hook reports Failed (simulate:fail)"
        answer = self.until_the_end(self.request(current, target, hook, description))
        print(f"{answer.error_type}: {answer.message}" if answer.error else answer.body)
        if answer.error_type != "DeploymentFailed":
            raise SmokeFailure(f"deployment 2 should have raised DeploymentFailed: {answer.body}")
        found = DEPLOYMENT_ID.search(answer.message)
        if found is None:
            raise SmokeFailure("the failure explanation names no deployment id")
        if "diagnostics unavailable" in answer.message:
            raise SmokeFailure(
                "the trigger could not read why the deployment failed (diagnostics "
                "unavailable): the module's IAM policy does not allow the diagnostics calls"
            )
        if "BeforeAllowTraffic" not in answer.message:
            raise SmokeFailure("the failure explanation does not name the failing hook event")
        return found.group(0)

    def stops_on_timeout(self, current: str, target: str) -> str:
        hook = self.outputs["hook_function_names"]["succeed"]
        print(f"\n==> deployment 3: {STOP_CONFIG}, stopOnTimeout, one invocation")
        request = self.request(
            current,
            target,
            hook,
            # simulate:seconds steers the emulator; on AWS the deployment configuration does.
            "codedeploy-trigger smoke: stopOnTimeout stops a long shift (simulate:seconds=6000)",
        )
        answer = self.invoke(
            {**request, "deploymentConfigName": STOP_CONFIG, "stopOnTimeout": True}
        )
        print(f"{answer.error_type}: {answer.message}" if answer.error else answer.body)
        if answer.error_type != "DeploymentWaitTimeout":
            raise SmokeFailure(f"deployment 3 should have timed out: {answer.body}")
        if "StopDeployment was called" not in answer.message:
            raise SmokeFailure(
                "the trigger did not stop the deployment it created (StopDeployment refused?)"
            )
        found = DEPLOYMENT_ID.search(answer.message)
        if found is None:
            raise SmokeFailure("the timeout message names no deployment id")
        deployment_id = found.group(0)
        status = self.status_after(deployment_id, lambda s: s not in ACTIVE_STATUSES, 300)
        print(f"  CodeDeploy reports {deployment_id} {status}")
        if status != "Stopped":
            raise SmokeFailure(f"deployment 3 should be Stopped, CodeDeploy says {status}")
        return deployment_id

    def supersedes_then_stops(self, current: str, target: str) -> str:
        hook = self.outputs["hook_function_names"]["succeed"]
        print(f"\n==> deployment 4 and 5: {STOP_CONFIG}; supersede, then a stop request")
        self.wait_for_idle_group(300)  # deployment 3's rollback holds the group
        long_shift = {"deploymentConfigName": STOP_CONFIG, "wait": False}
        first = self.invoke(
            {
                **self.request(
                    current,
                    target,
                    hook,
                    "codedeploy-trigger smoke: to be superseded (simulate:seconds=6000)",
                ),
                **long_shift,
            }
        )
        if first.error:
            raise SmokeFailure(f"deployment 4 should have been created: {first.body}")
        superseded = str(first.body["deploymentId"])
        request = {
            **self.request(
                current,
                target,
                hook,
                "codedeploy-trigger smoke: supersedes (simulate:seconds=6000)",
            ),
            **long_shift,
            "onActiveDeployment": "supersede",
        }
        answer = self.invoke(request)
        for _ in range(MAX_ATTACHES):
            # One invocation may not outlast the stop and its rollback: the same request
            # again (as the next terraform apply would send it) carries on, stopping nothing
            # twice.
            if answer.error_type != "DeploymentWaitTimeout":
                break
            print(f"  {answer.message[:160]}...; sending the same request again")
            answer = self.invoke(request)
        print(f"{answer.error_type}: {answer.message}" if answer.error else answer.body)
        if answer.error:
            raise SmokeFailure(f"deployment 5 should have superseded deployment 4: {answer.body}")
        created = str(answer.body["deploymentId"])
        status = self.status_after(superseded, lambda s: s not in ACTIVE_STATUSES, 300)
        print(f"  CodeDeploy reports the superseded {superseded} {status}")
        if created == superseded or status != "Stopped":
            raise SmokeFailure(f"deployment 4 should be Stopped and 5 new: {status}, {created}")
        stop = self.invoke(
            {"deploymentId": created, "stop": {"rollback": True}, "waitForRollback": False}
        )
        print(f"{stop.error_type}: {stop.message}" if stop.error else stop.body)
        if stop.error or stop.body.get("status") != "Stopped":
            raise SmokeFailure(f"the stop request should answer Stopped: {stop.body}")
        return created

    def status_after(self, deployment_id: str, done: Callable[[str], bool], seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while True:
            info = self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            status = str(info["status"])
            if done(status) or time.monotonic() > deadline:
                return status
            time.sleep(5)

    def wait_for_idle_group(self, seconds: float = 900) -> None:
        """Rollbacks may still run; destroy deletes the group only once nothing is active."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ids = self.codedeploy.list_deployments(
                applicationName=self.outputs["application_name"],
                deploymentGroupName=self.outputs["deployment_group_name"],
            )["deployments"]
            infos = (
                self.codedeploy.batch_get_deployments(deploymentIds=ids[:25])["deploymentsInfo"]
                if ids
                else []
            )
            active = [i["deploymentId"] for i in infos if i["status"] in ACTIVE_STATUSES]
            if not active:
                return
            print(f"  waiting for {', '.join(active)} to end before destroy")
            time.sleep(10)
        print("smoke: deployments still active; destroying anyway")


# --- nothing left behind -----------------------------------------------------------------------


def leftovers(target: Target, prefix: str, outputs: Mapping[str, Any]) -> list[str]:
    """What of this run still exists after destroy, looked up by name in each service."""
    found: list[str] = []
    module = outputs["module"]
    functions = [
        module["trigger_function_name"],
        module["recorder_function_name"],
        outputs["app_function_name"],
        *outputs["hook_function_names"].values(),
    ]
    checks: list[tuple[str, Callable[[], object], tuple[str, ...]]] = []
    aws_lambda = target.client("lambda")
    for name in functions:
        checks.append(
            (
                f"function {name}",
                _bind(aws_lambda.get_function, FunctionName=name),
                ("ResourceNotFoundException",),
            )
        )
    iam = target.client("iam")
    for role in ["trigger", "recorder", "codedeploy", "app", "hook"]:
        name = f"{prefix}-{role}"
        checks.append((f"role {name}", _bind(iam.get_role, RoleName=name), ("NoSuchEntity",)))
    codedeploy = target.client("codedeploy")
    app = outputs["application_name"]
    checks.append(
        (
            f"application {app}",
            _bind(codedeploy.get_application, applicationName=app),
            ("ApplicationDoesNotExistException",),
        )
    )
    table = module["status_table_name"]
    checks.append(
        (
            f"table {table}",
            _bind(target.client("dynamodb").describe_table, TableName=table),
            ("ResourceNotFoundException",),
        )
    )
    queue = f"{prefix}-recorder-dlq"
    checks.append(
        (
            f"queue {queue}",
            _bind(target.client("sqs").get_queue_url, QueueName=queue),
            ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"),
        )
    )
    for label, call, gone in checks:
        try:
            call()
        except ClientError as error:
            if error.response["Error"]["Code"] in gone:
                continue
            found.append(f"{label}: cannot tell ({error.response['Error']['Code']})")
            continue
        found.append(label)
    logs = target.client("logs")
    for group_prefix in (f"/aws/lambda/{prefix}", f"/aws/lambda/CodeDeployHook_{prefix}"):
        groups = logs.describe_log_groups(logGroupNamePrefix=group_prefix)["logGroups"]
        found.extend(f"log group {g['logGroupName']}" for g in groups)
    rules = target.client("events").list_rules(NamePrefix=prefix)["Rules"]
    found.extend(f"event rule {r['Name']}" for r in rules)
    return found


def _bind(call: Callable[..., object], **kwargs: Any) -> Callable[[], object]:
    return lambda: call(**kwargs)


# --- main --------------------------------------------------------------------------------------


@contextmanager
def _emulator() -> Iterator[Target]:
    # Imported here: moto is a development dependency, not needed against AWS.
    from tests.e2e.emulator import Emulator

    with Emulator(step_seconds=2.0) as emulator:
        yield Target(region=emulator.region, endpoint=emulator.endpoint)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.smoke",
        description="Apply the module and a minimal CodeDeploy setup, deploy, destroy.",
    )
    parser.add_argument(
        "--emulator", action="store_true", help="run against the local e2e emulator, not AWS"
    )
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or AWS_DEFAULT_REGION)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    if args.emulator:
        context: AbstractContextManager[Target] = _emulator()
    else:
        region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not region:
            print("smoke: no region: set AWS_REGION (or pass --region)", file=sys.stderr)
            return 2
        context = nullcontext(Target(region=region))
    with context as target:
        return run(target)


def run(target: Target) -> int:
    try:
        identity = target.client("sts").get_caller_identity()
    except Exception as error:  # any credential problem ends the run here
        print(f"smoke: no usable AWS credentials: {error}", file=sys.stderr)
        return 2
    where = f"emulator {target.endpoint}" if target.endpoint else "AWS"
    print(f"smoke: {where}, account {identity['Account']} as {identity['Arn']}, {target.region}")
    prefix = f"cdt-smoke-{secrets.token_hex(3)}"
    root = Path(tempfile.mkdtemp(prefix="cdt-smoke-"))
    variables = {
        "region": target.region,
        "name_prefix": prefix,
        "lambda_zip_path": str(package_zip("amd64")),
        "functions_zip_path": str(build_functions_zip(root / "functions.zip")),
        "trigger_timeout": str(TRIGGER_TIMEOUT_SECONDS),
    }
    if target.endpoint is not None:
        variables["endpoint"] = target.endpoint
    terraform = Terraform(root, target, variables)
    failure: str | None = None
    outputs: dict[str, Any] = {}
    smoke: Smoke | None = None
    try:
        print(f"\n==> terraform apply ({prefix})")
        terraform.apply()
        outputs = terraform.outputs()
        smoke = Smoke(target, outputs)
        first = str(outputs["deployed_version"])
        second = smoke.publish_second_version()
        smoke.succeeds(first, second)
        smoke.fails(second, first)
        smoke.stops_on_timeout(second, first)
        smoke.supersedes_then_stops(second, first)
    except (SmokeFailure, HarnessError, ClientError) as error:
        failure = str(error)
    except KeyboardInterrupt as interrupted:
        failure = f"interrupted ({interrupted or 'Ctrl-C'})"
    finally:
        if smoke is not None:
            try:
                smoke.wait_for_idle_group()
            except ClientError as error:  # destroy anyway
                print(f"smoke: could not list the group's deployments: {error}")
        print(f"\n==> terraform destroy ({prefix})")
        destroyed = terraform.destroy() and terraform.state_is_empty()
    left = leftovers(target, prefix, outputs) if outputs else []
    if not destroyed or left:
        print(
            "\nsmoke: NOT everything was removed: "
            f"{', '.join(left) or 'terraform destroy failed'}. "
            f"Run `terraform destroy` in {terraform.workdir} again, or delete what is tagged "
            f"codedeploy-trigger-smoke={prefix}.",
            file=sys.stderr,
        )
        return 1
    shutil.rmtree(root, ignore_errors=True)
    if failure is not None:
        print(f"\nsmoke: FAILED: {failure}", file=sys.stderr)
        return 1
    print(
        "\nsmoke: passed: a deployment succeeded, a failing one was explained with "
        "diagnostics, a timed-out one was stopped, one was superseded and one stopped on "
        "request, and nothing is left."
    )
    return 0
