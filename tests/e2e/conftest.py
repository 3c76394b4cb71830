"""Fixtures of the end-to-end tests: the emulator (one per session) and Terraform.

A missing prerequisite (terraform, the provider mirror, the release zip, a python3.x for the
Lambda runtime) fails the tests with a message naming it: these tests never skip.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .emulator import Emulator, EmulatorError, find_python
from .harness import (
    HarnessError,
    Terraform,
    find_provider_mirror,
    find_terraform,
    package_zip,
    write_cli_config,
)

# Seconds per simulated CodeDeploy state (Created -> InProgress -> final): short, but long
# enough that "apply waited for the deployment" is measurable.
STEP_SECONDS = float(os.environ.get("E2E_STEP_SECONDS", "2"))


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    try:
        # Fail now, not inside the first Invoke, when the runtime's interpreter is missing.
        find_python("3.13")
    except EmulatorError as exc:
        pytest.fail(str(exc), pytrace=False)
    with Emulator(step_seconds=STEP_SECONDS) as running:
        yield running


@pytest.fixture(scope="session")
def terraform_cli(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The terraform binary and a CLI config that installs providers from the mirror only."""
    try:
        binary = find_terraform()
        mirror = find_provider_mirror()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    config = write_cli_config(tmp_path_factory.mktemp("tf-cli") / "terraformrc", mirror)
    return binary, config


@pytest.fixture(scope="session")
def lambda_zip() -> Path:
    try:
        return package_zip("amd64")
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def terraform(
    request: pytest.FixtureRequest,
    emulator: Emulator,
    terraform_cli: tuple[str, Path],
    lambda_zip: Path,
) -> Iterator[Terraform]:
    """Terraform in a fresh temporary working directory, with names unique to the test."""
    binary, cli_config = terraform_cli
    # Resources of all tests share the emulator: a per-test prefix keeps them apart.
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:20]
    prefix = f"e2e-{slug}-{uuid.uuid4().hex[:6]}"
    keep = bool(os.environ.get("E2E_KEEP_WORKDIR"))
    root = Path(tempfile.mkdtemp(prefix="cdt-e2e-tf-"))
    try:
        yield Terraform(
            binary,
            cli_config,
            root,
            {
                "endpoint": emulator.endpoint,
                "lambda_zip_path": str(lambda_zip),
                "name_prefix": prefix,
            },
        )
    finally:
        if keep:
            print(f"kept the Terraform working directory {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def explain(emulator: Emulator) -> Callable[[str], str]:
    """Builds an assertion message: what happened plus the tail of the Lambda logs."""

    def build(message: str) -> str:
        return f"{message}\n--- Lambda logs (tail) ---\n{emulator.log_tail(120)}"

    return build
