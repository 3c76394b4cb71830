"""The benchmark harness still runs end to end (``make bench`` measures; this only checks shape).

Run as a command, ``python -m bench --quick``, as a user would: the tests never import
``bench`` (which itself builds on ``tests.support``), so the two never import each other.
Tiny and fast on purpose: two deployments at a x1200 time scale, detectors one after the
other without warm-up, no footprint measurement. No assertion on speed: at this scale the
figures mean nothing, only their presence and correctness do.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DETECTORS = {"event", "event_fixed_1s", "polling", "botocore_waiter", "lost_events"}
EVERY_DETECTOR = ("lag_p95_s", "codedeploy_calls_per_deployment", "correct")
TABLE_DETECTORS = {"event", "event_fixed_1s"}  # lost_events: no event ever arrives
TABLE_FIGURES = ("event_delay_p95_s", "lag_after_event_p95_s", "dynamodb_reads_per_deployment")
COSTED = {"event", "polling", "botocore_waiter"}


@pytest.mark.integration  # runs the bench in a subprocess
def test_the_harness_runs_every_detector_and_writes_its_report(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bench", "--quick", "-n", "2", "--factor", "1200"]
    subprocess.run(
        [*command, "--seed", "6", "--out", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )

    written = json.loads((tmp_path / "results.json").read_text())
    assert set(written["detectors"]) == DETECTORS
    for name, figures in written["detectors"].items():
        wanted = EVERY_DETECTOR + (TABLE_FIGURES if name in TABLE_DETECTORS else ())
        missing = [figure for figure in wanted if figures.get(figure) is None]
        assert not missing, f"{name} lacks {missing}"
        assert figures["correct"] is True, (name, figures["mismatches"])
    usd = written["cost"]["usd_per_deployment"]
    assert set(usd) >= COSTED
    assert all(usd[name] > 0 for name in COSTED)
    ratios = written["comparisons"]["codedeploy_call_ratio_polling_to_event"]
    assert set(ratios) == {"all_deployments", "deployments_ge_5min"}
    assert written["meta"]["scale_factor"] == 1200
    assert {target["verdict"] for target in written["targets"]} <= {"PASS", "FAIL", "INFO", "SKIP"}
    markdown = (tmp_path / "results.md").read_text()
    assert "time scale factor 1200" in markdown
    assert all(name in markdown for name in DETECTORS)


def test_tests_never_import_the_bench() -> None:
    """bench builds on tests.support; the other direction would make a cycle."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if any(
            line.startswith(("import bench", "from bench"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []
