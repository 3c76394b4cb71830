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
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

import pytest

from .emulator import Emulator, EmulatorError, find_python
from .harness import (
    STEP_SECONDS,
    HarnessError,
    Terraform,
    find_provider_mirror,
    find_terraform,
    package_zip,
    write_cli_config,
)

T = TypeVar("T")


def require(what: Callable[[], T]) -> T:
    """what(), or fail the test (never skip) with the message naming the missing piece."""
    try:
        return what()
    except (HarnessError, EmulatorError) as exc:
        problem = str(exc)
    pytest.fail(f"e2e prerequisite missing: {problem}", pytrace=False)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    # Fail now, not inside the first Invoke, when the runtime's interpreter is missing.
    require(lambda: find_python("3.13"))
    with Emulator(step_seconds=STEP_SECONDS) as running:
        yield running


@pytest.fixture(scope="session")
def terraform_cli(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The terraform binary and a CLI config that installs providers from the mirror only."""
    binary = require(find_terraform)
    mirror = require(find_provider_mirror)
    config = write_cli_config(tmp_path_factory.mktemp("tf-cli") / "terraformrc", mirror)
    return binary, config


@pytest.fixture(scope="session")
def lambda_zip() -> Path:
    return require(lambda: package_zip("amd64"))


@pytest.fixture(scope="session")
def terraform_root() -> Iterator[Callable[[], Path]]:
    """Makes temporary roots for Terraform working directories; removed after the session."""
    roots: list[Path] = []

    def make() -> Path:
        root = Path(tempfile.mkdtemp(prefix="cdt-e2e-tf-"))
        roots.append(root)
        return root

    yield make
    for root in roots:
        if os.environ.get("E2E_KEEP_WORKDIR"):
            print(f"kept the Terraform working directory {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def terraform_factory(
    emulator: Emulator,
    terraform_cli: tuple[str, Path],
    lambda_zip: Path,
    terraform_root: Callable[[], Path],
) -> Callable[[str], Terraform]:
    """Makes Terraform working directories; `name` keeps resource names apart per scenario."""
    binary, cli_config = terraform_cli

    def make(name: str) -> Terraform:
        # All scenarios share the emulator: a unique prefix keeps their resources apart.
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:20]
        return Terraform(
            binary,
            cli_config,
            terraform_root(),
            {
                "endpoint": emulator.endpoint,
                "lambda_zip_path": str(lambda_zip),
                "name_prefix": f"e2e-{slug}-{uuid.uuid4().hex[:6]}",
            },
        )

    return make


@pytest.fixture(scope="session")
def example_terraform(
    terraform_cli: tuple[str, Path], terraform_root: Callable[[], Path]
) -> Callable[[Path, Mapping[str, str]], Terraform]:
    """Makes a working directory with a private copy of a repository example (and
    examples/terraform beside it), applied with the given variables."""
    binary, cli_config = terraform_cli

    def make(example: Path, variables: Mapping[str, str]) -> Terraform:
        return Terraform(binary, cli_config, terraform_root(), variables, config=example)

    return make


@pytest.fixture
def terraform(
    request: pytest.FixtureRequest, terraform_factory: Callable[[str], Terraform]
) -> Terraform:
    """Terraform in a fresh temporary working directory, with names unique to the test."""
    return terraform_factory(request.node.name)


@pytest.fixture
def explain(emulator: Emulator) -> Callable[[str], str]:
    """Builds an assertion message: what happened plus the tail of the Lambda logs."""

    def build(message: str) -> str:
        return f"{message}\n--- Lambda logs (tail) ---\n{emulator.log_tail(120)}"

    return build
