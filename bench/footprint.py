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
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_TIMED_IMPORTS = """\
import json, time
marks = [time.perf_counter()]
for name in {modules!r}:
    __import__(name)
    marks.append(time.perf_counter())
print(json.dumps([later - earlier for earlier, later in zip(marks, marks[1:])]))
"""


@cache
def packaging() -> ModuleType:
    """The release build (.ci/package.py): the one source of the zip budget, the zips' names
    and what the Lambda runtime provides. Loaded from its file: ``.ci`` is no package."""
    spec = importlib.util.spec_from_file_location("release_packaging", ROOT / ".ci/package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class ImportProbe:
    """One fresh interpreter importing ``modules`` in turn, each timed."""

    figure: str
    modules: tuple[str, ...]
    cwd: Path
    env: dict[str, str]
    interpreter: tuple[str, ...] = (sys.executable,)


def clean_env() -> dict[str, str]:
    """The environment for child interpreters: ours, minus anything that points at AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")
    return env


def import_seconds(probe: ImportProbe) -> list[float]:
    completed = subprocess.run(
        [*probe.interpreter, "-c", _TIMED_IMPORTS.format(modules=probe.modules)],
        cwd=probe.cwd,
        env=probe.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [float(value) for value in json.loads(completed.stdout.strip().splitlines()[-1])]


def _probes(
    unpacked: Path | None, runtime: Path | None, python313: Path | None
) -> list[ImportProbe]:
    # cwd = repo root: ``handlers`` imports as in the zip, with the dev venv's .pyc.
    # The split probes import boto3, then the trigger, in one interpreter: the ratio comes
    # from two timings taken a moment apart on the same machine state.
    env = clean_env()
    both = ("boto3", "handlers.trigger")
    probes = [
        ImportProbe("recorder_import_s", ("handlers.recorder",), ROOT, env),
        ImportProbe("trigger_split", both, ROOT, env),
    ]
    if unpacked is not None and runtime is not None and python313 is not None:
        # As in Lambda: python3.13 without site-packages, the zip (with its cpython-313 .pyc)
        # and the runtime's boto3 (compiled) on the path, /var/task read-only (no bytecode
        # written).
        zip_env = env | {
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": os.pathsep.join([str(unpacked), str(runtime)]),
        }
        probes.append(
            ImportProbe("zip_trigger_split", both, unpacked, zip_env, (str(python313), "-S"))
        )
    return probes


def _python313() -> Path | None:
    """The Lambda runtime's Python, found as the release build finds it (.ci/package.py)."""
    found: Path | None = packaging().find_python313()
    return found


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


def _unpacked_release(directory: Path) -> Path | None:
    archive = zip_path("amd64")
    if archive is None:
        return None
    with zipfile.ZipFile(archive) as release:
        release.extractall(directory)
    return directory


def cold_start(runs: int) -> dict[str, Any]:
    """Median import times over ``runs`` fresh interpreters per probe.

    One untimed round first (it writes .pyc where that is allowed, as a deployed venv would
    have them), then rounds in which the probes take turns. A shared host's speed drifts
    between interpreters by up to 2x, more than the difference being judged, so the ratios
    to boto3 are not ratios of medians: each comes from one interpreter that imports
    boto3, then the trigger, (boto3 + rest) / boto3, and the median of those is reported.
    """
    python313 = _python313()
    with tempfile.TemporaryDirectory() as directory, tempfile.TemporaryDirectory() as runtime:
        unpacked = _unpacked_release(Path(directory))
        runtime_dir = (
            _simulated_runtime(Path(runtime), python313)
            if unpacked is not None and python313 is not None
            else None
        )
        probes = _probes(unpacked, runtime_dir, python313)
        for probe in probes:
            import_seconds(probe)
        samples: dict[str, list[list[float]]] = {probe.figure: [] for probe in probes}
        for _ in range(runs):
            for probe in probes:
                samples[probe.figure].append(import_seconds(probe))
    split, zipped = samples["trigger_split"], samples.get("zip_trigger_split")
    return {
        "boto3_import_s": _median(stages[0] for stages in split),
        # boto3, then the rest: the function's import (from the zip: boto3 as the runtime has it).
        "trigger_import_s": _median(sum(stages) for stages in split),
        "recorder_import_s": _median(sum(stages) for stages in samples["recorder_import_s"]),
        "trigger_import_from_zip_s": _median(sum(stages) for stages in zipped or ()),
        "trigger_to_boto3_ratio": _split_ratio(split),
        "zip_trigger_to_boto3_ratio": _split_ratio(zipped),
        "runs": runs,
        "python": sys.version.split()[0],
    }


def _median(values: Iterable[float], digits: int = 4) -> float | None:
    found = list(values)
    return round(statistics.median(found), digits) if found else None


def _split_ratio(values: list[list[float]] | None) -> float | None:
    return _median(((boto3 + rest) / boto3 for boto3, rest in values or ()), 2)


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
