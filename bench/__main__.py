"""``python -m bench`` (``make bench``): run the benchmark and print results.md."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from bench.run import (
    BENCH_DIR,
    DEFAULT_FACTOR,
    DEFAULT_N,
    DEFAULT_RUNS,
    DEFAULT_SEED,
    run_benchmark,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("-n", type=int, default=DEFAULT_N, help="deployments at once")
    parser.add_argument(
        "--factor", type=float, default=DEFAULT_FACTOR, help="time scale factor (x faster)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS, help="fresh interpreters per import timing"
    )
    parser.add_argument("--out", type=Path, default=BENCH_DIR, help="results directory")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="structure check only: detectors in this process, no warm-up, no footprint",
    )
    args = parser.parse_args(argv)
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    run_benchmark(
        n=args.n,
        factor=args.factor,
        seed=args.seed,
        out_dir=args.out,
        footprint_runs=args.runs,
        quick=args.quick,
        command="make bench (python -m bench)" if argv is None and len(sys.argv) == 1 else command,
    )
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
