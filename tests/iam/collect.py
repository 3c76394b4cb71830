"""Every IAM policy the module and the examples produce, as applied.

For each Terraform root (the module with every optional statement switched on, the two
examples, the end-to-end configuration), in a private copy against the local emulator
(tests/e2e/emulator.py): ``terraform graph`` names the policy documents and the resources
that carry a policy (read from the configuration, no provider call), ``terraform apply
-target=...`` applies those and what they depend on (log groups, the table, the queue: not
the functions, so no release zip is needed), and ``terraform show -json`` gives the policies
exactly as the provider computed and applied them. The emulator enforces no IAM; it only
answers the API so that ARNs and JSON are real.

    python -m tests.iam.collect OUT.json
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.permissions import ECS_DIAGNOSTICS, OPTIONS, STATUS_TRACKING
from tests.e2e.emulator import Emulator
from tests.e2e.harness import REPO, find_provider_mirror, find_terraform, write_cli_config

MODULE_TEST_ZIP = "tests/codedeploy-trigger_0.0.0_linux_arm64.zip"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
"""An empty zip: the module only hashes it (the functions are not applied)."""

# Resources whose arguments hold a policy document, and the data source that renders them.
POLICY_RESOURCE_TYPES = frozenset(
    {
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_iam_policy",
        "aws_iam_user_policy",
        "aws_iam_group_policy",
        "aws_sqs_queue_policy",
        "aws_sns_topic_policy",
        "aws_s3_bucket_policy",
        "aws_cloudwatch_event_bus_policy",
        "aws_cloudwatch_log_resource_policy",
    }
)
POLICY_DATA_TYPES = frozenset({"aws_iam_policy_document"})

# The provider's endpoint names of every service the roots use.
SERVICES = (
    "autoscaling",
    "cloudwatch",
    "cloudwatchevents",
    "cloudwatchlogs",
    "deploy",
    "dynamodb",
    "ec2",
    "ecs",
    "elbv2",
    "iam",
    "lambda",
    "s3",
    "sqs",
    "ssm",
    "sts",
)


@dataclass(frozen=True)
class Root:
    path: str
    """The configuration, relative to the repository."""
    variables: Mapping[str, str]
    provider: str
    """How the provider reaches the emulator: "add" (the root has no provider block),
    "override" (an override file for its provider block), "variable" (var.endpoint)."""
    options: frozenset[str] | None = None
    """The optional settings of shared/permissions.py the root switches on, exactly: its roles
    must grant exactly what those add (tests/iam/check.py). None: not pinned (an example with
    settings of its own), optional permissions may or may not be granted."""
    label: str = ""
    """Tells apart two Roots of one configuration in the report."""

    @property
    def name(self) -> str:
        return f"{self.path} ({self.label})" if self.label else self.path


def roots(zip_path: str) -> tuple[Root, ...]:
    return (
        Root(
            "examples/terraform",
            {
                "lambda_zip_path": MODULE_TEST_ZIP,
                "architecture": "arm64",
                "name_prefix": "iam-module",
                "codedeploy_application_names": '["web"]',
                "tracing_mode": "Active",
                "ecs_diagnostics_cluster_arns": (
                    '["arn:aws:ecs:us-east-1:123456789012:cluster/web"]'
                ),
                # The emulator stores a key ARN on the table, log groups and queue without
                # looking it up (moto), so no key is created.
                "kms_key_arn": KMS_KEY_ARN,
            },
            provider="add",
            options=frozenset(OPTIONS),
        ),
        # The trigger alone: its role must grant the always-granted actions and nothing else
        # (no DynamoDB), and there is no recorder role.
        Root(
            "examples/terraform",
            {
                "lambda_zip_path": MODULE_TEST_ZIP,
                "architecture": "arm64",
                "name_prefix": "iam-lite",
                "codedeploy_application_names": '["web"]',
                "status_tracking": "false",
            },
            provider="add",
            options=frozenset(),
            label="status_tracking = false",
        ),
        Root(
            "examples/terraform-ecs-blue-green",
            {"name": "iam-ecs", "lambda_zip_path": zip_path, "lambda_architecture": "arm64"},
            provider="override",
            options=frozenset({STATUS_TRACKING, ECS_DIAGNOSTICS}),
        ),
        Root("examples/terraform-deployment-history", {}, provider="override"),
        Root(
            "examples/terraform-lambda-canary",
            {
                "name": "iam-canary",
                "lambda_zip_path": zip_path,
                "lambda_architecture": "arm64",
                # Any zip: the example's functions are only hashed and created, never invoked.
                "function_zip_path": zip_path,
            },
            provider="override",
        ),
        Root(
            "examples/terraform-ec2-inplace",
            {
                "name": "iam-ec2",
                "lambda_zip_path": zip_path,
                "lambda_architecture": "arm64",
                "subnet_ids": '["subnet-0123456789abcdef0"]',
            },
            provider="override",
        ),
        Root(
            "tests/e2e/terraform",
            {"lambda_zip_path": zip_path, "name_prefix": "iam-e2e"},
            provider="variable",
            options=frozenset({STATUS_TRACKING}),
        ),
    )


@dataclass
class Collected:
    root: str
    options: list[str] | None
    """Root.options, sorted (JSON)."""
    variables: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    policies: list[dict[str, Any]] = field(default_factory=list)
    """{"address", "attribute", "document"} per policy document found in the state."""
    targets: list[str] = field(default_factory=list)


def provider_block(endpoint: str, *, with_region: bool) -> str:
    endpoints = "\n".join(f"    {s:<16} = {json.dumps(endpoint)}" for s in SERVICES)
    region = '  region     = "us-east-1"\n' if with_region else ""
    return (
        "# Written by tests/iam/collect.py: the provider talks to the local emulator only.\n"
        'provider "aws" {\n'
        f"{region}"
        '  access_key = "test"\n'
        '  secret_key = "test"\n\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_region_validation      = true\n\n"
        "  endpoints {\n"
        f"{endpoints}\n"
        "  }\n"
        "}\n"
    )


class Runner:
    def __init__(self, terraform: str, cli_config: Path, workdir: Path) -> None:
        self.terraform = terraform
        self.workdir = workdir
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not (k.startswith(("AWS_", "TF_")) and not k.startswith("TF_LOG"))
        }
        self.env.update(
            {
                "TF_CLI_CONFIG_FILE": str(cli_config),
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "CHECKPOINT_DISABLE": "1",
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
        )

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [self.terraform, *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"terraform {' '.join(args)} in {self.workdir} exited {done.returncode}\n"
                f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done.stdout


def policy_targets(graph: str) -> list[str]:
    """The addresses of the policy documents and policy-carrying resources in a graph."""
    found: set[str] = set()
    for address in re.findall(r'^\s*"([^"]+)" \[label=', graph, re.M):
        parts = address.split(".")
        is_data = len(parts) >= 3 and parts[-3] == "data"
        types = POLICY_DATA_TYPES if is_data else POLICY_RESOURCE_TYPES
        if len(parts) >= 2 and parts[-2] in types:
            found.add(address)
    return sorted(found)


def policies_in_state(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each policy document in the state, once: resources first, then data sources."""
    found: list[dict[str, Any]] = []
    resources = sorted(
        _resources(state.get("values", {}).get("root_module", {})),
        key=lambda r: (r["mode"] != "managed", r["address"]),
    )
    # A data source's json and minified_json, and the policy a resource applied from it, are
    # one document: kept once, under the resource that applied it.
    seen: set[str] = set()
    for resource in resources:
        for attribute, document in _documents(resource.get("values") or {}):
            canonical = json.dumps(document, sort_keys=True)
            if canonical in seen:
                continue
            seen.add(canonical)
            found.append(
                {
                    "address": resource["address"],
                    "mode": resource["mode"],
                    "attribute": attribute,
                    "document": document,
                }
            )
    return found


def _resources(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)


def _documents(values: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Attributes that hold a policy document (a JSON object with a Statement)."""
    if isinstance(values, Mapping):
        for key, value in values.items():
            yield from _documents(value, f"{path}.{key}" if path else str(key))
    elif isinstance(values, list):
        for index, value in enumerate(values):
            yield from _documents(value, f"{path}[{index}]")
    elif isinstance(values, str) and '"Statement"' in values:
        try:
            document = json.loads(values)
        except ValueError:
            return
        if isinstance(document, dict) and "Statement" in document:
            yield path, document


def collect_root(
    root: Root, emulator: Emulator, terraform: str, cli_config: Path, scratch: Path
) -> Collected:
    started = time.monotonic()
    options = None if root.options is None else sorted(root.options)
    result = Collected(root.name, options, dict(root.variables))
    # The whole examples/ tree and the root keep their layout: roots refer to ../terraform.
    # A copy per Root: the same configuration may be collected with other variables.
    copy = Path(tempfile.mkdtemp(prefix=re.sub(r"[^A-Za-z0-9]+", "-", root.path), dir=scratch))
    _copy_tree(REPO / "examples", copy / "examples")
    if not root.path.startswith("examples/"):
        _copy_tree(REPO / root.path, copy / root.path)
    workdir = copy / root.path
    if root.provider == "add":
        (workdir / "iam_check_provider.tf").write_text(
            provider_block(emulator.endpoint, with_region=True), encoding="utf-8"
        )
    elif root.provider == "override":
        (workdir / "iam_check_override.tf").write_text(
            provider_block(emulator.endpoint, with_region=False), encoding="utf-8"
        )
    variables = dict(root.variables)
    if root.provider == "variable":
        variables["endpoint"] = emulator.endpoint
    tf = Runner(terraform, cli_config, workdir)
    tf.run("init", "-backend=false", "-input=false", "-no-color")
    result.targets = policy_targets(tf.run("graph"))
    if result.targets:
        tf.run(
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            *(f"-target={t}" for t in result.targets),
            *(f"-var={k}={v}" for k, v in variables.items()),
        )
        result.policies = policies_in_state(json.loads(tf.run("show", "-json", "-no-color")))
    result.seconds = time.monotonic() - started
    return result


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(
        source,
        target,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "terraform.tfstate*"),
        dirs_exist_ok=True,
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.iam.collect OUT.json", file=sys.stderr)
        return 2
    out = Path(argv[0])
    terraform = find_terraform()
    scratch = Path(tempfile.mkdtemp(prefix="iam-check-"))
    try:
        cli_config = write_cli_config(scratch / "terraformrc", find_provider_mirror())
        # Any zip path works: no function is applied. The e2e root and the ECS example
        # hash it at plan time, so it must exist.
        zip_path = str(REPO / "examples" / "terraform" / MODULE_TEST_ZIP)
        started = time.monotonic()
        with Emulator() as emulator, ThreadPoolExecutor(max_workers=4) as pool:
            # In parallel: most of each apply is the provider waiting for SQS queue attributes
            # to settle (about 25 s for the queue and again for its policy), not CPU.
            collected = list(
                pool.map(
                    lambda root: collect_root(root, emulator, terraform, cli_config, scratch),
                    roots(zip_path),
                )
            )
        for found in collected:
            print(
                f"iam-check: {found.root}: {len(found.policies)} policy documents from "
                f"{len(found.targets)} targets, applied in {found.seconds:.0f}s"
            )
        print(f"iam-check: collected in {time.monotonic() - started:.0f}s", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out.write_text(
        json.dumps([c.__dict__ for c in collected], indent=2, sort_keys=True), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
