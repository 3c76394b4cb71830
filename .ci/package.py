"""Build the release into package/: codedeploy-trigger_<version>_linux_{amd64,arm64}.zip, the
module archive codedeploy-trigger-module_<version>.zip and SHA256SUMS.

Each function zip is what Lambda runs: our handlers/ and shared/ packages and LICENSE, plus the
runtime dependencies from .ci/lambda-requirements.txt, installed by pip for the target platform
and Python 3.13, and bytecode compiled by python3.13.
The module archive is the Terraform module (examples/terraform, its chain module included) with
both function zips under dist/, so that
`source = "<release URL>/codedeploy-trigger-module_<version>.zip"` is a complete module: it picks
the zip of var.architecture when no other zip is given.
The build is reproducible: the same inputs give byte-identical zips, so a release can be checked
by rebuilding it and comparing sha256 sums.

What is NOT shipped, and why (decision of the project lead):
    boto3, botocore, s3transfer, urllib3, python-dateutil and six are left out. The Lambda
    python3.13 runtime provides them, botocore alone is ~13 MB unpacked while the zip budget is
    1.5 MB, and our code only calls long-stable APIs (CodeDeploy CreateDeployment,
    GetDeployment, StopDeployment; DynamoDB Get/Put/Update/DeleteItem; the "standard" retry
    mode), which every boto3 a supported runtime bundles has. jmespath is kept although the
    runtime has it too: powertools needs it and shipping it removes the dependence on the
    runtime's copy.

Run with the dev venv (`make package`); pip downloads the pinned wheels from the package index
(verified with --require-hashes) and caches them, nothing else is fetched.
`python3 .ci/package.py --version` prints the version (pyproject.toml) and builds nothing; it needs
no venv, so the release workflow can compare it with the pushed tag. `--repository-url` prints the
repository's URL ([project.urls] Repository in pyproject.toml, its one home) the same way.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / ".ci" / "lambda-requirements.txt"
PACKAGE_DIR = ROOT / "package"
PROJECT_NAME = "codedeploy-trigger"

# Our code: every .py file (and py.typed) below these directories, __pycache__ excluded, plus
# the data files the code reads (the CreateDeployment schema generated from the service model).
SOURCE_PACKAGES = ("handlers", "shared")
SOURCE_DATA_SUFFIXES = (".json",)
# Files of the repository root shipped at the zip's root: the license the code is under, so the
# release zip carries its terms (the dependencies carry theirs in their dist-info).
SOURCE_ROOT_FILES = ("LICENSE",)

# Written into the zip only (never into the source tree): how the running function knows its
# version without our dist-info. shared/version.py imports it (RELEASE_MODULE there).
GENERATED_VERSION_MODULE = "shared/_release.py"

# The Terraform module shipped as an archive: every file of MODULE_DIR with one of
# MODULE_SUFFIXES (the chain module in modules/deployment included), none below a directory named
# in MODULE_EXCLUDED_DIRS (plan-time tests and their fixtures, a developer's terraform init), plus
# SOURCE_ROOT_FILES at its root and both function zips in MODULE_ZIP_DIR. lambda.tf looks for the
# zip of var.architecture in "${path.module}/dist" when neither lambda_zip_path nor an S3 object
# is given.
MODULE_DIR = Path("examples") / "terraform"
MODULE_SUFFIXES = (".tf", ".tftpl", ".md")
MODULE_EXCLUDED_DIRS = ("tests", ".terraform")
MODULE_ZIP_DIR = "dist"
MODULE_ARCHIVE_PREFIX = f"{PROJECT_NAME}-module"

# The checksum file published next to the zips, in `sha256sum` format (`sha256sum -c` reads it).
CHECKSUMS_NAME = "SHA256SUMS"

# Lambda architecture (as in the zip name) -> pip platform tag of the Lambda runtime's glibc.
PLATFORMS = {"amd64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
# The Lambda runtime's Python: pip selects wheels for it and its interpreter (find_python313)
# compiles the shipped bytecode.
PYTHON_VERSION = "3.13"

# Packaging contract: a zip small enough to upload inline and to review. Decimal megabytes,
# the stricter reading of "1.5 MB".
MAX_ZIP_BYTES = 1_500_000

# What the Lambda python3.13 runtime provides next to the zip, as importable names: the one list
# the release checks and the simulated runtimes (import tests, benchmark cold start) are made from.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "urllib3", "dateutil", "six", "jmespath")
# Shipped although the runtime has it (see the module docstring).
SHIPPED_THOUGH_PROVIDED = ("jmespath",)
# Top-level names (six is a single module) that must not be staged. Finding one means someone
# added it to lambda-requirements.txt: the build stops.
RUNTIME_PROVIDED = (
    *(name for name in RUNTIME_PACKAGES if name not in SHIPPED_THOUGH_PROVIDED),
    "six.py",
)

# Parts of aws-lambda-powertools our code never imports, removed to fit the size budget.
# Kept: Logger (logging/), Metrics (metrics/), Tracer (tracing/, imported by the package
# __init__), middleware_factory/, shared/, warnings/, exceptions/ and the utilities
# idempotency/ (whole: its persistence layers and serializers are imported lazily), typing/
# and jmespath_utils/ (idempotency keys). The contract compiles its schema with fastjsonschema
# itself (a direct dependency), so validation/ goes, and data_classes/ with serialization.py
# (only data_classes imports it). Every entry below was checked: no kept module imports it, except
# shared.functions.pydantic_to_dict -> event_handler.openapi.compat, which is only reached for
# pydantic models and would fail anyway because pydantic is not shipped.
# tests/test_package.py imports our handlers and the powertools modules we use from the zip, with
# the interpreter that compiled it (python3.13 in CI): that is the safety net for this list. A
# path missing here fails the build (a powertools upgrade moved something: re-check the list
# rather than silently ship it all).
POWERTOOLS_PRUNED = (
    "aws_lambda_powertools/event_handler",  # API Gateway/AppSync/Bedrock resolvers, OpenAPI UI
    "aws_lambda_powertools/utilities/auth_alpha",  # JWT validation (needs pyjwt/cryptography)
    "aws_lambda_powertools/utilities/batch",  # SQS/Kinesis/DynamoDB stream batch processing
    "aws_lambda_powertools/utilities/circuit_breaker",
    "aws_lambda_powertools/utilities/data_classes",  # event classes; nothing of ours reads them
    "aws_lambda_powertools/utilities/data_masking",  # needs aws-encryption-sdk
    "aws_lambda_powertools/utilities/feature_flags",  # AppConfig feature flags
    "aws_lambda_powertools/utilities/kafka",  # Kafka consumer (avro/protobuf)
    "aws_lambda_powertools/utilities/parameters",  # SSM/Secrets Manager/AppConfig getters
    "aws_lambda_powertools/utilities/parser",  # pydantic models (pydantic is not shipped)
    "aws_lambda_powertools/utilities/serialization.py",  # base64 helpers of data_classes
    "aws_lambda_powertools/utilities/streaming",  # S3 streaming
    "aws_lambda_powertools/utilities/validation",  # the contract calls fastjsonschema directly
)

# Installer bookkeeping that is stale or machine-specific after our post-processing:
# RECORD lists (and hashes) the pruned files and bin/ scripts; REQUESTED is an empty marker;
# direct_url.json records local wheel paths. METADATA, WHEEL, licenses and INSTALLER stay.
DIST_INFO_DROPPED = ("RECORD", "REQUESTED", "direct_url.json")

# pip's console scripts (jmespath's jp.py) carry a shebang naming the build machine's python.
STAGED_DIRS_DROPPED = ("bin",)

# Fixed zip metadata. 1980-01-01 is the earliest date a zip entry can hold.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r-- (Lambda only needs read access)
ZIP_CREATE_SYSTEM_UNIX = 3  # makes readers honour the Unix mode in external_attr
COMPRESS_LEVEL = 9


class PackagingError(Exception):
    """The inputs cannot produce a valid release zip."""


def read_version(root: Path = ROOT) -> str:
    """Return [project].version from pyproject.toml: the single source of the release version."""
    with (root / "pyproject.toml").open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    if not isinstance(version, str) or not version:
        raise PackagingError("pyproject.toml [project].version must be a non-empty string")
    return version


def zip_name(version: str, arch: str) -> str:
    """Return the release file name, e.g. codedeploy-trigger_0.1.0_linux_amd64.zip."""
    return f"{PROJECT_NAME}_{version}_linux_{arch}.zip"


def module_archive_name(version: str) -> str:
    """Return the module archive's file name, e.g. codedeploy-trigger-module_0.1.0.zip."""
    return f"{MODULE_ARCHIVE_PREFIX}_{version}.zip"


