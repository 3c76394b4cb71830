"""The release zip contract: size budget, reproducibility, layout, and that it imports on 3.13.

The zips are built once per module by calling .ci/package.py's functions (pip install from the
hash-pinned requirements; wheels come from pip's cache after the first run). The import test runs
the interpreter that compiled the zip's bytecode with only the unzipped release and a copy of the
boto3 stack that the runtime provides on its path: a module pruned from powertools but still
needed, or a dependency missing from .ci/lambda-requirements.txt, fails here.

That interpreter is python3.13, the Lambda runtime's, wherever the machine has one (CI does).
Elsewhere it is this venv's Python: only the .pyc files depend on it (pip picks the wheels by
--platform/--python-version), so every check but one still runs. That one,
test_the_release_build_is_python313s, says in its skip reason that `make package` and CI check
the python3.13 build, and fails instead of skipping in CI.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.release_build import SCRIPT, release_build

pytestmark = pytest.mark.integration  # builds the zips, runs subprocess interpreters

ROOT = Path(__file__).resolve().parent.parent

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
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

Logger(service="package-test")
Metrics(namespace="PackageTest", service="package-test")
IdempotencyConfig(event_key_jmespath="deploymentId")
DynamoDBPersistenceLayer(table_name="status", key_attr="deploymentId")
import fastjsonschema
check = fastjsonschema.compile({"type": "object", "required": ["state"]})
check({"state": "SUCCESS"})
try:
    check({})
except fastjsonschema.JsonSchemaValueException:
    pass
else:
    raise SystemExit("fastjsonschema did not reject an invalid event")
for pruned in ("data_classes", "validation", "serialization"):
    try:
        importlib.import_module("aws_lambda_powertools.utilities." + pruned)
    except ImportError:
        pass
    else:
        raise SystemExit(pruned + " is shipped, though nothing imports it")
assert callable(idempotent_function) and LambdaContext is not None

names = ["aws_lambda_powertools", "fastjsonschema", "jmespath", "typing_extensions", "boto3"]
names += sys.argv[1:]
print(json.dumps({
    "version": list(sys.version_info[:2]),
    "files": {name: sys.modules[name].__file__ for name in names},
}))
"""


@dataclass(frozen=True)
class Compiler:
    """The interpreter that compiles the zips' bytecode in this test module."""

    path: Path
    version: tuple[int, int]

    @property
    def cache_tag(self) -> str:
        """The .pyc tag it writes and reads: cpython-313 for 3.13."""
        return f"cpython-{self.version[0]}{self.version[1]}"


@pytest.fixture(scope="module")
def packaging() -> ModuleType:
    return release_build()


@pytest.fixture(scope="module")
def compiler(packaging: ModuleType) -> Compiler:
    """The Lambda runtime's python3.13 where there is one, else this venv's Python."""
    found: Path | None = packaging.find_python313()
    if found is not None:
        major, minor = packaging.PYTHON_VERSION.split(".")
        return Compiler(found, (int(major), int(minor)))
    return Compiler(Path(sys.executable), (sys.version_info.major, sys.version_info.minor))


