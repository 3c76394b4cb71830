"""Terraform for the end-to-end tests: the binary, an offline CLI config, a throwaway workdir.

Terraform must never reach the registry (there is no network): the CLI config written here
installs providers only from the local filesystem mirror. Everything Terraform writes (the
copied configuration, .terraform/, the lock file, the state) lives in a temporary directory;
nothing is left in the repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
E2E_CONFIG = Path(__file__).resolve().parent / "terraform"
MODULE = REPO / "examples" / "terraform"
MIRROR_SCRIPT = REPO / ".ci" / "tf-mirror.sh"

# Seconds per simulated CodeDeploy state (Created -> InProgress -> final): short, but long
# enough that "apply waited for the deployment" is measurable.
STEP_SECONDS = float(os.environ.get("E2E_STEP_SECONDS", "2"))
# Seconds per minute of a deployment group's own clock (Ready wait, termination wait) in the
# emulator, whose default is a real minute: the examples' waits are whole minutes
# (examples/terraform-ecs-blue-green's termination wait is 1), which would make the suite
# minutes longer and test nothing more. tests/e2e/ready_gate sizes its group's waits in these.
MINUTE_SECONDS = float(os.environ.get("E2E_MINUTE_SECONDS", "3"))


class HarnessError(RuntimeError):
    """Something the e2e tests need is missing; the message says what and how to get it."""


def package_zip(arch: str = "amd64") -> Path:
    """The release zip `make package` builds for this version (pyproject.toml)."""
    version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    path = REPO / "package" / f"codedeploy-trigger_{version}_linux_{arch}.zip"
    if not path.is_file():
        raise HarnessError(f"release zip {path} is missing: run `make package` first")
    return path


def find_terraform() -> str:
    found = shutil.which("terraform")
    if not found:
        raise HarnessError("terraform is not installed (not on PATH): the e2e tests need it")
    return found


def _has_aws_provider(root: Path) -> bool:
    aws = root / "registry.terraform.io" / "hashicorp" / "aws"
    return any(aws.glob("*/*/terraform-provider-aws_*")) or any(
        aws.glob("terraform-provider-aws_*.zip")
    )


def find_provider_mirror() -> Path:
    """The filesystem mirror root (the directory holding registry.terraform.io/).

    TF_PLUGIN_MIRROR if set, else what .ci/tf-mirror.sh finds (Terraform's implicit mirror
    directories, then a search of the file system).
    """
    env = os.environ.get("TF_PLUGIN_MIRROR")
    if env:
        if not _has_aws_provider(Path(env)):
            raise HarnessError(
                f"TF_PLUGIN_MIRROR={env} holds no registry.terraform.io/hashicorp/aws provider"
            )
        return Path(env)
    if not MIRROR_SCRIPT.is_file():
        raise HarnessError(
            f"{MIRROR_SCRIPT} is missing and TF_PLUGIN_MIRROR is not set: cannot find the "
            "local provider mirror"
        )
    out = subprocess.run(
        ["bash", str(MIRROR_SCRIPT)], capture_output=True, text=True, timeout=600, check=False
    )
    root = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    if out.returncode != 0 or not root or not _has_aws_provider(Path(root)):
        raise HarnessError(
            "no local Terraform provider mirror with hashicorp/aws: "
            f"{out.stderr.strip() or 'tf-mirror.sh found nothing'}; set TF_PLUGIN_MIRROR to the "
            "directory that contains registry.terraform.io/"
        )
    return Path(root)


def write_cli_config(path: Path, mirror: Path) -> Path:
    # Only the mirror: no `direct {}` fallback, so a missing provider fails instead of
    # trying the network.
    path.write_text(
        "disable_checkpoint = true\n\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        '    include = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "}\n",
        encoding="utf-8",
    )
    return path


@dataclass
class TerraformRun:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        return (
            f"terraform {' '.join(self.args)} exited {self.returncode} after "
            f"{self.seconds:.1f}s\n--- stdout ---\n{self.stdout[-6000:]}\n"
            f"--- stderr ---\n{self.stderr[-6000:]}"
        )

    def resource_seconds(self) -> list[tuple[int, str]]:
        """(seconds, "address operation") of every resource operation Terraform timed."""
        return [
            (int(m["minutes"] or 0) * 60 + int(m["seconds"]), f"{m['address']} {m['operation']}")
            for m in _COMPLETE.finditer(self.stdout)
        ]


# `aws_sqs_queue.dlq: Creation complete after 25s [id=...]`, `... after 1m2s`
_COMPLETE = re.compile(
    r"^(?P<address>\S+): (?P<operation>Creation|Destruction|Modifications) complete after "
    r"(?:(?P<minutes>\d+)m)?(?P<seconds>\d+)s",
    re.MULTILINE,
)


@dataclass(frozen=True)
class TimedCommand:
    """One terraform command of the session, for the timing summary."""

    workdir: str
    run: TerraformRun


class CommandLog:
    """Every terraform command of the session (scenarios run in threads, hence the lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._commands: list[TimedCommand] = []

    def add(self, workdir: str, run: TerraformRun) -> None:
        with self._lock:
            self._commands.append(TimedCommand(workdir, run))

    def commands(self) -> list[TimedCommand]:
        with self._lock:
            return list(self._commands)


COMMANDS = CommandLog()


class Terraform:
    """Runs terraform on a private copy of a configuration (default tests/e2e/terraform) and
    examples/terraform."""

    def __init__(
        self,
        binary: str,
        cli_config: Path,
        root: Path,
        variables: Mapping[str, str],
        config: Path = E2E_CONFIG,
    ) -> None:
        self.binary = binary
        # Same relative layout as the repository, so the relative module source resolves.
        self.config_name = config.relative_to(REPO).as_posix()
        workdir = root / self.config_name
        shutil.copytree(config, workdir, ignore=_ignore_terraform_files)
        shutil.copytree(MODULE, root / "examples" / "terraform", ignore=_ignore_terraform_files)
        self.workdir = workdir
        self.variables = dict(variables)
        self.env = {
            k: v
            for k, v in os.environ.items()
            # TF_LOG / TF_LOG_PATH stay: they are how one debugs a failing run.
            if not (k.startswith(("AWS_", "TF_")) and not k.startswith("TF_LOG"))
        }
        self.env.update(
            {
                "TF_CLI_CONFIG_FILE": str(cli_config),
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "CHECKPOINT_DISABLE": "1",
                # The provider talks to the emulator only; no profile or IMDS lookups.
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
        )
        self._initialized = False

    def run(self, *args: str, timeout: float = 600) -> TerraformRun:
        started = time.monotonic()
        try:
            proc = subprocess.run(
                [self.binary, *args],
                cwd=self.workdir,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            # Report what it printed so far instead of a bare timeout.
            run = TerraformRun(
                list(args),
                -1,
                _text(exc.stdout),
                _text(exc.stderr) + f"\n(killed after {timeout:.0f}s)",
                time.monotonic() - started,
            )
        else:
            run = TerraformRun(
                list(args), proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started
            )
        COMMANDS.add(self.label, run)
        return run

    @property
    def label(self) -> str:
        """What names this working directory in the timing summary."""
        names = [v for k, v in self.variables.items() if k in ("name_prefix", "name")]
        return " ".join([self.config_name, *names])

    def init(self) -> TerraformRun:
        run = self.run("init", "-input=false", "-no-color")
        if run.returncode != 0:
            raise HarnessError(run.describe())
        self._initialized = True
        return run

    def _var_args(self, overrides: Mapping[str, str]) -> list[str]:
        merged = {**self.variables, **overrides}
        return [f"-var={k}={v}" for k, v in merged.items()]

    def apply(self, **variables: str) -> TerraformRun:
        if not self._initialized:
            self.init()
        return self.run(
            "apply", "-auto-approve", "-input=false", "-no-color", *self._var_args(variables)
        )

    def destroy(self, **variables: str) -> TerraformRun:
        if not self._initialized:
            self.init()
        return self.run(
            "destroy", "-auto-approve", "-input=false", "-no-color", *self._var_args(variables)
        )

    def destroy_only(self, address: str, **variables: str) -> TerraformRun:
        """`terraform destroy -target=ADDRESS`: that resource and what depends on it, only."""
        if not self._initialized:
            self.init()
        return self.run(
            "destroy", "-auto-approve", "-input=false", "-no-color", f"-target={address}",
            *self._var_args(variables),
        )  # fmt: skip

    def plan(self, **variables: str) -> TerraformRun:
        """`plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error."""
        if not self._initialized:
            self.init()
        return self.run(
            "plan", "-detailed-exitcode", "-input=false", "-no-color", *self._var_args(variables)
        )

    def state_list(self) -> list[str]:
        run = self.run("state", "list", "-no-color")
        if run.returncode != 0:
            raise HarnessError(run.describe())
        return run.stdout.split()

    def outputs(self) -> dict[str, Any]:
        run = self.run("output", "-json", "-no-color")
        if run.returncode != 0:
            raise HarnessError(run.describe())
        return {k: v["value"] for k, v in json.loads(run.stdout).items()}


def _ignore_terraform_files(directory: str, names: list[str]) -> set[str]:
    # A developer's local init or state in the source directories must not come along.
    return {
        n
        for n in names
        if n in (".terraform", ".terraform.lock.hcl") or n.startswith("terraform.tfstate")
    }


def _text(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value or ""


# The provider's endpoint names of every service the example and the module call.
SERVICES = (
    "cloudwatchevents",
    "cloudwatchlogs",
    "deploy",
    "dynamodb",
    "ec2",
    "ecs",
    "elbv2",
    "iam",
    "lambda",
    "sqs",
    "sts",
)


def provider_override(endpoint: str) -> str:
    """An override file for the example's provider "aws" block: emulator endpoints, fake
    credentials, no account or region lookups. Region and default_tags stay the example's."""
    endpoints = "\n".join(f"    {s:<16} = {json.dumps(endpoint)}" for s in SERVICES)
    return (
        "# Written by the end-to-end tests: point the example at the emulator.\n"
        'provider "aws" {\n'
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
