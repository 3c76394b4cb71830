"""Cold start (import time in fresh interpreters) and the release zips' sizes."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "codedeploy-trigger"
ARCHITECTURES = ("amd64", "arm64")
_TIMED_IMPORTS = """\
import json, time
marks = [time.perf_counter()]
for name in {modules!r}:
    __import__(name)
    marks.append(time.perf_counter())
print(json.dumps([later - earlier for earlier, later in zip(marks, marks[1:])]))
"""


@dataclass(frozen=True)
class ImportProbe:
    """One fresh interpreter importing ``modules`` in turn, each timed."""

    figure: str
    modules: tuple[str, ...]
    cwd: Path
    env: dict[str, str]


def clean_env() -> dict[str, str]:
    """The environment for child interpreters: ours, minus anything that points at AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")
    return env


def import_seconds(probe: ImportProbe) -> list[float]:
    completed = subprocess.run(
        [sys.executable, "-c", _TIMED_IMPORTS.format(modules=probe.modules)],
        cwd=probe.cwd,
        env=probe.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [float(value) for value in json.loads(completed.stdout.strip().splitlines()[-1])]


def _probes(unpacked: Path | None) -> list[ImportProbe]:
    # cwd = repo root: ``handlers`` imports as in the zip, with the dev venv's .pyc.
    # The *_split probes import boto3, then the trigger, in one interpreter: the ratio
    # comes from two timings taken a moment apart on the same machine state.
    env = clean_env()
    trigger, both = ("handlers.trigger",), ("boto3", "handlers.trigger")
    probes = [
        ImportProbe("boto3_import_s", ("boto3",), ROOT, env),
        ImportProbe("trigger_import_s", trigger, ROOT, env),
        ImportProbe("recorder_import_s", ("handlers.recorder",), ROOT, env),
        ImportProbe("trigger_split", both, ROOT, env),
    ]
    if unpacked is not None:
        # The release zip holds no .pyc and Lambda's /var/task is read-only, so every cold
        # start compiles our modules and Powertools from source: no bytecode is written here
        # either. boto3 comes from the venv, as the runtime provides it (compiled).
        no_cache = env | {"PYTHONDONTWRITEBYTECODE": "1"}
        probes.append(ImportProbe("zip_trigger_split", both, unpacked, no_cache))
    return probes


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
    with tempfile.TemporaryDirectory() as directory:
        probes = _probes(_unpacked_release(Path(directory)))
        for probe in probes:
            import_seconds(probe)
        samples: dict[str, list[list[float]]] = {probe.figure: [] for probe in probes}
        for _ in range(runs):
            for probe in probes:
                samples[probe.figure].append(import_seconds(probe))
    result: dict[str, Any] = {
        figure: round(statistics.median(sum(stages) for stages in values), 4)
        for figure, values in samples.items()
        if not figure.endswith("_split")
    }
    zipped = samples.get("zip_trigger_split")
    # boto3 (as the runtime provides it) + the rest from the zip = the function's import.
    result["trigger_import_from_zip_s"] = (
        round(statistics.median(sum(stages) for stages in zipped), 4) if zipped else None
    )
    result["trigger_to_boto3_ratio"] = _split_ratio(samples.get("trigger_split"))
    result["zip_trigger_to_boto3_ratio"] = _split_ratio(zipped)
    result["runs"] = runs
    result["python"] = sys.version.split()[0]
    return result


def _split_ratio(values: list[list[float]] | None) -> float | None:
    if not values:
        return None
    return round(statistics.median((boto3 + rest) / boto3 for boto3, rest in values), 2)


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def zip_path(arch: str) -> Path | None:
    """package/codedeploy-trigger_<version>_linux_<arch>.zip, when built."""
    path = ROOT / "package" / f"{PROJECT}_{project_version()}_linux_{arch}.zip"
    return path if path.is_file() else None


def zip_sizes() -> dict[str, int] | None:
    sizes = {arch: path.stat().st_size for arch in ARCHITECTURES if (path := zip_path(arch))}
    return sizes or None