def read_repository_url(root: Path = ROOT) -> str:
    """Return [project.urls] Repository from pyproject.toml: the one home of the repository's URL.

    The README's download and module addresses, the workflows and the docs all spell this URL;
    tests/test_release_files.py checks every mention against it.
    """
    with (root / "pyproject.toml").open("rb") as handle:
        urls = tomllib.load(handle)["project"].get("urls", {})
    url = urls.get("Repository")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise PackagingError("pyproject.toml [project.urls] Repository must be an https:// URL")
    return url.rstrip("/")


def version_module_source(version: str) -> str:
    """Return the text of the generated version module (a plain, importable constant)."""
    return (
        '"""Generated by .ci/package.py from pyproject.toml: the version of this release zip."""\n'
        "\n"
        f"VERSION = {version!r}\n"
    )


def write_version_module(target: Path, version: str) -> None:
    """Write GENERATED_VERSION_MODULE into the staged tree; a file already there is an error."""
    destination = target / GENERATED_VERSION_MODULE
    if destination.exists():
        raise PackagingError(
            f"{GENERATED_VERSION_MODULE} is generated into the zip and must not exist in the "
            "source tree: delete it"
        )
    destination.write_text(version_module_source(version), encoding="utf-8")


def zip_timestamp() -> tuple[int, int, int, int, int, int]:
    """Return the entry timestamp: SOURCE_DATE_EPOCH if set (reproducible-builds.org), else 1980.

    Zip timestamps cannot predate 1980, so earlier epochs are clamped.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return ZIP_EPOCH
    stamp = time.gmtime(int(epoch))[:6]
    return max(ZIP_EPOCH, (stamp[0], stamp[1], stamp[2], stamp[3], stamp[4], stamp[5]))


def install_dependencies(target: Path, arch: str, requirements: Path = REQUIREMENTS) -> None:
    """pip-install the pinned, hashed runtime dependencies for the Lambda platform into target.

    --no-deps makes the requirements file the whole closure (nothing resolved behind our back),
    --require-hashes pins the exact wheel files, --only-binary with --platform/--python-version/
    --implementation selects wheels for the runtime instead of the build machine, and
    --no-compile keeps .pyc files (interpreter- and time-dependent) out of the tree.
    """
    command = [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-input",
        "--platform", PLATFORMS[arch],
        "--only-binary=:all:",
        "--python-version", PYTHON_VERSION,
        "--implementation", "cp",
        "--target", str(target),
        "--no-deps", "--no-compile", "--require-hashes",
        "-r", str(requirements),
    ]  # fmt: skip
    subprocess.run(command, check=True)


def prune_dependencies(target: Path) -> None:
    """Remove unused powertools subpackages, installer bookkeeping and bytecode from target.

    Fails if a pruned path is missing, so a dependency upgrade cannot silently change the list.
    """
    for relative in POWERTOOLS_PRUNED:
        path = target / relative
        if not path.exists():
            raise PackagingError(f"prune list is out of date: {relative} does not exist")
        _remove(path)
    for name in STAGED_DIRS_DROPPED:
        _remove(target / name)
    for dist_info in target.glob("*.dist-info"):
        for name in DIST_INFO_DROPPED:
            _remove(dist_info / name)
    for cache in list(target.rglob("__pycache__")):
        _remove(cache)
    for compiled in list(target.rglob("*.py[co]")):
        _remove(compiled)


def _remove(path: Path) -> None:
    """Delete a file or a directory tree; a missing path is not an error."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def check_no_runtime_packages(target: Path) -> None:
    """Refuse runtime-provided packages: they would shadow the runtime's copy and bloat the zip."""
    found = sorted(name for name in RUNTIME_PROVIDED if (target / name).exists())
    if found:
        raise PackagingError(f"runtime-provided packages must not be shipped: {', '.join(found)}")


