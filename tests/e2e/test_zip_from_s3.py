"""End to end: the module takes its release zip from S3, and refuses anything but one source.

Teams that keep artifacts in a bucket set lambda_s3_bucket / lambda_s3_key (and optionally
lambda_s3_object_version) instead of lambda_zip_path. The release zip is uploaded to a versioned
bucket of the emulator's S3; CreateFunction reads the object there (moto's Lambda copies it, as
AWS does), so the functions that run are the bytes of the S3 object. One apply, plus plans that
cost no apply: a second plan must be empty (no source_code_hash for S3, so nothing may drift), and
plans with both sources or with none must fail on the module's precondition, naming the variables
(a plan proves it: Terraform evaluates preconditions while planning, and a failed one stops the
run before anything is created). All of it runs in one scenario fixture, in the background
beside the other scenarios.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .background import scenario
from .emulator import Emulator, Invocation
from .harness import REPO, Terraform, TerraformRun


@dataclass
class FromS3:
    """What the apply with the zip in S3 did, captured right after it."""

    tf: Terraform
    apply: TerraformRun
    zip_sha256: str
    outputs: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    trigger_invocations: list[Invocation] = field(default_factory=list)
    replan: TerraformRun | None = None
    both_sources_plan: TerraformRun | None = None
    no_source_plan: TerraformRun | None = None


def _flat(text: str) -> str:
    # Terraform wraps long diagnostics; compare with all whitespace runs collapsed.
    return " ".join(text.split())


def _upload(emulator: Emulator, zip_path: Path) -> dict[str, str]:
    """Put the release zip into a new versioned bucket; the module variables that point at it."""
    s3 = emulator.client("s3")
    bucket = f"e2e-releases-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    key = f"codedeploy-trigger/{zip_path.name}"
    put = s3.put_object(Bucket=bucket, Key=key, Body=zip_path.read_bytes())
    return {
        "lambda_s3_bucket": bucket,
        "lambda_s3_key": key,
        "lambda_s3_object_version": put["VersionId"],
    }


def _plan_without_refresh(tf: Terraform, variables: dict[str, str]) -> TerraformRun:
    # The preconditions are evaluated while planning: reading the applied resources back
    # (refresh) would only add time.
    return tf.run(
        "plan", "-refresh=false", "-input=false", "-no-color",
        *[f"-var={name}={value}" for name, value in variables.items()],
    )  # fmt: skip


@scenario
def from_s3(
    emulator: Emulator,
    terraform_cli: tuple[str, Path],
    terraform_root: Callable[[], Path],
    lambda_zip: Path,
) -> FromS3:
    """The apply with the zip in S3, a second plan, and the plans with both zip sources and
    with none."""
    binary, cli_config = terraform_cli
    variables = {
        "endpoint": emulator.endpoint,
        "name_prefix": f"e2e-s3-{uuid.uuid4().hex[:6]}",
        **_upload(emulator, lambda_zip),
    }
    tf = Terraform(binary, cli_config, terraform_root(), variables)
    apply = tf.apply(description="e2e: zip from s3")
    digest = base64.b64encode(hashlib.sha256(lambda_zip.read_bytes()).digest()).decode()
    scenario = FromS3(tf, apply, digest)
    if apply.returncode == 0:
        emulator.wait_idle(prefix=variables["name_prefix"])
        scenario.outputs = tf.outputs()
        lam = emulator.client("lambda")
        for role in ("trigger", "recorder"):
            name = f"{variables['name_prefix']}-{role}"
            scenario.functions[role] = lam.get_function(FunctionName=name)
        scenario.trigger_invocations = [
            i
            for i in emulator.runner.invocations
            if i.function_name == scenario.outputs["trigger_function_name"]
        ]
        scenario.replan = tf.plan(description="e2e: zip from s3")
    scenario.both_sources_plan = _plan_without_refresh(
        tf, {**variables, "lambda_zip_path": str(lambda_zip)}
    )
    # Only the variables that are not a zip source (tf.plan would add the S3 ones).
    scenario.no_source_plan = _plan_without_refresh(
        tf, {k: variables[k] for k in ("endpoint", "name_prefix")}
    )
    return scenario


@pytest.mark.e2e
def test_the_module_runs_the_zip_from_s3(from_s3: FromS3, explain: Callable[[str], str]) -> None:
    assert from_s3.apply.returncode == 0, explain(from_s3.apply.describe())
    assert from_s3.outputs["status"] == "Succeeded"
    for role, function in from_s3.functions.items():
        # Lambda's CodeSha256 is the base64 sha256 of the deployment package: the S3 object's.
        assert function["Configuration"]["CodeSha256"] == from_s3.zip_sha256, role
    invocations = [i for i in from_s3.trigger_invocations if not i.error]
    assert invocations, explain("no successful trigger invocation")
    result = json.loads(invocations[0].payload)
    # The recorder (also from S3) wrote the terminal event the trigger saw.
    assert result["detectedBy"] == "event", explain(f"trigger result: {result}")


@pytest.mark.e2e
def test_every_log_line_of_the_release_carries_its_version(
    from_s3: FromS3, explain: Callable[[str], str]
) -> None:
    assert from_s3.apply.returncode == 0, explain(from_s3.apply.describe())
    version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    lines = [
        json.loads(line)
        for invocation in from_s3.trigger_invocations
        for line in invocation.log.splitlines()
        if line.startswith("{") and '"level"' in line
    ]
    assert lines, explain("the trigger wrote no structured log line")
    assert {line.get("version") for line in lines} == {version}, lines


@pytest.mark.e2e
def test_a_second_plan_with_the_zip_from_s3_has_no_changes(
    from_s3: FromS3, explain: Callable[[str], str]
) -> None:
    assert from_s3.apply.returncode == 0, explain(from_s3.apply.describe())
    assert from_s3.replan is not None
    assert from_s3.replan.returncode == 0, from_s3.replan.describe()


@pytest.mark.e2e
def test_both_zip_sources_are_refused(from_s3: FromS3) -> None:
    plan = from_s3.both_sources_plan
    assert plan is not None
    assert plan.returncode == 1, plan.describe()
    assert "Set exactly one zip source: lambda_zip_path" in _flat(plan.output), plan.describe()
    assert "got both" in plan.output, plan.describe()


@pytest.mark.e2e
def test_no_zip_source_is_refused(from_s3: FromS3) -> None:
    plan = from_s3.no_source_plan
    assert plan is not None
    assert plan.returncode == 1, plan.describe()
    assert "Set exactly one zip source: lambda_zip_path" in _flat(plan.output), plan.describe()
    assert "got neither" in plan.output, plan.describe()
