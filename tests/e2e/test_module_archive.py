"""End to end: the module from the release's module archive, fetched by Terraform over HTTP.

`make package` writes package/codedeploy-trigger-module_<version>.zip: examples/terraform with
both function zips in dist/. Here package/ is served on a free local port and a root module
names the archive by URL, as a user names the release asset:

    source = "http://127.0.0.1:PORT/codedeploy-trigger-module_X.Y.Z.zip"

Terraform's module installer treats a URL ending in an archive extension (.zip among them) as
the archive itself: it skips the `terraform-get=1` / X-Terraform-Get redirection that other HTTP
URLs go through, needs no `?archive=zip`, and reads `//subdir` after the file name as a
directory inside it (Terraform documentation, "Module Sources": "Fetching archives over HTTP",
"Modules in Package Sub-directories"). `?checksum=sha256:<hex>` is go-getter's checksum
parameter (go-getter README, "Checksumming"), which Terraform's installer honours although its
page does not list it: the checks below are what says it works with this Terraform.

One apply of tests/e2e/terraform's configuration (the examples/terraform copy beside it deleted,
the module source pointing at the archive, no zip variable: the module must run its bundled
zip) runs one deployment. Two plan-only roots cost no apply: the chain module from the same
archive with the arm64 zip chosen, pinned by checksum; and a wrong checksum refused by init.
Both run as scenario fixtures, in the background beside the other scenarios, each with its
own archive server so that the requests each one sees are its own.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import shutil
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.release_build import release_build

from .background import scenario
from .emulator import Emulator
from .harness import REPO, HarnessError, Terraform, TerraformRun

PACKAGE_DIR = REPO / "package"
# The module source in tests/e2e/terraform/main.tf, replaced by the archive's URL.
REPOSITORY_SOURCE = 'source = "../../../examples/terraform"'
# Seconds a connection of the archive server may stay silent before the server drops it.
SERVER_SOCKET_TIMEOUT = 30
SERVER_STOP_TIMEOUT = 10


def _flat(text: str) -> str:
    # Terraform wraps long diagnostics; compare with all whitespace runs collapsed.
    return " ".join(text.split())


def _module_archive() -> Path:
    """package/'s module archive of this version, checked to hold today's module."""
    packaging = release_build()
    path: Path = PACKAGE_DIR / packaging.module_archive_name(packaging.read_version())
    if not path.is_file():
        pytest.fail(f"e2e prerequisite missing: {path} (run `make package` first)", pytrace=False)
    module_dir = REPO / packaging.MODULE_DIR
    with zipfile.ZipFile(path) as archive:
        stale = [
            name
            for name in ("lambda.tf", "main.tf", "variables.tf")
            if archive.read(name) != (module_dir / name).read_bytes()
        ]
    if stale:
        pytest.fail(f"{path.name} holds an older {', '.join(stale)}: run `make package`")
    return path


@dataclass
class ArchiveServer:
    """package/ over HTTP on a free local port, with every request it answered."""

    url: str
    requests: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def serving_the_package() -> Iterator[ArchiveServer]:
    """package/ served on a free local port while the block runs."""
    requests: list[tuple[str, str]] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        timeout = SERVER_SOCKET_TIMEOUT  # a stalled client cannot hold a thread forever

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(PACKAGE_DIR), **kwargs)

        def send_head(self) -> Any:
            requests.append((self.command, self.path))
            return super().send_head()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the requests list is the log

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.daemon = True
    thread.start()
    try:
        yield ArchiveServer(f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=SERVER_STOP_TIMEOUT)


def _root_using_the_archive(
    terraform_cli: tuple[str, Path],
    terraform_root: Callable[[], Path],
    variables: dict[str, str],
    main_tf: Callable[[str], str],
) -> Terraform:
    """A working directory whose main.tf is main_tf(tests/e2e/terraform/main.tf), without the
    repository's module beside it: whatever module runs came from the archive."""
    binary, cli_config = terraform_cli
    tf = Terraform(binary, cli_config, terraform_root(), variables)
    shutil.rmtree(tf.workdir.parents[2] / "examples")
    main = tf.workdir / "main.tf"
    main.write_text(main_tf(main.read_text(encoding="utf-8")), encoding="utf-8")
    return tf