def iter_source_files(source_root: Path) -> Iterator[Path]:
    """Yield our shipped files (relative to source_root): *.py, data, py.typed, no __pycache__,
    then SOURCE_ROOT_FILES (a missing one is an error: a release never ships without its license).
    """
    for package in SOURCE_PACKAGES:
        package_dir = source_root / package
        files = sorted(
            path.relative_to(source_root)
            for path in package_dir.rglob("*")
            if path.is_file()
            and (path.suffix in (".py", *SOURCE_DATA_SUFFIXES) or path.name == "py.typed")
            and "__pycache__" not in path.relative_to(source_root).parts
        )
        if not any(path.suffix == ".py" for path in files):
            raise PackagingError(f"{package_dir} holds no .py file: nothing to ship")
        yield from files
    for name in SOURCE_ROOT_FILES:
        if not (source_root / name).is_file():
            raise PackagingError(f"{source_root / name} is missing: every release zip ships it")
        yield Path(name)


def stage_sources(source_root: Path, target: Path) -> None:
    """Copy our packages next to the dependencies; a name clash with a dependency is an error."""
    for relative in iter_source_files(source_root):
        destination = target / relative
        if destination.exists():
            raise PackagingError(f"{relative} clashes with a file installed by a dependency")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_root / relative, destination)


