"""Cold start (import time in fresh interpreters) and the release zips' sizes."""

from __future__ import annotations

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
_TIMED_IMPORT = (
    "import time\nt = time.perf_counter()\nimport {module}\nprint(time.perf_counter() - t)\n"
)


@dataclass(frozen=True)
class ImportProbe:
    figure: str
    module: str
    cwd: Path
    env: dict[str, str]


def clean_env() -> dict[str, str]:
    """The environment for child interpreters: ours, minus anything that points at AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")
    return env


def import_seconds(probe: ImportProbe) -> float:
    """One fresh interpreter importing ``probe.module``."""
    completed = subprocess.run(
        [sys.executable, "-c", _TIMED_IMPORT.format(module=probe.module)],
        cwd=probe.cwd,
        env=probe.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def _probes(unpacked: Path | None) -> list[ImportProbe]:
    # cwd = repo root: ``handlers`` imports as in the zip, with the dev venv's .pyc.
    env = clean_env()
    probes = [
        ImportProbe("boto3_import_s", "boto3", ROOT, env),
        ImportProbe("trigger_import_s", "handlers.trigger", ROOT, env),
        ImportProbe("recorder_import_s", "handlers.recorder", ROOT, env),
    ]
    if unpacked is not None:
        # The release zip holds no .pyc and Lambda's /var/task is read-only, so every cold
        # start compiles our modules and Powertools from source: no bytecode is written here
        # either. boto3 comes from the venv, as the runtime provides it (compiled).
        no_cache = env | {"PYTHONDONTWRITEBYTECODE": "1"}
        probes.append(
            ImportProbe("trigger_import_from_zip_s", "handlers.trigger", unpacked, no_cache)
        )
    return probes


def cold_start(runs: int) -> dict[str, Any]:
    """Median import time of each module over ``runs`` fresh interpreters.

    One untimed import first (it writes .pyc where that is allowed, as a deployed venv
    would have them), then rounds in which the modules take turns. A shared host's speed
    drifts between runs by up to 2x, which moves medians of a few hundred ms by more than
    the difference being judged; the ratios to boto3 are therefore taken between the best
    (least disturbed) runs of each module, as timeit advises, and both are reported.
    """
    archive = zip_path("amd64")
    with tempfile.TemporaryDirectory() as directory:
        unpacked = None
        if archive is not None:
            unpacked = Path(directory)
            with zipfile.ZipFile(archive) as release:
                release.extractall(unpacked)
        probes = _probes(unpacked)
        for probe in probes:
            import_seconds(probe)
        samples: dict[str, list[float]] = {probe.figure: [] for probe in probes}
        for _ in range(runs):
            for probe in probes:
                samples[probe.figure].append(import_seconds(probe))
    result: dict[str, Any] = {
        figure: round(statistics.median(values), 4) for figure, values in samples.items()
    }
    best = {figure: min(values) for figure, values in samples.items()}
    result["best_s"] = {figure: round(value, 4) for figure, value in best.items()}
    result["trigger_to_boto3_ratio"] = _ratio(best, "trigger_import_s")
    result["zip_trigger_to_boto3_ratio"] = _ratio(best, "trigger_import_from_zip_s")
    result["runs"] = runs
    result["python"] = sys.version.split()[0]
    return result


def _ratio(best: dict[str, float], figure: str) -> float | None:
    if figure not in best:
        return None
    return round(best[figure] / best["boto3_import_s"], 2)


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
