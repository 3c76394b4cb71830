"""The release zip contract: size budget, reproducibility, layout, and that it imports on 3.13.

The zips are built once per module by calling .ci/package.py's functions (pip install from the
hash-pinned requirements; wheels come from pip's cache after the first run). The import test runs
a real python3.13, the Lambda runtime version, with only the unzipped release and a copy of the
boto3 stack that the runtime provides on its path: a module pruned from powertools but still
needed, or a dependency missing from .ci/lambda-requirements.txt, fails here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "package.py"

# What the Lambda python3.13 runtime provides next to our zip (boto3 and its dependencies),
# copied from the dev venv to simulate it without network.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "urllib3", "dateutil", "six", "jmespath")

HANDLER_MODULES = ("handlers.trigger", "handlers.recorder")

# Runs inside python3.13: imports our handlers and, independently of them, every powertools API
# our code uses, then touches the lazily imported paths (DynamoDB persistence builds a boto3
# client, validation compiles a schema with fastjsonschema and applies a JMESPath envelope).
# Prints where the key modules were loaded from, so the test can check they came from the zip.
SMOKE_SCRIPT = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate

Logger(service="package-test")
Metrics(namespace="PackageTest", service="package-test")
IdempotencyConfig(event_key_jmespath="deploymentId")
DynamoDBPersistenceLayer(table_name="status", key_attr="deploymentId")
event = {"detail": {"deploymentId": "d-ABCDEFGHI", "state": "SUCCESS"}}
validate(event=event, schema={"type": "object", "required": ["state"]}, envelope="detail")
try:
    validate(event={}, schema={"type": "object", "required": ["state"]})
except SchemaValidationError:
    pass
else:
    raise SystemExit("validation did not reject an invalid event")
assert EventBridgeEvent(event).detail["state"] == "SUCCESS"
assert callable(idempotent_function) and LambdaContext is not None

names = ["aws_lambda_powertools", "fastjsonschema", "jmespath", "typing_extensions", "boto3"]
names += sys.argv[1:]
print(json.dumps({
    "version": list(sys.version_info[:2]),
    "files": {name: sys.modules[name].__file__ for name in names},
}))
"""