def staged_entries(target: Path) -> list[str]:
    """Return every staged file as a sorted POSIX path: the zip's entry order.

    Sorting makes the order independent of the file system; directories get no entry of their
    own (unzip, Lambda included, creates them from the file paths).
    """
    files = (path for path in target.rglob("*") if path.is_file())
    return sorted(path.relative_to(target).as_posix() for path in files)


def write_zip(target: Path, destination: Path) -> None:
    """Write the staged tree to destination with fixed order, time, mode and compression.

    Only the file bytes vary between builds of the same inputs: entries carry no extra fields,
    the same timestamp and the same Unix mode, and are deflated at a fixed level.
    """
    timestamp = zip_timestamp()
    with zipfile.ZipFile(destination, "w") as archive:
        for name in staged_entries(target):
            info = zipfile.ZipInfo(name, date_time=timestamp)
            info.create_system = ZIP_CREATE_SYSTEM_UNIX
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (target / name).read_bytes(), compresslevel=COMPRESS_LEVEL)


def write_atomically(target: Path, destination: Path) -> None:
    """Zip target into a temporary file beside destination, then rename it into place.

    A failed or interrupted build never leaves a truncated zip under the release name.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".", suffix=".zip.tmp")
    os.close(handle)
    try:
        write_zip(target, Path(temporary))
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; a release file is world-readable
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# Where Lambda unpacks the zip: compiled code names its source files under this directory, so
# tracebacks read as in Lambda and the bytecode does not depend on the build's temp directory.
LAMBDA_TASK_ROOT = "/var/task"


def python_variable(version: str) -> str:
    """The environment variable that names the python<version> to use, e.g. LAMBDA_PYTHON_3_13."""
    return f"LAMBDA_PYTHON_{version.replace('.', '_')}"


# A python_variable() value meaning "there is none": searches nothing, as on a machine without
# that Python (how `make test` is checked to pass there on a machine that has one).
PYTHON_NONE = "none"


def _runs_python(candidate: Path, version: str) -> bool:
    """Whether candidate runs and is CPython version (a pyenv shim may exist but not resolve)."""
    try:
        result = subprocess.run(
            [str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and result.stdout.strip() == version


def _pyenv_roots() -> list[Path]:
    """pyenv's roots: $PYENV_ROOT, `pyenv root`, ~/.pyenv (pyenv need not be on PATH)."""
    roots: list[Path] = []
    if os.environ.get("PYENV_ROOT"):
        roots.append(Path(os.environ["PYENV_ROOT"]))
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            root = subprocess.run(
                [pyenv, "root"], capture_output=True, text=True, timeout=30, check=False
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            root = ""
        if root:
            roots.append(Path(root))
    roots.append(Path.home() / ".pyenv")
    return list(dict.fromkeys(roots))


def _patch_level(interpreter: Path) -> tuple[int, ...]:
    """(3, 13, 10) for .../versions/3.13.10/bin/python3.13: newest patch first, numerically."""
    release = interpreter.parent.parent.name.split("-")[0]
    return tuple(int(part) if part.isdigit() else -1 for part in release.split("."))


def python_candidates(version: str = PYTHON_VERSION) -> list[Path]:
    """The interpreters find_python() tries, in order.

    The python_variable() override alone when set; else pyenv's installed versions (newest
    patch first), then python<version> on PATH. pyenv's shims are skipped: they only resolve
    the pyenv-selected versions, and only with the dev shell's PATH.
    """
    override = os.environ.get(python_variable(version), "").strip()
    if override:
        return [] if override.lower() == PYTHON_NONE else [Path(override)]
    candidates: list[Path] = []
    for root in _pyenv_roots():
        found = (root / "versions").glob(f"{version}*/bin/python{version}")
        candidates += sorted(found, key=_patch_level, reverse=True)
    on_path = shutil.which(f"python{version}")
    if on_path and Path(on_path).parent.name != "shims":
        candidates.append(Path(on_path))
    return list(dict.fromkeys(candidates))


def find_python(version: str = PYTHON_VERSION) -> Path | None:
    """A working CPython <version> ("3.13": the Lambda runtime's), or None.

    The one finder of the project: the release build compiles the zips' bytecode with it, the
    packaging tests import the zip with it, the e2e emulator runs the functions with it and the
    benchmark times the zip's cold start with it.
    """
    return next((c for c in python_candidates(version) if _runs_python(c, version)), None)


def find_python313() -> Path | None:
    """The Lambda runtime's Python (PYTHON_VERSION), or None."""
    return find_python(PYTHON_VERSION)


def python_missing(version: str = PYTHON_VERSION) -> str:
    """Why find_python(version) found nothing, and how to provide it."""
    variable = python_variable(version)
    override = os.environ.get(variable, "").strip()
    if override.lower() == PYTHON_NONE:
        return f"python{version} is missing: {variable}={override} says there is none"
    if override:
        return f"python{version} is missing: {variable}={override} is not a working python{version}"
    tried = [str(c) for c in python_candidates(version)] or "nothing"
    return (
        f"python{version} is missing (tried {tried}). Install it with `pyenv install {version}`, "
        f"put a python{version} on PATH (e.g. the OS package python{version}), or set "
        f"{variable} to an interpreter."
    )


def compile_bytecode(target: Path, python: Path) -> None:
    """Ship __pycache__/*.cpython-313.pyc for every module in target, compiled by python.

    Lambda's /var/task is read-only, so without them every cold start compiles powertools and
    our code from source (about 1.7x the import time of boto3 alone instead of 1.2x).
    unchecked-hash pycs hold a hash of the source instead of its mtime, are trusted without
    re-reading the source, and so are both valid for the zip's fixed timestamps and
    reproducible; PYTHONHASHSEED=0 fixes the order of set constants.
    """
    command = [
        str(python), "-m", "compileall", "-q", "-j", "1",
        "--invalidation-mode", "unchecked-hash",
        "-s", str(target), "-p", LAMBDA_TASK_ROOT,
        str(target),
    ]  # fmt: skip
    environment = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": ""}
    subprocess.run(command, check=True, env=environment)


def build_zip(
    arch: str, out_dir: Path, source_root: Path = ROOT, python: Path | None = None
) -> Path:
    """Build the zip for one architecture into out_dir and return its path.

    source_root is where handlers/, shared/, LICENSE and pyproject.toml are read (the repo by
    default); the staging happens in a temporary directory that is always removed. python
    compiles the bytecode: the Lambda runtime's python3.13 unless given. Only the .pyc files
    depend on it (the wheels are chosen by --platform/--python-version, not by the interpreter
    running pip), so the tests build with another Python where python3.13 is missing.
    """
    if arch not in PLATFORMS:
        raise PackagingError(f"unknown architecture {arch!r}; expected one of {sorted(PLATFORMS)}")
    compiler = python or find_python313()
    if compiler is None:
        raise PackagingError(python_missing())
    version = read_version(source_root)
    destination = out_dir / zip_name(version, arch)
    with tempfile.TemporaryDirectory(prefix=f"{PROJECT_NAME}-{arch}-") as staging:
        target = Path(staging)
        install_dependencies(target, arch)
        prune_dependencies(target)
        check_no_runtime_packages(target)
        stage_sources(source_root, target)
        write_version_module(target, version)
        compile_bytecode(target, compiler)
        write_atomically(target, destination)
    return destination


def iter_module_files(source_root: Path = ROOT) -> Iterator[Path]:
    """Yield the module's shipped files, relative to MODULE_DIR, sorted.

    A dist/ in the source module is refused: in the archive that directory holds the release's
    function zips, and a stale local copy must not take their place.
    """
    module_dir = source_root / MODULE_DIR
    if (module_dir / MODULE_ZIP_DIR).exists():
        raise PackagingError(
            f"{MODULE_DIR / MODULE_ZIP_DIR} exists: that directory of the module archive holds the "
            "release's function zips and is generated; delete it"
        )
    files = sorted(
        path.relative_to(module_dir)
        for path in module_dir.rglob("*")
        if path.is_file()
        and path.suffix in MODULE_SUFFIXES
        and not set(path.relative_to(module_dir).parts[:-1]) & set(MODULE_EXCLUDED_DIRS)
    )
    if not any(path.suffix == ".tf" and len(path.parts) == 1 for path in files):
        raise PackagingError(f"{module_dir} holds no .tf file: no module to ship")
    yield from files


def build_module_archive(
    function_zips: Mapping[str, Path], out_dir: Path, source_root: Path = ROOT
) -> Path:
    """Build out_dir/codedeploy-trigger-module_<version>.zip from the module and the zips.

    function_zips maps each architecture of PLATFORMS to its built zip (build_zip), shipped
    byte for byte under dist/ with its release name. Entries get the same fixed order, time,
    mode and compression as the function zips, so the archive is reproducible too.
    """
    version = read_version(source_root)
    if set(function_zips) != set(PLATFORMS):
        raise PackagingError(
            f"the module archive needs a zip for each of {sorted(PLATFORMS)}; "
            f"got {sorted(function_zips)}"
        )
    destination = out_dir / module_archive_name(version)
    with tempfile.TemporaryDirectory(prefix=f"{MODULE_ARCHIVE_PREFIX}-") as staging:
        target = Path(staging)
        for relative in iter_module_files(source_root):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source_root / MODULE_DIR / relative, target / relative)
        for name in SOURCE_ROOT_FILES:
            if not (source_root / name).is_file():
                raise PackagingError(f"{source_root / name} is missing: every release zip ships it")
            shutil.copyfile(source_root / name, target / name)
        (target / MODULE_ZIP_DIR).mkdir()
        for arch, path in sorted(function_zips.items()):
            if path.name != zip_name(version, arch):
                raise PackagingError(
                    f"{path.name} is not the {arch} zip of version {version} "
                    f"({zip_name(version, arch)})"
                )
            shutil.copyfile(path, target / MODULE_ZIP_DIR / path.name)
        write_atomically(target, destination)
    return destination


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file: what a release note or a rebuild check compares."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_checksums(paths: list[Path], out_dir: Path) -> Path:
    """Write out_dir/SHA256SUMS for paths (sorted by name) in `sha256sum` format and return it.

    The file lists only this build's zips and module archive (package/ may hold older ones);
    `sha256sum -c --ignore-missing SHA256SUMS` then checks a downloaded file.
    """
    lines = [f"{sha256_of(path)}  {path.name}\n" for path in sorted(paths, key=lambda p: p.name)]
    destination = out_dir / CHECKSUMS_NAME
    destination.write_text("".join(lines), encoding="utf-8")
    return destination