@dataclass
class FromArchive:
    """What the apply of the module from the archive did, captured right after it."""

    tf: Terraform
    archive: Path
    url: str
    apply: TerraformRun
    requests: list[tuple[str, str]]
    outputs: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployment_status: str | None = None
    modules: dict[str, dict[str, str]] = field(default_factory=dict)
    replan: TerraformRun | None = None


@scenario
def from_archive(
    emulator: Emulator,
    terraform_cli: tuple[str, Path],
    terraform_root: Callable[[], Path],
) -> FromArchive:
    """The apply of the module from the archive, what it left, and a second plan."""
    with serving_the_package() as archive_server:
        return _apply_from_archive(emulator, terraform_cli, terraform_root, archive_server)


def _apply_from_archive(
    emulator: Emulator,
    terraform_cli: tuple[str, Path],
    terraform_root: Callable[[], Path],
    archive_server: ArchiveServer,
) -> FromArchive:
    archive = _module_archive()
    url = f"{archive_server.url}/{archive.name}"

    def point_at_the_archive(text: str) -> str:
        if text.count(REPOSITORY_SOURCE) != 1:
            raise HarnessError(f"tests/e2e/terraform/main.tf has no single {REPOSITORY_SOURCE}")
        return text.replace(REPOSITORY_SOURCE, f'source = "{url}"')

    # No lambda_zip_path and no S3 variables: main.tf passes null for both.
    variables = {"endpoint": emulator.endpoint, "name_prefix": f"e2e-ar-{uuid.uuid4().hex[:6]}"}
    tf = _root_using_the_archive(terraform_cli, terraform_root, variables, point_at_the_archive)
    served_before = len(archive_server.requests)
    apply = tf.apply(description="e2e: module from the release archive")
    scenario = FromArchive(tf, archive, url, apply, archive_server.requests[served_before:])
    if apply.returncode != 0:
        return scenario
    emulator.wait_idle(prefix=variables["name_prefix"])
    scenario.outputs = tf.outputs()
    lam = emulator.client("lambda")
    for role in ("trigger", "recorder"):
        function = lam.get_function(FunctionName=f"{variables['name_prefix']}-{role}")
        scenario.functions[role] = function["Configuration"]
    found = emulator.client("codedeploy").get_deployment(
        deploymentId=scenario.outputs["deployment_id"]
    )
    scenario.deployment_status = found["deploymentInfo"]["status"]
    manifest = json.loads((tf.workdir / ".terraform" / "modules" / "modules.json").read_text())
    scenario.modules = {entry["Key"]: entry for entry in manifest["Modules"]}
    scenario.replan = tf.plan(description="e2e: module from the release archive")
    return scenario


@pytest.mark.e2e
def test_the_module_from_the_archive_deploys_with_its_bundled_zip(
    from_archive: FromArchive, explain: Callable[[str], str]
) -> None:
    assert from_archive.apply.returncode == 0, explain(from_archive.apply.describe())
    assert from_archive.outputs["status"] == "Succeeded"
    assert from_archive.deployment_status == "Succeeded"
    # main.tf asks for x86_64: both functions run the archive's dist/..._linux_amd64.zip.
    with zipfile.ZipFile(from_archive.archive) as archive:
        bundled = archive.read(
            f"dist/{release_build().zip_name(release_build().read_version(), 'amd64')}"
        )
    code_sha256 = base64.b64encode(hashlib.sha256(bundled).digest()).decode()
    for role, function in from_archive.functions.items():
        assert function["CodeSha256"] == code_sha256, role
        assert function["Architectures"] == ["x86_64"], role


@pytest.mark.e2e
def test_terraform_took_the_module_from_the_url_without_redirection(
    from_archive: FromArchive, explain: Callable[[str], str]
) -> None:
    assert from_archive.apply.returncode == 0, explain(from_archive.apply.describe())
    assert from_archive.modules["trigger"]["Source"] == from_archive.url
    assert from_archive.modules["trigger"]["Dir"] == ".terraform/modules/trigger"
    # The archive itself, with no `terraform-get=1` query: a .zip URL is not a redirection.
    path = f"/{from_archive.archive.name}"
    assert from_archive.requests, "Terraform requested nothing from the archive server"
    assert {request for _, request in from_archive.requests} == {path}
    assert "GET" in {method for method, _ in from_archive.requests}


