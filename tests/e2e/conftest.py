"""Fixtures of the end-to-end tests: one emulator and one Terraform CLI config per session, a
throwaway working directory per Terraform root, and scenarios that run side by side.

For a new example or scenario:

- `@scenario` (tests/e2e/background.py) on a function whose parameters are session fixtures
  makes a module-scoped fixture of the same name that is built in a background thread, beside
  the other scenarios, from the start of the session. Run every Terraform command there
  (apply, plan, destroy), capture what the tests look at, return it; the tests only assert on
  the returned value. Terraform run in a test body runs alone and makes `make e2e` longer.
- `example_terraform(path, variables)`: a private copy of a repository configuration, with
  examples/terraform beside it so relative module sources resolve. For an example with its own
  provider block write `harness.provider_override(emulator.endpoint)` into the copy as
  `e2e_provider_override.tf`.
- `terraform_factory(name)`: a copy of tests/e2e/terraform (the module, a CodeDeploy group and
  one aws_lambda_invocation) with endpoint, lambda_zip_path and a unique name_prefix set.
- `emulator`: the one emulator. Give everything a unique name prefix and filter what you read
  by it (deployments by application, invocations by function name); after a command that
  deploys, `emulator.wait_idle(prefix=...)` waits for that prefix's deployments, events and
  recorder invocations only (without a prefix: for whatever is under way, everywhere).
- `lambda_zip` (the release zip), `terraform_cli` (binary, CLI config), `terraform_root` (a
  maker of temporary roots), `terraform` (per test) and `explain` (an assertion message with
  the Lambda log tail).

Init costs ~2 s per working directory: the CLI config installs the provider from the local
filesystem mirror, which Terraform links rather than copies. The session ends with a summary
of where the time went (scenarios, slowest terraform commands and resource operations).

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

from .background import ScenarioRunner, builders_for, threads_from_env
from .emulator import Emulator, EmulatorError, find_python
from .harness import (
    COMMANDS,
    MINUTE_SECONDS,
    STEP_SECONDS,
    HarnessError,
    Terraform,
    find_provider_mirror,
    find_terraform,
    package_zip,
    write_cli_config,
)

T = TypeVar("T")

SCENARIO_RUNNER = pytest.StashKey[ScenarioRunner]()


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
    with Emulator(step_seconds=STEP_SECONDS, minute_seconds=MINUTE_SECONDS) as running:
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


@pytest.fixture(scope="session", autouse=True)
def e2e_scenarios(request: pytest.FixtureRequest) -> Iterator[ScenarioRunner]:
    """Starts every scenario the selected tests use, in the background (background.py)."""
    try:
        runner = ScenarioRunner(threads_from_env())
    except ValueError as exc:
        pytest.fail(str(exc), pytrace=False)
    request.config.stash[SCENARIO_RUNNER] = runner
    for builder in builders_for(request.session.items):
        try:
            runner.start(builder, request)
        except pytest.fail.Exception:
            # A missing prerequisite: the scenario's own tests report it when they ask for
            # it; the tests that do not need it still run.
            continue
    yield runner
    runner.join()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Where the time went: scenarios, the slowest terraform commands and resource waits."""
    commands = COMMANDS.commands()
    if not commands:
        return
    write = terminalreporter.write_line
    terminalreporter.section("e2e time")
    runner = terminalreporter.config.stash.get(SCENARIO_RUNNER, None)
    if runner is not None:
        for name, seconds in runner.timings():
            write(f"{seconds:7.1f}s scenario {name}")
    total = sum(c.run.seconds for c in commands)
    write(f"{total:7.1f}s in {len(commands)} terraform commands; the slowest:")
    for command in sorted(commands, key=lambda c: c.run.seconds, reverse=True)[:8]:
        write(f"{command.run.seconds:7.1f}s terraform {command.run.args[0]} {command.workdir}")
    operations = [
        (seconds, f"{what} ({c.workdir.split()[0]})")
        for c in commands
        for seconds, what in c.run.resource_seconds()
    ]
    write("the slowest resource operations:")
    for seconds, what in sorted(operations, reverse=True)[:8]:
        write(f"{seconds:6d}s  {what}")
