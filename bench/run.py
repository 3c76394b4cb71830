"""The benchmark's entry point: detectors, then footprint, then the report."""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import footprint, notes, report, targets
from bench.cost import cost_figures
from bench.detectors import DETECTORS, DetectorRun, measure
from bench.figures import comparisons, detector_figures
from bench.workload import Workload

DEFAULT_N = 50
DEFAULT_FACTOR = 10.0
DEFAULT_SEED = 6
DEFAULT_RUNS = 10
BENCH_DIR = Path(__file__).resolve().parent


PHASES: tuple[tuple[str, ...], ...] = (
    ("event", "polling", "botocore_waiter"),
    ("event_fixed_1s", "lost_events"),
)
"""Detectors that run at the same time, one process each. The table detectors each keep
50 readers busy; on two cores they disturb each other's timing, so `event` runs beside the
two light pollers, and the baseline (whose lag has a 1 s grain) and `lost_events` (whose
figures hinge on 60 s polls) run second, beside the memory probes."""


def run_quick(n: int, seed: int, factor: float) -> dict[str, DetectorRun]:
    """One after the other in this process, without warm-up (structure checks)."""
    return {d.name: measure(d.name, n, seed, factor, warm_up=False) for d in DETECTORS}


def run_phases(
    n: int, seed: int, factor: float, beside_last: Callable[[], Any]
) -> tuple[dict[str, DetectorRun], Any]:
    """Each phase's detectors at once, in fresh interpreters (own GIL, own moto);
    ``beside_last`` runs here while the last phase runs."""
    runs: dict[str, DetectorRun] = {}
    extra: Any = None
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(map(len, PHASES)), mp_context=context) as pool:
        for number, phase in enumerate(PHASES, start=1):
            futures = {name: pool.submit(measure, name, n, seed, factor) for name in phase}
            if number == len(PHASES):
                extra = beside_last()
            runs.update({name: future.result() for name, future in futures.items()})
    return {d.name: runs[d.name] for d in DETECTORS}, extra


def _probe(mode: str, factor: float, workdir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "bench.rss", mode),
            *("--out", str(workdir / f"{mode}.json"), "--factor", repr(factor)),
        ],
        cwd=footprint.ROOT,
        env=footprint.clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def peak_rss(factor: float) -> dict[str, Any]:
    """Both memory probes at once (see bench.rss)."""
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        probes = {mode: _probe(mode, factor, workdir) for mode in ("over-http", "in-process")}
        found: dict[str, Any] = {}
        for mode, process in probes.items():
            _, stderr = process.communicate(timeout=900 / factor + 300)
            if process.returncode != 0:
                raise RuntimeError(f"bench.rss {mode} failed:\n{stderr.decode()[-2000:]}")
            found[mode] = json.loads((workdir / f"{mode}.json").read_text())
    return found


def request_validation_ms(runs: int = 5) -> float:
    """CPU time the contract spends validating one typical request (warm, this process)."""
    from bench.names import request_for
    from shared.contract import parse_request

    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        parse_request(request_for(0), "tf")
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def footprint_figures(rss: dict[str, Any], runs: int) -> dict[str, Any]:
    cold = footprint.cold_start(runs)
    cold["request_validation_ms"] = request_validation_ms()
    return {
        "cold_start": cold,
        "peak_rss_mb": rss["over-http"]["peak_rss_mb"],
        "peak_rss_mb_with_moto": rss["in-process"]["peak_rss_mb"],
        "peak_rss_detail": rss["over-http"],
        "zip_bytes": footprint.zip_sizes(),
    }


def skipped_footprint() -> dict[str, Any]:
    return {
        "cold_start": None,
        "peak_rss_mb": None,
        "peak_rss_mb_with_moto": None,
        "peak_rss_detail": None,
        "zip_bytes": None,
    }


def _meta(
    n: int, seed: int, factor: float, command: str, seconds: float, *, quick: bool
) -> dict[str, Any]:
    return {
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "n": n,
        "seed": seed,
        "scale_factor": factor,
        "run_seconds": round(seconds, 1),
        "python": f"Python {platform.python_version()}",
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "detectors_ran": "one after the other in one process, no warm-up (quick)"
        if quick
        else " then ".join("+".join(phase) for phase in PHASES) + ", one process each",
        "workload": Workload.generate(n, seed).summary(),
    }


def run_benchmark(
    *,
    n: int = DEFAULT_N,
    factor: float = DEFAULT_FACTOR,
    seed: int = DEFAULT_SEED,
    out_dir: Path = BENCH_DIR,
    footprint_runs: int = DEFAULT_RUNS,
    command: str = "make bench",
    quick: bool = False,
) -> dict[str, Any]:
    """Run everything, write results.json and results.md into ``out_dir``, return results.

    ``quick`` keeps the harness working cheaply (the smoke test): detectors one after the
    other in this process without warm-up, and no cold start, memory or zip measurement.
    """
    started = time.monotonic()
    if quick:
        runs, measured = run_quick(n, seed, factor), skipped_footprint()
    else:
        runs, rss = run_phases(n, seed, factor, lambda: peak_rss(factor))
        # Import timings last, alone: they are the figures most sensitive to a busy CPU.
        measured = footprint_figures(rss, footprint_runs)
    detectors = {name: detector_figures(run) for name, run in runs.items()}
    results: dict[str, Any] = {
        "detectors": detectors,
        "comparisons": comparisons(detectors),
        **measured,
    }
    table_detectors = {detector.name for detector in DETECTORS if detector.table}
    results["cost"] = cost_figures(detectors, table_detectors, measured)
    results["targets"] = targets.evaluate(results)
    results["meta"] = _meta(n, seed, factor, command, time.monotonic() - started, quick=quick)
    results["notes"] = notes.write_notes(results)
    report.write(results, out_dir)
    return results
