"""Cold start (import time in fresh interpreters) and the release zips' sizes."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# boto3, then the trigger, each timed, in one interpreter: the ratio comes from two timings
# taken a moment apart on the same machine state.
_TIMED_IMPORTS = """\
import json, time
start = time.perf_counter()
import boto3
middle = time.perf_counter()
import handlers.trigger
print(json.dumps([middle - start, time.perf_counter() - middle]))
"""


@cache
def packaging() -> ModuleType:
    """The release build (.ci/package.py): the one source of the zip budget, the zips' names,
    what the Lambda runtime provides and where python3.13 is. Loaded from its file: ``.ci`` is
    no package."""
    spec = importlib.util.spec_from_file_location("release_packaging", ROOT / ".ci/package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clean_env() -> dict[str, str]:
    """The environment for child interpreters: ours, minus anything that points at AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")
    return env


def import_seconds(interpreter: list[str], cwd: Path, env: dict[str, str]) -> list[float]:
    """[boto3, the rest of the trigger] in seconds, from one fresh interpreter."""
    completed = subprocess.run(
        [*interpreter, "-c", _TIMED_IMPORTS],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [float(value) for value in json.loads(completed.stdout.strip().splitlines()[-1])]


def _simulated_runtime(directory: Path, python313: Path) -> Path:
    """What the runtime provides, copied from the dev venv and compiled for python3.13 (as in
    the runtime image)."""
    for name in packaging().RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        source = Path(spec.origin)
        if spec.submodule_search_locations:  # a package: its directory
            ignore = shutil.ignore_patterns("*.pyc", "__pycache__")
            shutil.copytree(source.parent, directory / source.parent.name, ignore=ignore)
        else:
            shutil.copy2(source, directory / source.name)
    subprocess.run(
        [str(python313), "-m", "compileall", "-q", str(directory)], check=True, timeout=600
    )
    return directory


def cold_start(runs: int) -> dict[str, Any]:
    """Median import times over ``runs`` fresh interpreters per probe.

    Probes: the dev venv from the repository root (``handlers`` imports as in the zip, with the
    venv's .pyc), and, when ``make package`` built it and python3.13 is found, the release zip
    as in Lambda: python3.13 without site-packages, the zip (with its cpython-313 .pyc) and the
    runtime's boto3 (compiled) on the path, /var/task read-only (no bytecode written).

    One untimed round first (it writes .pyc where that is allowed, as a deployed venv would
    have them), then rounds in which the probes take turns. A shared host's speed drifts
    between interpreters by up to 2x, more than the difference being judged, so the ratios
    to boto3 are not ratios of medians: each comes from one interpreter that imports
    boto3, then the trigger, (boto3 + rest) / boto3, and the median of those is reported.
    """
    archive, python313 = zip_path("amd64"), packaging().find_python313()
    env = clean_env()
    probes = {"dev": ([sys.executable], ROOT, env)}
    with tempfile.TemporaryDirectory() as unpacked, tempfile.TemporaryDirectory() as runtime:
        if archive is not None and python313 is not None:
            with zipfile.ZipFile(archive) as release:
                release.extractall(unpacked)
            path = [unpacked, str(_simulated_runtime(Path(runtime), python313))]
            zip_env = env | {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": os.pathsep.join(path)}
            probes["zip"] = ([str(python313), "-S"], Path(unpacked), zip_env)
        for probe in probes.values():
            import_seconds(*probe)
        samples: dict[str, list[list[float]]] = {name: [] for name in probes}
        for _ in range(runs):
            for name, probe in probes.items():
                samples[name].append(import_seconds(*probe))
    dev, zipped = samples["dev"], samples.get("zip", [])
    return {
        "boto3_import_s": _median(boto3 for boto3, _ in dev),
        # boto3, then the rest: the function's import (from the zip: boto3 as the runtime has it).
        "trigger_import_s": _median(map(sum, dev)),
        "trigger_import_from_zip_s": _median(map(sum, zipped)),
        "trigger_to_boto3_ratio": _median(((b + rest) / b for b, rest in dev), 2),
        "zip_trigger_to_boto3_ratio": _median(((b + rest) / b for b, rest in zipped), 2),
        "runs": runs,
        "python": sys.version.split()[0],
    }


def _median(values: Iterable[float], digits: int = 4) -> float | None:
    found = list(values)
    return round(statistics.median(found), digits) if found else None


def zip_path(arch: str) -> Path | None:
    """The release zip ``make package`` wrote for ``arch``, if it did."""
    release = packaging()
    path = Path(release.PACKAGE_DIR) / release.zip_name(release.read_version(), arch)
    return path if path.is_file() else None


def zip_sizes() -> dict[str, int] | None:
    sizes = {
        arch: path.stat().st_size for arch in packaging().PLATFORMS if (path := zip_path(arch))
    }
    return sizes or None