@pytest.mark.e2e
def test_a_second_plan_of_the_module_from_the_archive_has_no_changes(
    from_archive: FromArchive, explain: Callable[[str], str]
) -> None:
    """The bundled zip's path and hash are stable: nothing drifts after the apply."""
    assert from_archive.apply.returncode == 0, explain(from_archive.apply.describe())
    assert from_archive.replan is not None
    assert from_archive.replan.returncode == 0, from_archive.replan.describe()


# A root with the module and the chain module, both from the archive and pinned by its sha256.
# Planned only: the chain is applied by test_chain.py, and planning shows which zip is chosen.
PINNED_ROOT = """
terraform {{
  required_providers {{
    aws = {{
      source = "hashicorp/aws"
    }}
  }}
}}

variable "endpoint" {{
  type = string
}}

variable "name_prefix" {{
  type = string
}}

provider "aws" {{
  region     = "us-east-1"
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {{
    sts = var.endpoint
  }}
}}

module "trigger" {{
  source = "{url}?checksum=sha256:{sha256}"

  name_prefix                  = var.name_prefix
  architecture                 = "arm64"
  codedeploy_application_names = ["app"]
}}

module "chain" {{
  source = "{url}//modules/deployment?checksum=sha256:{sha256}"

  function_name = module.trigger.trigger_function_name
  deployment = {{
    applicationName     = "app"
    deploymentGroupName = "group"
    revision = {{
      revisionType   = "AppSpecContent"
      appSpecContent = {{ content = "version: 0.0" }}
    }}
  }}
}}
"""


def _pinned_root(
    emulator: Emulator,
    terraform_cli: tuple[str, Path],
    terraform_root: Callable[[], Path],
    url: str,
    sha256: str,
) -> Terraform:
    variables = {"endpoint": emulator.endpoint, "name_prefix": f"e2e-ap-{uuid.uuid4().hex[:6]}"}
    return _root_using_the_archive(
        terraform_cli,
        terraform_root,
        variables,
        lambda _: PINNED_ROOT.format(url=url, sha256=sha256),
    )


@dataclass
class Pinned:
    """The plan of the root pinned by the archive's hash, and init of one with another hash."""

    archive: Path
    sha256: str
    plan: TerraformRun
    init_with_another_hash: TerraformRun
    init_workdir: Path


@scenario
def pinned(
    emulator: Emulator,
    terraform_cli: tuple[str, Path],
    terraform_root: Callable[[], Path],
) -> Pinned:
    """Plans only: the pinned root (the chain module, arm64) and init with a wrong hash."""
    archive = _module_archive()
    sha256 = release_build().sha256_of(archive)
    with serving_the_package() as archive_server:
        url = f"{archive_server.url}/{archive.name}"
        plan = _pinned_root(emulator, terraform_cli, terraform_root, url, sha256).plan()
        wrong = _pinned_root(emulator, terraform_cli, terraform_root, url, "0" * 64)
        init = wrong.run("init", "-input=false", "-no-color")
    return Pinned(archive, sha256, plan, init, wrong.workdir)


@pytest.mark.e2e
def test_the_chain_module_and_the_arm64_zip_come_from_the_pinned_archive(
    pinned: Pinned,
) -> None:
    packaging = release_build()
    # The hash the module is pinned with is the archive's line in the release's SHA256SUMS.
    sums = (PACKAGE_DIR / packaging.CHECKSUMS_NAME).read_text(encoding="utf-8")
    assert f"{pinned.sha256}  {pinned.archive.name}\n" in sums
    plan = pinned.plan

    assert plan.returncode == 2, plan.describe()
    arm64_zip = packaging.zip_name(packaging.read_version(), "arm64")
    flat = _flat(plan.output)
    # The recorder is counted: it exists with status_tracking (true by default).
    for address in ("aws_lambda_function.trigger", "aws_lambda_function.recorder[0]"):
        assert f"module.trigger.{address} will be created" in flat, plan.describe()
    assert f'filename = ".terraform/modules/trigger/dist/{arm64_zip}"' in flat, plan.describe()
    assert "_linux_amd64" not in flat
    assert "module.chain.aws_lambda_invocation.deploy will be created" in flat, plan.describe()


@pytest.mark.e2e
def test_an_archive_with_another_hash_is_refused_by_init(pinned: Pinned) -> None:
    init = pinned.init_with_another_hash

    assert init.returncode != 0, init.describe()
    assert "Checksums did not match" in _flat(init.output), init.describe()
    assert not (pinned.init_workdir / ".terraform" / "modules" / "trigger").exists()