@pytest.fixture(scope="module")
def built(
    packaging: ModuleType, compiler: Compiler, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Both release zips, built once for the module into a temporary directory."""
    out_dir = tmp_path_factory.mktemp("package")
    return {
        arch: packaging.build_zip(arch, out_dir, python=compiler.path)
        for arch in packaging.PLATFORMS
    }


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
    packaging: ModuleType, compiler: Compiler, built: dict[str, Path], tmp_path: Path
) -> None:
    rebuilt = packaging.build_zip("amd64", tmp_path, python=compiler.path)
    assert rebuilt.name == built["amd64"].name
    assert rebuilt.read_bytes() == built["amd64"].read_bytes()


def test_zip_layout(packaging: ModuleType, compiler: Compiler, built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["amd64"]) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {"handlers/trigger.py", "handlers/recorder.py"} <= set(names)
    assert (
        "shared/contract/schema/create_deployment.json" in names
    )  # the contract reads it at import
    for info in infos:
        assert not info.is_dir(), info.filename
        if info.filename.endswith(".pyc"):
            # Only bytecode we compiled (python3.13's in a release).
            assert info.filename.endswith(f".{compiler.cache_tag}.pyc"), info.filename
            assert "/__pycache__/" in f"/{info.filename}", info.filename
        assert info.external_attr >> 16 == 0o100644, info.filename
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.extra == b""
        assert info.date_time == packaging.zip_timestamp()
    top_level = {name.split("/")[0] for name in names}
    assert not top_level & set(packaging.RUNTIME_PROVIDED)
    assert not any(name.endswith(".dist-info/RECORD") for name in names)


def test_every_zip_ships_the_license(built: dict[str, Path]) -> None:
    for path in built.values():
        with zipfile.ZipFile(path) as archive:
            assert archive.read("LICENSE") == (ROOT / "LICENSE").read_bytes(), path.name


def test_a_source_tree_without_its_license_is_refused(
    packaging: ModuleType, tmp_path: Path
) -> None:
    for package in packaging.SOURCE_PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    with pytest.raises(packaging.PackagingError, match="LICENSE is missing"):
        list(packaging.iter_source_files(tmp_path))


def test_zip_imports_with_only_the_runtime_beside_it(
    built: dict[str, Path], compiler: Compiler, simulated_runtime: Path, tmp_path: Path
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
    # -S: no site-packages of the interpreter, like Lambda (only the task and runtime dirs).
    result = subprocess.run(
        [str(compiler.path), "-S", "-c", SMOKE_SCRIPT, *HANDLER_MODULES],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["version"] == list(compiler.version)
    files = {name: Path(file) for name, file in report["files"].items()}
    assert files["boto3"].is_relative_to(simulated_runtime)
    for name in ("aws_lambda_powertools", "fastjsonschema", "jmespath", "typing_extensions"):
        assert files[name].is_relative_to(unzipped), f"{name} loaded from {files[name]}"
    for name in HANDLER_MODULES:
        assert files[name].is_relative_to(unzipped), f"{name} loaded from {files[name]}"


def lambda_like_env(unzipped: Path, runtime: Path, tmp_path: Path) -> dict[str, str]:
    """The environment of an interpreter that sees only the unzipped release and the runtime."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(unzipped), str(runtime)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }


# Runs inside the compiling interpreter from the unzipped release: logs one line through our
# shared logger and reports which modules the version lookup needed.
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
    compiler: Compiler,
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
    assert f"shared/__pycache__/_release.{compiler.cache_tag}.pyc" in names

    result = subprocess.run(
        [str(compiler.path), "-S", "-c", VERSION_SCRIPT],
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


def test_the_release_build_is_python313s(
    packaging: ModuleType, compiler: Compiler, built: dict[str, Path], tmp_path: Path
) -> None:
    """What `make package` builds (python3.13 picked by the build itself) is, byte for byte,
    the zip the tests above checked, and every module in it is compiled by python3.13; a build
    by another Python differs only in its .pyc files (what lets make test check the zips
    without python3.13)."""
    lambda_version = tuple(int(part) for part in packaging.PYTHON_VERSION.split("."))
    if compiler.version != lambda_version:
        used = f"Python {compiler.version[0]}.{compiler.version[1]} ({compiler.path})"
        reason = (
            f"{packaging.python_missing().rstrip('.')}. The zips were built, checked and "
            f"import-tested above with {used} instead; the python3.13 build that ships "
            "(cpython-313 bytecode, imported on 3.13) is checked by `make package` and by CI, "
            "where this test fails instead of skipping."
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)

    release = packaging.build_zip("amd64", tmp_path)
    assert release.read_bytes() == built["amd64"].read_bytes()
    with zipfile.ZipFile(release) as archive:
        names = set(archive.namelist())
    modules = [Path(name) for name in names if name.endswith(".py")]
    expected = {
        (module.parent / "__pycache__" / f"{module.stem}.cpython-313.pyc").as_posix()
        for module in modules
    }
    assert {name for name in names if name.endswith(".pyc")} == expected

    other = packaging.build_zip("amd64", tmp_path / "other", python=Path(sys.executable))
    with zipfile.ZipFile(release) as ours, zipfile.ZipFile(other) as theirs:
        assert [n for n in ours.namelist() if not n.endswith(".pyc")] == [
            n for n in theirs.namelist() if not n.endswith(".pyc")
        ]
        for name in (n for n in ours.namelist() if not n.endswith(".pyc")):
            assert ours.read(name) == theirs.read(name), name


def test_the_finder_takes_the_interpreter_its_variable_names(
    packaging: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    monkeypatch.setenv(packaging.python_variable(version), sys.executable)
    assert packaging.find_python(version) == Path(sys.executable)


def test_the_finder_refuses_an_interpreter_of_another_version(
    packaging: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDA_PYTHON_2_7", sys.executable)
    assert packaging.find_python("2.7") is None
    assert packaging.python_missing("2.7") == (
        f"python2.7 is missing: LAMBDA_PYTHON_2_7={sys.executable} is not a working python2.7"
    )


def test_the_release_build_never_falls_back_to_another_python(
    packaging: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LAMBDA_PYTHON_3_13", "none")
    assert packaging.find_python313() is None
    with pytest.raises(packaging.PackagingError, match="LAMBDA_PYTHON_3_13=none says there is"):
        packaging.build_zip("amd64", tmp_path)
    assert list(tmp_path.iterdir()) == []

    result = subprocess.run(
        [sys.executable, str(SCRIPT)],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "LAMBDA_PYTHON_3_13": "none"},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        "package: python3.13 is missing: LAMBDA_PYTHON_3_13=none says there is none\n"
    )


@pytest.fixture(scope="module")
def module_archive(
    packaging: ModuleType, built: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The module archive, built once for the module from the zips above."""
    path: Path = packaging.build_module_archive(built, tmp_path_factory.mktemp("module-archive"))
    return path


def test_module_archive_holds_the_module_both_zips_and_the_license(
    packaging: ModuleType, built: dict[str, Path], module_archive: Path
) -> None:
    version = packaging.read_version()
    assert module_archive.name == f"codedeploy-trigger-module_{version}.zip"
    module_dir = ROOT / "examples" / "terraform"
    chain_dir = module_dir / "modules" / "deployment"
    with zipfile.ZipFile(module_archive) as archive:
        names = archive.namelist()
        # The function zips byte for byte, under the names lambda.tf looks for.
        for arch, path in built.items():
            name = f"dist/codedeploy-trigger_{version}_linux_{arch}.zip"
            assert archive.read(name) == path.read_bytes(), name
        assert archive.read("LICENSE") == (ROOT / "LICENSE").read_bytes()
        # The module at the archive's root, the chain module at //modules/deployment.
        for directory, prefix in ((module_dir, ""), (chain_dir, "modules/deployment/")):
            tf_files = sorted(directory.glob("*.tf"))
            assert tf_files, directory
            for path in tf_files:
                assert archive.read(prefix + path.name) == path.read_bytes(), path.name
        assert archive.read("README.md") == (module_dir / "README.md").read_bytes()
    assert names == sorted(names)
    # Plan-time tests and their fixture zip stay in the repository.
    assert not [name for name in names if "tests" in name.split("/")[:-1]]
    assert len([name for name in names if name.startswith("dist/")]) == 2


def test_module_archive_entries_are_fixed_like_the_function_zips(
    packaging: ModuleType, module_archive: Path
) -> None:
    with zipfile.ZipFile(module_archive) as archive:
        for info in archive.infolist():
            assert not info.is_dir(), info.filename
            assert info.external_attr >> 16 == 0o100644, info.filename
            assert info.compress_type == zipfile.ZIP_DEFLATED, info.filename
            assert info.extra == b"", info.filename
            assert info.date_time == packaging.zip_timestamp(), info.filename


def test_module_archive_build_is_byte_identical(
    packaging: ModuleType, built: dict[str, Path], module_archive: Path, tmp_path: Path
) -> None:
    rebuilt = packaging.build_module_archive(built, tmp_path)
    assert rebuilt.name == module_archive.name
    assert rebuilt.read_bytes() == module_archive.read_bytes()


def test_the_module_looks_for_its_zip_where_the_archive_puts_it(
    packaging: ModuleType, module_archive: Path
) -> None:
    """lambda.tf's fileset() pattern, with each architecture's suffix, matches exactly one
    dist/ entry of the archive: the zip of that architecture."""
    lambda_tf = (ROOT / "examples" / "terraform" / "lambda.tf").read_text(encoding="utf-8")
    found = re.search(
        r'fileset\("\$\{path\.module\}/(?P<dir>[^"]+)", "(?P<pattern>[^"]+)"\)', lambda_tf
    )
    assert found, "lambda.tf no longer looks for a bundled zip with fileset()"
    assert found["dir"] == packaging.MODULE_ZIP_DIR
    with zipfile.ZipFile(module_archive) as archive:
        bundled = [
            name.removeprefix(f"{packaging.MODULE_ZIP_DIR}/")
            for name in archive.namelist()
            if name.startswith(f"{packaging.MODULE_ZIP_DIR}/")
        ]
    for arch in packaging.PLATFORMS:
        pattern = found["pattern"].replace("${local.bundled_zip_arch}", arch)
        matches = [name for name in bundled if fnmatch.fnmatchcase(name, pattern)]
        assert matches == [packaging.zip_name(packaging.read_version(), arch)], (arch, bundled)


def test_a_dist_directory_in_the_source_module_is_refused(
    packaging: ModuleType, tmp_path: Path
) -> None:
    module_dir = tmp_path / "examples" / "terraform"
    (module_dir / "dist").mkdir(parents=True)
    (module_dir / "main.tf").write_text("")
    with pytest.raises(packaging.PackagingError, match="dist exists"):
        list(packaging.iter_module_files(tmp_path))


def test_the_module_archive_needs_a_zip_per_architecture(
    packaging: ModuleType, built: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(packaging.PackagingError, match="needs a zip for each of"):
        packaging.build_module_archive({"amd64": built["amd64"]}, tmp_path)
    swapped = {"amd64": built["arm64"], "arm64": built["amd64"]}
    with pytest.raises(packaging.PackagingError, match="is not the amd64 zip"):
        packaging.build_module_archive(swapped, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_repository_url_flag_prints_the_pyproject_url(packaging: ModuleType) -> None:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        declared = tomllib.load(handle)["project"]["urls"]["Repository"]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--repository-url"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{declared}\n"
    assert packaging.read_repository_url() == declared