def load_packaging() -> ModuleType:
    """Import .ci/package.py (not an importable package: its directory starts with a dot)."""
    spec = importlib.util.spec_from_file_location("release_packaging", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def python313(packaging: ModuleType) -> Path:
    """A working python3.13; fails (never skips) when none is installed."""
    found: Path | None = packaging.find_python313()
    if found is None:
        pytest.fail(packaging.PYTHON313_MISSING)
    return found


@pytest.fixture(scope="module")
def packaging() -> ModuleType:
    return load_packaging()


@pytest.fixture(scope="module")
def built(packaging: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both release zips, built once for the module into a temporary directory."""
    out_dir = tmp_path_factory.mktemp("package")
    return {arch: packaging.build_zip(arch, out_dir) for arch in packaging.PLATFORMS}


@pytest.fixture(scope="module")
def simulated_runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the runtime-provided boto3 stack, copied from the dev venv."""
    runtime = tmp_path_factory.mktemp("runtime")
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            pytest.fail(f"{name} is not installed in the dev venv: run `make install`")
        origin = Path(spec.origin)
        if spec.submodule_search_locations:
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(origin.parent, runtime / name, ignore=ignore)
        else:
            shutil.copyfile(origin, runtime / origin.name)
    return runtime


def test_each_zip_within_size_budget(packaging: ModuleType, built: dict[str, Path]) -> None:
    for path in built.values():
        size = path.stat().st_size
        assert size <= packaging.MAX_ZIP_BYTES, f"{path.name} is {size} bytes"


def test_build_is_byte_identical(
    packaging: ModuleType, built: dict[str, Path], tmp_path: Path
) -> None:
    rebuilt = packaging.build_zip("amd64", tmp_path)
    assert rebuilt.name == built["amd64"].name
    assert rebuilt.read_bytes() == built["amd64"].read_bytes()


def test_zip_layout(packaging: ModuleType, built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["amd64"]) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {"handlers/trigger.py", "handlers/recorder.py"} <= set(names)
    assert "shared/schema/create_deployment.json" in names  # the contract reads it at import
    for info in infos:
        assert not info.is_dir(), info.filename
        if info.filename.endswith(".pyc"):
            # Only bytecode we compiled, for the Lambda runtime's Python.
            assert info.filename.endswith(".cpython-313.pyc"), info.filename
            assert "/__pycache__/" in f"/{info.filename}", info.filename
        assert info.external_attr >> 16 == 0o100644, info.filename
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.extra == b""
        assert info.date_time == packaging.zip_timestamp()
    top_level = {name.split("/")[0] for name in names}
    assert not top_level & set(packaging.RUNTIME_PROVIDED)
    assert not any(name.endswith(".dist-info/RECORD") for name in names)


def test_zip_imports_on_python313(
    built: dict[str, Path], python313: Path, simulated_runtime: Path, tmp_path: Path
) -> None:
    unzipped = tmp_path / "task"
    with zipfile.ZipFile(built["amd64"]) as archive:
        archive.extractall(unzipped)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(unzipped), str(simulated_runtime)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "STATUS_TABLE_NAME": "codedeploy-trigger-status",
        "POWERTOOLS_SERVICE_NAME": "codedeploy-trigger",
        "POWERTOOLS_METRICS_NAMESPACE": "CodeDeployTrigger",
    }
    # -S: no site-packages of the 3.13 install, like Lambda (only the task and runtime dirs).
    result = subprocess.run(
        [str(python313), "-S", "-c", SMOKE_SCRIPT, *HANDLER_MODULES],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["version"] == [3, 13]
    files = {name: Path(file) for name, file in report["files"].items()}
    assert files["boto3"].is_relative_to(simulated_runtime)
    for name in ("aws_lambda_powertools", "fastjsonschema", "jmespath", "typing_extensions"):
        assert files[name].is_relative_to(unzipped), f"{name} loaded from {files[name]}"
    for name in HANDLER_MODULES:
        assert files[name].is_relative_to(unzipped), f"{name} loaded from {files[name]}"


def lambda_like_env(unzipped: Path, runtime: Path, tmp_path: Path) -> dict[str, str]:
    """The environment of a python3.13 that sees only the unzipped release and the runtime."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(unzipped), str(runtime)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }


# Runs inside python3.13 from the unzipped release: logs one line through our shared logger and
# reports which modules the version lookup needed.
VERSION_SCRIPT = """
import json, sys
from shared.observability import logger
from shared.version import VERSION
logger.info("version probe")
print(json.dumps({
    "VERSION": VERSION,
    "metadata_imported": "importlib.metadata" in sys.modules,
}))
"""


def test_zip_knows_its_version_from_the_generated_module(
    packaging: ModuleType,
    built: dict[str, Path],
    python313: Path,
    simulated_runtime: Path,
    tmp_path: Path,
) -> None:
    version = packaging.read_version()
    with zipfile.ZipFile(built["amd64"]) as archive:
        names = archive.namelist()
        generated = archive.read(packaging.GENERATED_VERSION_MODULE).decode()
        archive.extractall(tmp_path / "task")
    assert generated == packaging.version_module_source(version)
    # Our own package ships no dist-info: the generated module is the only source in Lambda.
    assert not any(name.startswith("codedeploy_trigger") for name in names)
    assert "shared/__pycache__/_release.cpython-313.pyc" in names

    result = subprocess.run(
        [str(python313), "-S", "-c", VERSION_SCRIPT],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
        env=lambda_like_env(tmp_path / "task", simulated_runtime, tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    *log_lines, report_line = result.stdout.strip().splitlines()
    report = json.loads(report_line)
    assert report["VERSION"] == version
    assert [json.loads(line)["version"] for line in log_lines] == [version]
    # The development fallback (importlib.metadata) is not paid at cold start.
    assert report["metadata_imported"] is False


def test_checksums_file_is_what_sha256sum_checks(
    packaging: ModuleType, built: dict[str, Path], tmp_path: Path
) -> None:
    for path in built.values():
        shutil.copyfile(path, tmp_path / path.name)
    checksums = packaging.write_checksums(list(built.values()), tmp_path)

    assert checksums.name == "SHA256SUMS"
    lines = checksums.read_text(encoding="utf-8").splitlines()
    assert [line.split("  ")[1] for line in lines] == sorted(p.name for p in built.values())
    verified = subprocess.run(
        ["sha256sum", "--check", "--strict", checksums.name],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    (tmp_path / built["arm64"].name).write_bytes(b"tampered")
    tampered = subprocess.run(
        ["sha256sum", "--check", "--strict", checksums.name],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert tampered.returncode != 0


def test_zip_names_carry_the_pyproject_version(
    packaging: ModuleType, built: dict[str, Path]
) -> None:
    version = packaging.read_version()
    assert {arch: path.name for arch, path in built.items()} == {
        "amd64": f"codedeploy-trigger_{version}_linux_amd64.zip",
        "arm64": f"codedeploy-trigger_{version}_linux_arm64.zip",
    }


def test_version_flag_prints_the_version_without_building(packaging: ModuleType) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--version"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{packaging.read_version()}\n"


def test_a_release_module_in_the_source_tree_is_refused(
    packaging: ModuleType, tmp_path: Path
) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / packaging.GENERATED_VERSION_MODULE).write_text("VERSION = 'stale'\n")
    with pytest.raises(packaging.PackagingError, match="must not exist in the source tree"):
        packaging.write_version_module(tmp_path, "1.2.3")
