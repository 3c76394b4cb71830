"""The benchmark harness still runs end to end (``make bench`` measures; this only checks shape).

Tiny and fast on purpose: two deployments at a x1200 time scale, detectors in this process
without warm-up, no footprint measurement. No assertion on speed: at this scale the
figures mean nothing, only their presence and correctness do.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.detectors import DETECTORS
from bench.figures import REQUIRED_FIGURES
from bench.run import run_benchmark


def test_the_harness_runs_every_detector_and_writes_its_report(tmp_path: Path) -> None:
    results = run_benchmark(n=2, factor=1200, seed=6, out_dir=tmp_path, quick=True)

    written = json.loads((tmp_path / "results.json").read_text())
    assert set(written["detectors"]) == {detector.name for detector in DETECTORS}
    for name, figures in written["detectors"].items():
        missing = [figure for figure in REQUIRED_FIGURES if figure not in figures]
        assert not missing, f"{name} lacks {missing}"
        assert figures["correct"] is True, (name, figures["mismatches"])
        assert figures["lag_p95_s"] is not None
    ratios = written["comparisons"]["codedeploy_call_ratio_polling_to_event"]
    assert set(ratios) == {"all_deployments", "deployments_ge_5min"}
    assert written["meta"]["scale_factor"] == 1200
    assert {target["verdict"] for target in written["targets"]} <= {"PASS", "FAIL", "INFO", "SKIP"}
    markdown = (tmp_path / "results.md").read_text()
    assert "time scale factor 1200" in markdown
    assert all(detector.name in markdown for detector in DETECTORS)
    assert results["detectors"].keys() == written["detectors"].keys()
