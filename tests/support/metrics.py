"""What the Powertools metrics of an invocation said, read from its EMF output."""

from __future__ import annotations

import json
from typing import Any


def emf_metrics(output: str) -> dict[str, Any]:
    """Metric name -> value from the EMF blobs Powertools printed."""
    found: dict[str, Any] = {}
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                found[metric["Name"]] = blob[metric["Name"]]
    return found