def python313_version(python: Path) -> str:
    """Return the full version (e.g. 3.13.0) of the interpreter that compiles the bytecode.

    The shipped .pyc files are its compiler's output: rebuilding a release byte for byte needs
    the same patch level, so the build prints it and the release workflow pins it.
    """
    return subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout.strip()  # fmt: skip


def describe(path: Path) -> str:
    """Return the one-line report for a built zip: path, size in bytes and MB, sha256."""
    size = path.stat().st_size
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"{shown}  {size} bytes ({size / 1_000_000:.3f} MB)  sha256:{sha256_of(path)}"


def main(argv: list[str]) -> int:
    """Build both zips, the module archive and SHA256SUMS into package/, print them, fail if a
    function zip is over budget.

    With --version (--repository-url), print the version (the repository's URL) and build nothing.
    """
    if argv == ["--version"]:
        print(read_version())
        return 0
    if argv == ["--repository-url"]:
        try:
            print(read_repository_url())
        except PackagingError as error:
            print(f"package: {error}", file=sys.stderr)
            return 1
        return 0
    if argv:
        print("usage: package.py [--version | --repository-url]", file=sys.stderr)
        return 2
    started = time.monotonic()
    oversized = []
    built = []
    try:
        python = find_python313()
        if python is None:
            raise PackagingError(python_missing())
        print(f"bytecode compiled by Python {python313_version(python)} ({python})")
        for arch in PLATFORMS:
            path = build_zip(arch, PACKAGE_DIR, python=python)
            built.append(path)
            print(describe(path))
            if path.stat().st_size > MAX_ZIP_BYTES:
                oversized.append(path.name)
        # The budget is the function zips': the module archive is two of them plus text.
        archive = build_module_archive(dict(zip(PLATFORMS, built, strict=True)), PACKAGE_DIR)
        print(describe(archive))
        print(describe(write_checksums([*built, archive], PACKAGE_DIR)))
    except (PackagingError, subprocess.CalledProcessError) as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    print(f"built in {time.monotonic() - started:.1f} s")
    if oversized:
        print(f"package: over {MAX_ZIP_BYTES} bytes: {', '.join(oversized)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
