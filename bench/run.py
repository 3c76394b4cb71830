"""The benchmark's entry point: detectors, then footprint, then the report."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import footprint, notes, report, targets
from bench.detectors import DETECTORS, DetectorRun, measure
from bench.figures import comparisons, detector_figures
from bench.workload import Workload

BENCH_DIR = Path(__file__).resolve().parent
PHASES: tuple[tuple[str, ...], ...] = (
    ("event", "polling", "botocore_waiter"),
    ("event_fixed_1s", "lost_events"),
)
"""Detectors that run at the same time, one process each. The table detectors each keep
50 readers busy; on two cores they disturb each other's timing, so `event` runs beside the
two light pollers, and the baseline (whose lag has a 1 s grain) and `lost_events` (whose
figures hinge on 60 s polls) run second, beside the memory probe."""


def run_phases(n: int, seed: int, factor: float) -> tuple[dict[str, DetectorRun], Any]:
    """Each phase's detectors at once, in fresh interpreters (own GIL, own moto); the memory
    probe here, beside the last phase."""
    runs: dict[str, DetectorRun] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(map(len, PHASES)), mp_context=context) as pool:
        for phase in PHASES:
            futures = {name: pool.submit(measure, name, n, seed, factor) for name in phase}
            rss = peak_rss(factor) if phase == PHASES[-1] else None
            runs.update({name: future.result() for name, future in futures.items()})
    return {d.name: runs[d.name] for d in DETECTORS}, rss


def peak_rss(factor: float) -> dict[str, Any]:
    """The memory probe (bench.rss), a trigger in a process of its own."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "rss.json"
        probe = subprocess.run(
            [sys.executable, "-m", "bench.rss", "over-http", str(out), repr(factor)],
            check=False,
            cwd=footprint.ROOT,
            env=footprint.clean_env(),
            capture_output=True,
            timeout=900 / factor + 300,
        )
        if probe.returncode != 0:
            raise RuntimeError(f"bench.rss failed:\n{probe.stderr.decode()[-2000:]}")
        found: dict[str, Any] = json.loads(out.read_text())
    return found


def print_wrong_results(detectors: dict[str, dict[str, Any]]) -> None:
    """Every wrong result, with the traceback of the exception that ended its worker."""
    for name, figures in detectors.items():
        for wrong in figures["mismatches"]:
            print(
                f"bench: {name}: deployment {wrong['index']} expected {wrong['expected']}, "
                f"got {wrong['got']} ({wrong['error']})\n{wrong['traceback'] or ''}",
                file=sys.stderr,
            )
        for error in figures["harness"]["simulator_errors"]:
            print(f"bench: {name}: the simulator failed:\n{error}", file=sys.stderr)


def run_benchmark(
    n: int, factor: float, seed: int, out_dir: Path, runs: int, command: str, *, quick: bool
) -> None:
    """Run everything, write results.json and results.md into ``out_dir``.

    ``quick`` keeps the harness working cheaply (the smoke test): detectors one after the
    other in this process without warm-up, and no cold start, memory or zip measurement.
    """
    started = time.monotonic()
    measured: dict[str, Any] = dict.fromkeys(("cold_start", "peak_rss_mb", "zip_bytes"))
    if quick:
        detector_runs = {d.name: measure(d.name, n, seed, factor, warm_up=False) for d in DETECTORS}
    else:
        detector_runs, rss = run_phases(n, seed, factor)
        # Import timings last, alone: they are the figures most sensitive to a busy CPU.
        measured = {
            "cold_start": footprint.cold_start(runs),
            "peak_rss_mb": rss["peak_rss_mb"],
            "peak_rss_detail": rss,
            "zip_bytes": footprint.zip_sizes(),
        }
    detectors = {name: detector_figures(run) for name, run in detector_runs.items()}
    print_wrong_results(detectors)
    results: dict[str, Any] = {"detectors": detectors, "comparisons": comparisons(detectors)}
    results.update(measured)
    results["cost"] = notes.cost(detectors, {d.name for d in DETECTORS if d.table}, measured)
    results["targets"] = targets.evaluate(results)
    results["meta"] = {
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "n": n,
        "seed": seed,
        "scale_factor": factor,
        "run_seconds": round(time.monotonic() - started, 1),
        "python": f"Python {platform.python_version()}",
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "detectors_ran": "one after the other in one process, no warm-up (quick)"
        if quick
        else " then ".join("+".join(phase) for phase in PHASES) + ", one process each",
        "workload": Workload.generate(n, seed).summary(),
    }
    results["notes"] = notes.write_notes(results)
    report.write(results, out_dir)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("-n", type=int, default=50, help="deployments at once")
    parser.add_argument("--factor", type=float, default=10.0, help="x faster")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--runs", type=int, default=10, help="interpreters per timing")
    parser.add_argument("--out", type=Path, default=BENCH_DIR, help="results directory")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="structure check only: detectors in this process, no warm-up, no footprint",
    )
    args = parser.parse_args()
    given = sys.argv[1:]
    command = shlex.join(["python", "-m", "bench", *given]) if given else "make bench"
    run_benchmark(args.n, args.factor, args.seed, args.out, args.runs, command, quick=args.quick)
    print((args.out / "results.md").read_text())
